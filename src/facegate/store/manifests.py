"""Departures and bookings, and the one write that must never happen twice: boarding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.manifest import Booking, BookingStatus, Departure
from ..errors import Conflict, NotFound
from .tables import BookingRow, Consent, DepartureRow, Person

__all__ = ["ManifestRepository", "BookingInput"]


@dataclass(frozen=True, slots=True)
class BookingInput:
    departure_id: str
    reference: str
    passenger_pseudonym: str
    seat: str


def _departure(row: DepartureRow) -> Departure:
    return Departure(
        id=row.id,
        operator=row.operator,
        service_number=row.service_number,
        origin_site=row.origin_site,
        scheduled_at=row.scheduled_at,
        boarding_opens_at=row.boarding_opens_at,
        boarding_closes_at=row.boarding_closes_at,
        cancelled=row.cancelled,
    )


def _booking(row: BookingRow) -> Booking:
    return Booking(row.id, _departure(row.departure), row.seat, BookingStatus(row.status))


class ManifestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- departures --------------------------------------------------------------

    def add_departure(self, departure: Departure) -> Departure:
        row = DepartureRow(
            id=departure.id or uuid.uuid4().hex,
            operator=departure.operator,
            service_number=departure.service_number,
            origin_site=departure.origin_site,
            scheduled_at=departure.scheduled_at,
            boarding_opens_at=departure.boarding_opens_at,
            boarding_closes_at=departure.boarding_closes_at,
            cancelled=departure.cancelled,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"Departure {departure.operator} {departure.service_number} at "
                f"{departure.scheduled_at.isoformat()} already exists.",
                code="duplicate_departure",
            ) from exc
        return _departure(row)

    def departure(self, departure_id: str) -> Departure:
        row = self._session.get(DepartureRow, departure_id)
        if row is None:
            raise NotFound(f"No departure with id {departure_id}.")
        return _departure(row)

    def departures(self, site: str | None = None, operator: str | None = None) -> list[Departure]:
        query = select(DepartureRow).order_by(DepartureRow.scheduled_at)
        if site:
            query = query.where(DepartureRow.origin_site == site)
        if operator is not None:
            query = query.where(DepartureRow.operator == operator)
        return [_departure(row) for row in self._session.scalars(query)]

    # -- bookings ----------------------------------------------------------------

    def booking_index(self, departure_ids: set[str]) -> list[BookingRow]:
        """Existing bookings of these departures (for checking an import)."""
        if not departure_ids:
            return []
        query = select(BookingRow).where(BookingRow.departure_id.in_(departure_ids))
        rows = list(self._session.scalars(query))
        self._session.expunge_all()
        return rows

    def upsert_bookings(self, bookings: list[BookingInput]) -> dict[str, int]:
        """Insert new bookings, update seat/passenger of known ones (by departure + reference)."""
        departures = {b.departure_id for b in bookings}
        existing = {(r.departure_id, r.reference): r for r in self.booking_index(departures)}
        new, changed = [], []
        for item in bookings:
            row = existing.get((item.departure_id, item.reference))
            if row is None:
                new.append(
                    {
                        "id": uuid.uuid4().hex,
                        "departure_id": item.departure_id,
                        "reference": item.reference,
                        "passenger_pseudonym": item.passenger_pseudonym,
                        "seat": item.seat,
                        "status": BookingStatus.BOOKED.value,
                    }
                )
            elif (row.passenger_pseudonym, row.seat) != (item.passenger_pseudonym, item.seat):
                changed.append({"id": row.id, "passenger_pseudonym": item.passenger_pseudonym, "seat": item.seat})
        if changed:
            self._session.execute(update(BookingRow), changed)
        if new:
            self._session.execute(insert(BookingRow), new)
        return {"created": len(new), "updated": len(changed), "unchanged": len(bookings) - len(new) - len(changed)}

    def bookings_for_departure(self, departure_id: str) -> list[BookingRow]:
        query = select(BookingRow).where(BookingRow.departure_id == departure_id).order_by(BookingRow.reference)
        return list(self._session.scalars(query))

    def cancel(self, booking_id: str) -> bool:
        """Cancel a booking that was not used; False if it was boarded or cancelled already."""
        result = self._session.execute(
            update(BookingRow)
            .where(BookingRow.id == booking_id, BookingRow.status == BookingStatus.BOOKED.value)
            .values(status=BookingStatus.CANCELLED.value)
        )
        return result.rowcount == 1

    def bookings_of(self, pseudonym: str) -> list[Booking]:
        rows = self._session.scalars(select(BookingRow).where(BookingRow.passenger_pseudonym == pseudonym))
        return [_booking(row) for row in rows]

    def booking(self, booking_id: str) -> tuple[Booking, str | None]:
        """A booking and its passenger's pseudonym."""
        row = self._session.get(BookingRow, booking_id)
        if row is None:
            raise NotFound(f"No booking with id {booking_id}.")
        return _booking(row), row.passenger_pseudonym

    def bookings_for_reference(self, site: str, reference: str, at: datetime) -> list[str]:
        """Ids of the bookings ``reference`` on departures from ``site`` (references are unique per departure
        only): those boarding at ``at``, else the one departing nearest in time; [] if none."""
        query = (
            select(BookingRow.id, DepartureRow.boarding_opens_at, DepartureRow.boarding_closes_at, DepartureRow.scheduled_at)
            .join(DepartureRow, DepartureRow.id == BookingRow.departure_id)
            .where(BookingRow.reference == reference, DepartureRow.origin_site == site)
        )
        rows = self._session.execute(query).all()
        boarding = [r.id for r in rows if r.boarding_opens_at <= at <= r.boarding_closes_at]
        if boarding or not rows:
            return boarding
        return [min(rows, key=lambda r: abs(r.scheduled_at - at)).id]

    def passengers_near(self, site: str, at: datetime, horizon: timedelta) -> list[str]:
        """Ids of enrolled persons booked from ``site`` near ``at``, who consented to that operator.

        "Near" means the departure's boarding window overlaps ``at`` +/- ``horizon``.
        """
        query = (
            select(Person.id)
            .join(BookingRow, BookingRow.passenger_pseudonym == Person.nik_pseudonym)
            .join(DepartureRow, DepartureRow.id == BookingRow.departure_id)
            .join(Consent, and_(Consent.person_id == Person.id, Consent.operator == DepartureRow.operator))
            .where(
                DepartureRow.origin_site == site,
                DepartureRow.cancelled.is_(False),
                DepartureRow.boarding_opens_at <= at + horizon,
                DepartureRow.boarding_closes_at >= at - horizon,
                BookingRow.status != BookingStatus.CANCELLED.value,
            )
            .distinct()
        )
        return list(self._session.scalars(query))

    def board(self, booking_id: str, gate: str, at: datetime) -> bool:
        """Mark a booking boarded; False if it was not 'booked' any more.

        A single conditional UPDATE: of two gates deciding at once for one
        booking, exactly one sees a row change.
        """
        result = self._session.execute(
            update(BookingRow)
            .where(BookingRow.id == booking_id, BookingRow.status == BookingStatus.BOOKED.value)
            .values(status=BookingStatus.BOARDED.value, boarded_at=at, boarded_gate=gate)
        )
        return result.rowcount == 1
