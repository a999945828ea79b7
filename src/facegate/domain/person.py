"""A registered passenger, as the services see them (decrypted, in memory only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .nik import Nik

__all__ = ["Person"]


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    nik: Nik
    name: str
    consents: frozenset[str]  # operators this person consented to
    template_count: int
    created_at: datetime

    def summary(self) -> dict[str, object]:
        """What staff may see: the NIK masked."""
        return {
            "id": self.id,
            "nik": self.nik.masked(),
            "name": self.name,
            "consents": sorted(self.consents),
            "templates": self.template_count,
            "created_at": self.created_at.isoformat(),
        }
