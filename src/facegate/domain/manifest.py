"""Departures and bookings: what an operator's ticketing system tells us."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["BookingStatus", "Departure", "Booking"]


class BookingStatus(StrEnum):
    BOOKED = "booked"
    BOARDED = "boarded"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Departure:
    """A train or flight leaving ``origin_site`` at ``scheduled_at`` (UTC)."""

    id: str
    operator: str
    service_number: str
    origin_site: str
    scheduled_at: datetime
    boarding_opens_at: datetime
    boarding_closes_at: datetime
    cancelled: bool = False

    def boarding_open(self, at: datetime) -> bool:
        return not self.cancelled and self.boarding_opens_at <= at <= self.boarding_closes_at


@dataclass(frozen=True, slots=True)
class Booking:
    id: str
    departure: Departure
    seat: str
    status: BookingStatus
