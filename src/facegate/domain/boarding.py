"""The boarding policy: which booking (if any) a recognised passenger boards on.

A face opens the gate only for a booking that is not cancelled, not yet
boarded, on a departure from this site whose boarding window is open now. With
several such bookings the earliest departure is boarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Sequence

from .manifest import Booking, BookingStatus

__all__ = ["Reason", "Outcome", "BoardingChoice", "choose_booking", "REASON_MESSAGES"]


class Outcome(StrEnum):
    OPEN = "open"
    REFUSE = "refuse"


class Reason(StrEnum):
    VALID_BOOKING = "valid_booking"
    NO_FACE = "no_face"
    NO_MATCH = "no_match"
    NO_BOOKING = "no_booking"
    ALREADY_BOARDED = "already_boarded"
    OUTSIDE_BOARDING_WINDOW = "outside_boarding_window"


REASON_MESSAGES = {
    Reason.VALID_BOOKING: "Welcome aboard: booking found, gate opens.",
    Reason.NO_FACE: "No face seen. Please look at the camera.",
    Reason.NO_MATCH: "Face not recognised among passengers boarding here now. Please see staff.",
    Reason.NO_BOOKING: "No valid booking for a departure from this station. Please see staff.",
    Reason.ALREADY_BOARDED: "This booking has already been used to board.",
    Reason.OUTSIDE_BOARDING_WINDOW: "Boarding for your departure is not open now.",
}


@dataclass(frozen=True, slots=True)
class BoardingChoice:
    reason: Reason
    booking: Booking | None = None

    @property
    def outcome(self) -> Outcome:
        return Outcome.OPEN if self.reason is Reason.VALID_BOOKING else Outcome.REFUSE


def choose_booking(bookings: Sequence[Booking], site: str, at: datetime) -> BoardingChoice:
    """Apply the policy to one passenger's bookings (any site, any time)."""
    here = [
        b
        for b in bookings
        if b.departure.origin_site == site and b.status is not BookingStatus.CANCELLED and not b.departure.cancelled
    ]
    if not here:
        return BoardingChoice(Reason.NO_BOOKING)
    by_time = sorted(here, key=lambda b: b.departure.scheduled_at)
    open_now = [b for b in by_time if b.departure.boarding_open(at)]
    for booking in open_now:
        if booking.status is BookingStatus.BOOKED:
            return BoardingChoice(Reason.VALID_BOOKING, booking)
    if open_now:
        return BoardingChoice(Reason.ALREADY_BOARDED, open_now[0])
    upcoming = [b for b in by_time if b.departure.boarding_closes_at >= at]
    return BoardingChoice(Reason.OUTSIDE_BOARDING_WINDOW, (upcoming or by_time[-1:])[0])
