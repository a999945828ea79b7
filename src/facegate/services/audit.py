"""What station staff and auditors read: gate decisions, and the audit chain's integrity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import fields
from ..domain.access import Permission
from .access import authorize
from .context import Facegate

__all__ = ["recent_decisions", "query_decisions", "verify_audit"]

MAX_PAGE = 500


def query_decisions(
    app: Facegate,
    *,
    site: str | None = None,
    gate: str | None = None,
    departure_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Gate decisions, newest first, one page at a time (no face data, no NIK).

    An API caller sees decisions at its own operator's sites only. ``next_before_id``
    asks for the next (older) page.
    """
    operator = authorize(app, Permission.AUDIT)
    site = fields.code(site, "The site code", 16, upper=True) if site else None
    gate = fields.code(gate, "The gate id", 64) if gate else None
    since = fields.moment(since, "since") if since else None
    until = fields.moment(until, "until") if until else None
    if departure_id is not None and not fields.record_id(departure_id):
        return {"items": [], "next_before_id": None}  # no departure has such an id
    limit = max(1, min(limit, MAX_PAGE))
    with app.store.transaction() as uow:
        sites = {s.code for s in uow.tenancy.sites(operator)} if operator is not None else None
        if sites is not None and site is not None and site not in sites:
            sites = set()
        events = uow.events.gate_events(
            site=site, sites=sites, gate=gate, departure_id=departure_id, since=since, until=until,
            before_id=before_id, limit=limit + 1,
        )
        uow.events.audit(app.actor, "gate.events", None, site=site, gate=gate, departure=departure_id, limit=limit)
    page = events[:limit]
    return {
        "items": [
            {
                "event_id": e.id, "at": e.at.isoformat(), "site": e.site, "gate": e.gate, "outcome": e.outcome,
                "reason": e.reason, "person_id": e.person_id, "booking_id": e.booking_id, "score": e.score,
                "threshold": e.threshold, "operating_point": e.operating_point, "latency_ms": e.latency_ms,
            }
            for e in page
        ],
        "next_before_id": page[-1].id if len(events) > limit else None,
    }


def recent_decisions(app: Facegate, site: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest gate decisions, newest first."""
    return query_decisions(app, site=site, limit=limit)["items"]


def verify_audit(app: Facegate) -> dict[str, Any]:
    """Recompute the hash chain of the audit log."""
    authorize(app, Permission.AUDIT)
    with app.store.transaction() as uow:
        intact, checked = uow.events.verify_audit_chain()
    return {"intact": intact, "entries_checked": checked}
