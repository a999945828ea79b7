"""Departures and bookings from an operator's ticketing system."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from ..domain.manifest import Departure
from ..domain.nik import Nik
from ..errors import FacegateError, InvalidInput
from ..store.manifests import BookingInput
from .context import Facegate

__all__ = ["add_departure", "list_departures", "import_bookings", "BOOKING_COLUMNS"]

BOOKING_COLUMNS = ("departure_id", "booking_ref", "nik", "seat")


def add_departure(
    app: Facegate,
    *,
    operator: str,
    service_number: str,
    origin_site: str,
    scheduled_at: datetime,
    boarding_opens_minutes: int = 60,
    boarding_closes_minutes: int = 5,
) -> Departure:
    """A departure whose boarding window runs from ``opens`` to ``closes`` minutes before it leaves."""
    if scheduled_at.tzinfo is None:
        raise InvalidInput("scheduled_at needs a time zone.")
    if not (operator.strip() and service_number.strip() and origin_site.strip()):
        raise InvalidInput("operator, service number and origin site are all required.")
    if boarding_opens_minutes <= boarding_closes_minutes:
        raise InvalidInput("Boarding must open before it closes (opens-minutes > closes-minutes).")
    departure = Departure(
        id="",
        operator=operator.strip(),
        service_number=service_number.strip(),
        origin_site=origin_site.strip().upper(),
        scheduled_at=scheduled_at,
        boarding_opens_at=scheduled_at - timedelta(minutes=boarding_opens_minutes),
        boarding_closes_at=scheduled_at - timedelta(minutes=boarding_closes_minutes),
    )
    with app.store.transaction() as uow:
        created = uow.manifests.add_departure(departure)
        uow.events.bump_revision()
        uow.events.audit(app.actor, "departure.add", created.id, service=created.service_number, site=created.origin_site)
    return created


def list_departures(app: Facegate, site: str | None = None) -> list[Departure]:
    with app.store.transaction() as uow:
        return uow.manifests.departures(site.upper() if site else None)


def import_bookings(app: Facegate, source: Path | str) -> dict[str, int]:
    """Import a CSV with columns departure_id, booking_ref, nik, seat.

    Every row is checked first; if any row is wrong nothing is imported and the
    error lists each bad row by line number. Re-importing the same file changes
    nothing (bookings are keyed by departure + booking_ref).
    """
    try:
        reader = csv.DictReader(io.StringIO(_read_text(source)))
        header, records = reader.fieldnames or [], list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"The CSV cannot be parsed: {exc}.", code="invalid_manifest") from exc
    missing = [c for c in BOOKING_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(
            f"The CSV lacks column(s) {', '.join(missing)}; expected header: {','.join(BOOKING_COLUMNS)}.",
            code="invalid_manifest",
        )
    with app.store.transaction() as uow:
        known = {d.id for d in uow.manifests.departures()}
        rows: list[BookingInput] = []
        problems: list[str] = []
        seen: set[tuple[str, str]] = set()
        for line, row in enumerate(records, start=2):
            departure_id, ref = (row.get("departure_id") or "").strip(), (row.get("booking_ref") or "").strip()
            seat = (row.get("seat") or "").strip()
            try:
                nik = Nik.parse(row.get("nik") or "")
            except FacegateError as exc:
                problems.append(f"line {line}: {exc.message}")
                continue
            if departure_id not in known:
                problems.append(f"line {line}: unknown departure_id {departure_id!r}")
            elif not ref or not seat:
                problems.append(f"line {line}: booking_ref and seat are required")
            elif (departure_id, ref) in seen:
                problems.append(f"line {line}: booking_ref {ref!r} appears twice for this departure")
            else:
                seen.add((departure_id, ref))
                rows.append(BookingInput(departure_id, ref, uow.persons.nik_pseudonym(nik), seat))
        if problems:
            shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
            raise InvalidInput(f"Nothing imported: {len(problems)} bad row(s): {shown}", code="invalid_manifest", rows=len(problems))
        counts = uow.manifests.upsert_bookings(rows)
        uow.events.bump_revision()
        uow.events.audit(app.actor, "bookings.import", None, **counts)
    return counts


def _read_text(source: Path | str) -> str:
    try:
        data = Path(source).read_bytes() if isinstance(source, Path) else source.encode()
    except FileNotFoundError as exc:
        raise FacegateError(f"File {source} does not exist.", code="not_found") from exc
    except OSError as exc:
        raise InvalidInput(f"Cannot read {source}: {exc.strerror}.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The CSV is not UTF-8 text.", code="invalid_manifest") from exc
