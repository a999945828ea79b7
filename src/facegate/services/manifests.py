"""Departures and bookings from an operator's ticketing system."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from ..domain import fields
from ..domain.access import Permission
from ..domain.manifest import Departure
from ..domain.nik import Nik
from ..errors import Conflict, FacegateError, InvalidInput
from ..store.manifests import BookingInput
from .access import authorize, own_booking, own_departure
from .context import Facegate
from .tenancy import ensure_site

__all__ = [
    "add_departure", "get_departure", "list_departures", "import_bookings", "upsert_bookings", "list_bookings",
    "cancel_booking", "BOOKING_COLUMNS",
]

BOOKING_COLUMNS = ("departure_id", "booking_ref", "nik", "seat")
MAX_BOARDING_MINUTES = 24 * 60


def add_departure(
    app: Facegate,
    *,
    operator: str | None = None,
    service_number: str,
    origin_site: str,
    scheduled_at: datetime,
    boarding_opens_minutes: int = 60,
    boarding_closes_minutes: int = 5,
) -> Departure:
    """A departure whose boarding window runs from ``opens`` to ``closes`` minutes before it leaves.

    An API caller schedules for its own operator at its own sites; the local
    administrator may name a new site, which then belongs to ``operator``.
    """
    operator = authorize(app, Permission.MANIFEST) or operator
    if operator is None:
        raise InvalidInput("Name the operator that runs the departure.")
    fields.moment(scheduled_at, "The departure time")
    if not 0 <= boarding_closes_minutes < boarding_opens_minutes <= MAX_BOARDING_MINUTES:
        raise InvalidInput(
            f"Boarding must open before it closes, both before departure: need 0 <= closes < opens <= "
            f"{MAX_BOARDING_MINUTES} minutes (got opens={boarding_opens_minutes}, closes={boarding_closes_minutes})."
        )
    departure = Departure(
        id="",
        operator=fields.free_text(operator, "The operator"),
        service_number=fields.free_text(service_number, "The service number", 32),
        origin_site=fields.code(origin_site, "The site code", 16, upper=True),
        scheduled_at=scheduled_at,
        boarding_opens_at=scheduled_at - timedelta(minutes=boarding_opens_minutes),
        boarding_closes_at=scheduled_at - timedelta(minutes=boarding_closes_minutes),
    )
    with app.store.transaction() as uow:
        ensure_site(app, uow, departure.origin_site, departure.operator)
        created = uow.manifests.add_departure(departure)
        uow.events.bump_revision()
        uow.events.audit(app.actor, "departure.add", created.id, service=created.service_number, site=created.origin_site)
    return created


def get_departure(app: Facegate, departure_id: str) -> Departure:
    authorize(app, Permission.MANIFEST)
    with app.store.transaction() as uow:
        return own_departure(app, uow, departure_id)


def list_departures(app: Facegate, site: str | None = None) -> list[Departure]:
    operator = authorize(app, Permission.MANIFEST)
    site = fields.code(site, "The site code", 16, upper=True) if site else None
    with app.store.transaction() as uow:
        return uow.manifests.departures(site, operator)


def import_bookings(app: Facegate, source: Path | str) -> dict[str, int]:
    """Import a CSV with columns departure_id, booking_ref, nik, seat (see :func:`upsert_bookings`)."""
    authorize(app, Permission.MANIFEST)
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
    return upsert_bookings(app, records, first_line=2, unit="line")


def upsert_bookings(
    app: Facegate, records: list[dict[str, str]], *, first_line: int = 1, unit: str = "row"
) -> dict[str, int]:
    """Create or update bookings, each a dict with departure_id, booking_ref, nik, seat.

    Every row is checked first; if any row is wrong nothing is written and the
    error lists each bad row by number. Sending the same rows again changes
    nothing (bookings are keyed by departure + booking_ref).
    """
    operator = authorize(app, Permission.MANIFEST)
    with app.store.transaction() as uow:  # a short read; the checks below hold no lock
        known = {d.id for d in uow.manifests.departures(operator=operator)}
        existing = uow.manifests.booking_index(known)
    keys = app.store.keys
    by_ref = {(b.departure_id, b.reference): b for b in existing}
    by_passenger = {(b.departure_id, b.passenger_pseudonym): b for b in existing if b.passenger_pseudonym}
    rows: list[BookingInput] = []
    problems: list[str] = []
    refs_seen: set[tuple[str, str]] = set()
    passengers_seen: set[tuple[str, str]] = set()
    for line, row in enumerate(records, start=first_line):
        try:
            if None in row:
                raise InvalidInput(f"{len(row[None])} value(s) more than the header has columns")  # type: ignore[index]
            departure_id = (row.get("departure_id") or "").strip()
            if departure_id not in known:
                raise InvalidInput(f"unknown departure_id {departure_id[:40]!r}")
            ref = fields.code(row.get("booking_ref") or "", "booking_ref", 64)
            seat = fields.code(row.get("seat") or "", "seat", 16)
            pseudonym = keys.pseudonym(Nik.parse(row.get("nik") or "").value)
        except FacegateError as exc:
            problems.append(f"{unit} {line}: {exc.message}")
            continue
        booked = by_passenger.get((departure_id, pseudonym))
        before = by_ref.get((departure_id, ref))
        if (departure_id, ref) in refs_seen:
            problems.append(f"{unit} {line}: booking_ref {ref!r} appears twice for this departure")
        elif (departure_id, pseudonym) in passengers_seen or (booked and booked.reference != ref):
            problems.append(f"{unit} {line}: this passenger already has a booking on this departure")
        elif before and before.status != "booked" and (before.passenger_pseudonym, before.seat) != (pseudonym, seat):
            problems.append(f"{unit} {line}: booking {ref!r} is already {before.status} and cannot be changed")
        else:
            refs_seen.add((departure_id, ref))
            passengers_seen.add((departure_id, pseudonym))
            rows.append(BookingInput(departure_id, ref, pseudonym, seat))
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise InvalidInput(f"Nothing imported: {len(problems)} bad row(s): {shown}", code="invalid_manifest", rows=len(problems))
    try:
        with app.store.transaction() as uow:
            counts = uow.manifests.upsert_bookings(rows)
            uow.events.bump_revision()
            uow.events.audit(app.actor, "bookings.import", None, **counts)
    except IntegrityError as exc:
        raise Conflict(
            "Bookings changed while this manifest was being checked (another import at the same time?); "
            "nothing was written: send it again."
        ) from exc
    return counts


def list_bookings(app: Facegate, departure_id: str) -> list[dict[str, object]]:
    """A departure's bookings, for staff: reference, seat, status; no passenger data."""
    authorize(app, Permission.MANIFEST)
    with app.store.transaction() as uow:
        own_departure(app, uow, departure_id)
        return [
            {
                "booking_id": row.id,
                "booking_ref": row.reference,
                "seat": row.seat,
                "status": row.status,
                "passenger_erased": row.passenger_pseudonym is None,
                "boarded_at": row.boarded_at.isoformat() if row.boarded_at else None,
                "boarded_gate": row.boarded_gate,
            }
            for row in uow.manifests.bookings_for_departure(departure_id)
        ]


def cancel_booking(app: Facegate, booking_id: str) -> dict[str, str]:
    authorize(app, Permission.MANIFEST)
    with app.store.transaction() as uow:
        booking, _ = own_booking(app, uow, booking_id)
        if not uow.manifests.cancel(booking_id):
            raise Conflict(f"Booking {booking_id} is {booking.status.value}; only an unused booking can be cancelled.")
        uow.events.bump_revision()
        uow.events.audit(app.actor, "booking.cancel", booking_id)
    return {"booking_id": booking_id, "status": "cancelled"}


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
