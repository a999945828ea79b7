"""Operators, their sites and their gates: set up by the local administrator (CLI)."""

from __future__ import annotations

from typing import Any

from ..domain import fields
from ..errors import Conflict, NotAuthorized, NotFound
from ..store.unit_of_work import UnitOfWork
from .context import Facegate

__all__ = ["add_operator", "add_site", "add_gate", "ensure_site", "describe"]


def _local_only(app: Facegate) -> None:
    if app.principal is not None:
        raise NotAuthorized("Operators, sites and gates are set up with the facegate command on the server.")


def add_operator(app: Facegate, code: str, name: str | None = None) -> dict[str, str]:
    _local_only(app)
    code = fields.code(code, "The operator code", 64, upper=True)
    name = fields.free_text(name or code, "The operator name", 128)
    with app.store.transaction() as uow:
        if uow.tenancy.operator(code) is not None:
            raise Conflict(f"Operator {code} already exists.")
        uow.tenancy.add_operator(code, name)
        uow.events.audit(app.actor, "operator.add", code)
    return {"operator": code, "name": name}


def add_site(app: Facegate, code: str, operator: str, name: str | None = None) -> dict[str, str]:
    _local_only(app)
    code = fields.code(code, "The site code", 16, upper=True)
    operator = fields.code(operator, "The operator code", 64, upper=True)
    name = fields.free_text(name or code, "The site name", 128)
    with app.store.transaction() as uow:
        if uow.tenancy.operator(operator) is None:
            raise NotFound(f"No operator {operator}; add it first with `facegate operators add {operator}`.")
        existing = uow.tenancy.site(code)
        if existing is not None:
            raise Conflict(f"Site {code} already exists (operator {existing.operator}).")
        uow.tenancy.add_site(code, operator, name)
        uow.events.audit(app.actor, "site.add", code, operator=operator)
    return {"site": code, "operator": operator, "name": name}


def add_gate(app: Facegate, gate_id: str, site: str) -> dict[str, str]:
    _local_only(app)
    gate_id = fields.code(gate_id, "The gate id", 64)
    site = fields.code(site, "The site code", 16, upper=True)
    with app.store.transaction() as uow:
        row = uow.tenancy.site(site)
        if row is None:
            raise NotFound(f"No site {site}; add it first with `facegate sites add {site} --operator ...`.")
        if uow.tenancy.gate(gate_id) is not None:
            raise Conflict(f"Gate {gate_id} already exists.")
        uow.tenancy.add_gate(gate_id, site)
        uow.events.audit(app.actor, "gate.add", gate_id, site=site)
        return {"gate": gate_id, "site": site, "operator": row.operator}


def ensure_site(app: Facegate, uow: UnitOfWork, site: str, operator: str) -> None:
    """The local administrator may schedule at a new site: it then belongs to that operator.

    A site that exists belongs to one operator; no one else schedules there.
    """
    tenancy = uow.tenancy
    row = tenancy.site(site)
    if row is None:
        if app.principal is not None:
            raise NotFound(f"No site {site} is registered for this operator.")
        if tenancy.operator(operator) is None:
            tenancy.add_operator(operator, operator)
        tenancy.add_site(site, operator, site)
    elif row.operator != operator:
        if app.principal is not None:
            raise NotFound(f"No site {site} is registered for this operator.")
        raise Conflict(f"Site {site} belongs to operator {row.operator}, not {operator}.")


def describe(app: Facegate) -> dict[str, Any]:
    """Operators with their sites and gates (an API caller sees its own operator only)."""
    scope = app.principal.operator if app.principal is not None else None
    with app.store.transaction() as uow:
        operators = [o for o in uow.tenancy.operators() if scope in (None, o.code)]
        sites = uow.tenancy.sites(scope)
        gates = uow.tenancy.gates(scope)
        return {
            "operators": [
                {
                    "operator": o.code,
                    "name": o.name,
                    "sites": [
                        {"site": s.code, "name": s.name, "gates": [g.id for g in gates if g.site == s.code]}
                        for s in sites
                        if s.operator == o.code
                    ],
                }
                for o in operators
            ]
        }
