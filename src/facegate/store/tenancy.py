"""Operators, their sites and gates, and API keys (only a keyed hash of each secret)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .tables import ApiKeyRow, GateRow, OperatorRow, SiteRow

__all__ = ["TenancyRepository"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class TenancyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- operators, sites, gates -----------------------------------------------

    def operator(self, code: str) -> OperatorRow | None:
        return self._session.get(OperatorRow, code)

    def operators(self) -> list[OperatorRow]:
        return list(self._session.scalars(select(OperatorRow).order_by(OperatorRow.code)))

    def add_operator(self, code: str, name: str) -> OperatorRow:
        row = OperatorRow(code=code, name=name, created_at=_now())
        self._session.add(row)
        self._session.flush()
        return row

    def site(self, code: str) -> SiteRow | None:
        return self._session.get(SiteRow, code)

    def sites(self, operator: str | None = None) -> list[SiteRow]:
        query = select(SiteRow).order_by(SiteRow.code)
        if operator is not None:
            query = query.where(SiteRow.operator == operator)
        return list(self._session.scalars(query))

    def add_site(self, code: str, operator: str, name: str) -> SiteRow:
        row = SiteRow(code=code, operator=operator, name=name, created_at=_now())
        self._session.add(row)
        self._session.flush()
        return row

    def gate(self, gate_id: str) -> GateRow | None:
        return self._session.get(GateRow, gate_id)

    def gates(self, operator: str | None = None) -> list[GateRow]:
        query = select(GateRow).order_by(GateRow.id)
        if operator is not None:
            query = query.join(SiteRow, SiteRow.code == GateRow.site).where(SiteRow.operator == operator)
        return list(self._session.scalars(query))

    def add_gate(self, gate_id: str, site: str) -> GateRow:
        row = GateRow(id=gate_id, site=site, created_at=_now())
        self._session.add(row)
        self._session.flush()
        return row

    # -- API keys ----------------------------------------------------------------

    def add_key(self, key_id: str, operator: str, role: str, gate: str | None, label: str, secret_hash: str) -> ApiKeyRow:
        row = ApiKeyRow(
            id=key_id, operator=operator, role=role, gate=gate, label=label, secret_hash=secret_hash, created_at=_now()
        )
        self._session.add(row)
        self._session.flush()
        return row

    def key(self, key_id: str) -> ApiKeyRow | None:
        return self._session.get(ApiKeyRow, key_id)

    def keys(self, operator: str | None = None) -> list[ApiKeyRow]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
        if operator is not None:
            query = query.where(ApiKeyRow.operator == operator)
        return list(self._session.scalars(query))

    def revoke_key(self, key_id: str) -> bool:
        result = self._session.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None)).values(revoked_at=_now())
        )
        return result.rowcount == 1
