"""What station staff and auditors read: recent gate decisions, and the audit chain's integrity."""

from __future__ import annotations

from typing import Any

from ..domain import fields
from .context import Facegate

__all__ = ["recent_decisions", "verify_audit"]


def recent_decisions(app: Facegate, site: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest gate decisions, newest first (no face data, no NIK)."""
    site = fields.code(site, "The site code", 16, upper=True) if site else None
    with app.store.transaction() as uow:
        events = uow.events.gate_events(site, limit)
        uow.events.audit(app.actor, "gate.events", None, site=site, limit=limit)
        return [
            {
                "event_id": e.id, "at": e.at.isoformat(), "site": e.site, "gate": e.gate, "outcome": e.outcome,
                "reason": e.reason, "person_id": e.person_id, "booking_id": e.booking_id, "score": e.score,
                "threshold": e.threshold, "operating_point": e.operating_point, "latency_ms": e.latency_ms,
            }
            for e in events
        ]


def verify_audit(app: Facegate) -> dict[str, Any]:
    """Recompute the hash chain of the audit log."""
    with app.store.transaction() as uow:
        intact, checked = uow.events.verify_audit_chain()
    return {"intact": intact, "entries_checked": checked}
