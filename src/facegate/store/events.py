"""Gate events and the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .tables import AuditEntry, BookingRow, GateEvent, StoreState

__all__ = ["EventRepository"]

_GENESIS = "0" * 64


def _chain_hash(prev_hash: str, at: datetime, actor: str, action: str, subject: str | None, detail: str) -> str:
    payload = json.dumps([prev_hash, at.isoformat(), actor, action, subject, detail], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class EventRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record_gate_event(self, **fields: Any) -> int:
        event = GateEvent(**fields)
        self._session.add(event)
        self._session.flush()
        return event.id

    def gate_events(
        self,
        *,
        site: str | None = None,
        sites: set[str] | None = None,
        gate: str | None = None,
        departure_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[GateEvent]:
        """Newest first; ``sites`` (if given) limits to those sites, e.g. one operator's."""
        query = select(GateEvent).order_by(GateEvent.id.desc()).limit(limit)
        if site:
            query = query.where(GateEvent.site == site)
        if sites is not None:
            query = query.where(GateEvent.site.in_(sites))
        if gate:
            query = query.where(GateEvent.gate == gate)
        if departure_id:
            booked = select(BookingRow.id).where(BookingRow.departure_id == departure_id)
            query = query.where(GateEvent.booking_id.in_(booked))
        if since:
            query = query.where(GateEvent.at >= since)
        if until:
            query = query.where(GateEvent.at < until)
        if before_id is not None:
            query = query.where(GateEvent.id < before_id)
        return list(self._session.scalars(query))

    def gate_events_of(self, person_id: str) -> list[GateEvent]:
        return list(self._session.scalars(select(GateEvent).where(GateEvent.person_id == person_id).order_by(GateEvent.id)))

    def audit(self, actor: str, action: str, subject: str | None = None, **detail: Any) -> None:
        """Append to the audit log. ``detail`` must hold no NIK, name or template."""
        at = datetime.now(timezone.utc).replace(microsecond=0)
        text = json.dumps(detail, sort_keys=True, default=str)
        self.serialise_writers()  # one chain head at a time
        prev = self._session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or _GENESIS
        entry_hash = _chain_hash(prev, at, actor, action, subject, text)
        self._session.add(
            AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=text, prev_hash=prev, hash=entry_hash)
        )
        self._session.execute(update(StoreState).where(StoreState.id == 1).values(audit_head=entry_hash))

    def serialise_writers(self) -> None:
        """Wait for other writers of the state row and hold it until this transaction ends (a row lock on
        PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the file). Reads after this see their commits."""
        self._session.execute(update(StoreState).where(StoreState.id == 1).values(revision=StoreState.revision))

    def verify_audit_chain(self) -> tuple[bool, int]:
        """(intact, entries checked): recompute every link of the chain, and check that it ends at the
        recorded head (so that entries removed from the end are noticed)."""
        prev = _GENESIS
        count = 0
        for entry in self._session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
            expected = _chain_hash(prev, entry.at, entry.actor, entry.action, entry.subject, entry.detail)
            if entry.prev_hash != prev or entry.hash != expected:
                return False, count
            prev = entry.hash
            count += 1
        head = self._session.scalar(select(StoreState.audit_head).where(StoreState.id == 1))
        return (head is None and count == 0) or head == prev, count

    def revision(self) -> int:
        return int(self._session.scalar(select(StoreState.revision).where(StoreState.id == 1)) or 0)

    def bump_revision(self) -> None:
        """Tell every gallery cache that persons or bookings changed."""
        self._session.execute(update(StoreState).where(StoreState.id == 1).values(revision=StoreState.revision + 1))
