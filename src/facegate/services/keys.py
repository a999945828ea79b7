"""API keys: created by the local administrator, shown once, kept only as a keyed hash.

A key reads ``fgk_<id>_<secret>``. The id is public (lists, audit log); the
secret is 256 random bits, stored as an HMAC under the installation's key, so a
copy of the database does not let anyone call the API.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from ..domain import fields
from ..domain.access import Principal, Role
from ..errors import InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from .context import Facegate

__all__ = ["create_key", "list_keys", "revoke_key", "authenticate", "first_admin_key"]

_TOKEN = re.compile(r"fgk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


def _hash(app: Facegate, secret: str) -> str:
    return app.store.keys.pseudonym(secret, purpose="api-key")


def create_key(app: Facegate, operator: str, role: str, gate: str | None = None, label: str = "") -> dict[str, Any]:
    """A new key; the returned ``api_key`` is the only time the secret is shown."""
    if app.principal is not None:
        raise NotAuthorized("API keys are created with the facegate command on the server.")
    operator = fields.code(operator, "The operator code", 64, upper=True)
    try:
        parsed_role = Role(role)
    except ValueError:
        raise InvalidInput(f"Unknown role {role[:20]!r}; choose one of {', '.join(r.value for r in Role)}.") from None
    if (parsed_role is Role.GATE) != (gate is not None):
        raise InvalidInput("A gate key needs --gate, and only a gate key takes one.")
    label = fields.free_text(label, "The label") if label else ""
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with app.store.transaction() as uow:
        if uow.tenancy.operator(operator) is None:
            raise NotFound(f"No operator {operator}; add it first with `facegate operators add {operator}`.")
        if gate is not None:
            gate_row = uow.tenancy.gate(gate)
            site = uow.tenancy.site(gate_row.site) if gate_row else None
            if site is None or site.operator != operator:
                raise NotFound(f"No gate {gate} is registered for operator {operator}.")
        uow.tenancy.add_key(key_id, operator, parsed_role.value, gate, label, _hash(app, secret))
        uow.events.audit(app.actor, "api_key.create", key_id, operator=operator, role=parsed_role.value, gate=gate)
    return {
        "key_id": key_id,
        "operator": operator,
        "role": parsed_role.value,
        "gate": gate,
        "label": label,
        "api_key": f"fgk_{key_id}_{secret}",
    }


def first_admin_key(app: Facegate, operator: str) -> dict[str, Any] | None:
    """On a store with no active admin key: the operator (created if needed) and a first admin key."""
    with app.store.transaction() as uow:
        if any(k.role == Role.ADMIN and k.revoked_at is None for k in uow.tenancy.keys()):
            return None
    from .tenancy import add_operator

    code = fields.code(operator, "The operator code", 64, upper=True)
    with app.store.transaction() as uow:
        missing = uow.tenancy.operator(code) is None
    if missing:
        add_operator(app, code)
    return create_key(app, code, Role.ADMIN.value, label="first admin key")


def list_keys(app: Facegate, operator: str | None = None) -> list[dict[str, Any]]:
    with app.store.transaction() as uow:
        return [
            {
                "key_id": k.id,
                "operator": k.operator,
                "role": k.role,
                "gate": k.gate,
                "label": k.label,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in uow.tenancy.keys(operator.upper() if operator else None)
        ]


def revoke_key(app: Facegate, key_id: str) -> dict[str, str]:
    if app.principal is not None:
        raise NotAuthorized("API keys are revoked with the facegate command on the server.")
    with app.store.transaction() as uow:
        if uow.tenancy.key(key_id) is None:
            raise NotFound(f"No API key {key_id}.")
        revoked = uow.tenancy.revoke_key(key_id)
        if revoked:
            uow.events.audit(app.actor, "api_key.revoke", key_id)
    return {"key_id": key_id, "status": "revoked"}


def authenticate(app: Facegate, token: str | None) -> Principal:
    """The principal behind an API key; NotAuthenticated for a missing, malformed, unknown or revoked key."""
    if not token:
        raise NotAuthenticated("An API key is required: send it as 'Authorization: Bearer <key>'.")
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise NotAuthenticated("The API key is malformed.")
    key_id, secret = match.groups()
    with app.store.transaction() as uow:
        row = uow.tenancy.key(key_id)
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(app, secret)):
            raise NotAuthenticated("The API key is unknown or revoked.")
        return Principal(key_id=row.id, operator=row.operator, role=Role(row.role), gate=row.gate)
