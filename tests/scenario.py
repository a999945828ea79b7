"""Build small boarding scenarios through the services, on real LFW photos."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from facegate.domain.nik import synthetic_nik
from facegate.services.context import Facegate
from facegate.services.enrollment import enroll
from facegate.services.manifests import add_departure, import_bookings

WIB = ZoneInfo("Asia/Jakarta")
DEPARTS = datetime(2026, 12, 1, 9, 30, tzinfo=WIB)  # boarding 08:30 - 09:25
DURING = DEPARTS - timedelta(minutes=30)


def photo(lfw: Path, name: str, number: int) -> Path:
    return lfw / name / f"{name}_{number:04d}.jpg"


def nik(seed: int) -> str:
    return synthetic_nik(random.Random(seed))


class Station:
    """A site with departures, and passengers enrolled from LFW photos."""

    def __init__(self, app: Facegate, lfw: Path, site: str = "GMR") -> None:
        self.app, self.lfw, self.site = app, lfw, site
        self.niks: dict[str, str] = {}
        self.person_ids: dict[str, str] = {}

    def enroll(self, name: str, number: int = 1, operator: str = "KAI") -> str:
        self.niks[name] = nik(len(self.niks) + 1000)
        person = enroll(self.app, self.niks[name], name.replace("_", " "), [photo(self.lfw, name, number)], operator=operator, consent=True)
        self.person_ids[name] = person.id
        return person.id

    def departure(self, service: str = "KA 1", at: datetime = DEPARTS, operator: str = "KAI", site: str | None = None) -> str:
        return add_departure(self.app, operator=operator, service_number=service, origin_site=site or self.site, scheduled_at=at).id

    def book(self, departure_id: str, *names: str, niks: tuple[str, ...] = ()) -> None:
        rows = ["departure_id,booking_ref,nik,seat"]
        rows += [f"{departure_id},{departure_id[:6]}-{n},{self.niks[n]},{i}A" for i, n in enumerate(names)]
        rows += [f"{departure_id},{departure_id[:6]}-X{i},{value},{i}B" for i, value in enumerate(niks)]
        import_bookings(self.app, "\n".join(rows) + "\n")
