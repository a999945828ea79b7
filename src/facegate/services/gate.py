"""The gate decision: camera frame -> open or refuse, with a reason, recorded once.

1:N (default): the face is searched among passengers booked to board at this
site around now; the threshold is the calibrated one for that gallery size.
1:1 (``booking_id`` given, e.g. after a ticket QR scan): the face is compared
with that booking's passenger only, at the 1:1 operating point.
Either way the boarding policy then picks the booking, and boarding it is one
conditional update, so a booking is never boarded twice.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..domain.boarding import REASON_MESSAGES, BoardingChoice, Outcome, Reason, choose_booking
from ..errors import InvalidInput
from ..matching.gallery import Gallery
from ..matching.operating_points import OperatingPoint
from .context import Facegate
from .faces import capture_at_gate

__all__ = ["GateDecision", "decide"]


@dataclass(frozen=True)
class GateDecision:
    outcome: str
    reason: str
    message: str
    site: str
    gate: str
    at: str
    mode: str  # "1:N" or "1:1"
    person_id: str | None
    booking_id: str | None
    service_number: str | None
    seat: str | None
    score: float | None
    threshold: float
    operating_point: str
    gallery_size: int
    faces_detected: int
    note: str | None
    latency_ms: float
    event_id: int | None = None

    @property
    def opened(self) -> bool:
        return self.outcome == Outcome.OPEN

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    app: Facegate,
    frame: object,
    *,
    site: str,
    gate: str = "gate-1",
    at: datetime | None = None,
    booking_id: str | None = None,
) -> GateDecision:
    engine = app.engine  # loads the models on first use; not part of the decision's latency
    started = time.perf_counter()
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        raise InvalidInput("The decision time needs a time zone.")
    site = site.strip().upper()
    if not site:
        raise InvalidInput("A site (station or airport code) is required.")
    image = app.load_image(frame)
    capture = capture_at_gate(engine, image)
    model = engine.template_model
    horizon = timedelta(minutes=app.settings.gallery_horizon_minutes)

    with app.store.transaction() as uow:
        if booking_id is not None:
            booking, pseudonym = uow.manifests.booking(booking_id)
            owner = uow.persons.id_for_pseudonym(pseudonym) if pseudonym else None
            if owner and not uow.persons.has_consent(owner, booking.departure.operator):
                owner = None
            gallery: Gallery[str] = Gallery(uow.persons.templates(model, [owner]) if owner else [])
            point: OperatingPoint = app.points.verify("1e-4")
            mode = "1:1"
        else:
            gallery = app.galleries.for_site(uow, site, at, horizon, model)
            point = app.points.gate(len(gallery))
            mode = "1:N"

        person_id, score = None, None
        if capture is None:
            choice = BoardingChoice(Reason.NO_FACE)
        else:
            best = gallery.search(capture.vector, 1)
            score = round(best[0].score, 4) if best else None
            if not best or best[0].score < point.threshold:
                choice = BoardingChoice(Reason.NO_MATCH)
            else:
                person_id = best[0].key
                bookings = uow.manifests.bookings_of(uow.persons.pseudonym_of(person_id))
                if booking_id is not None:
                    bookings = [b for b in bookings if b.id == booking_id]
                choice = choose_booking(bookings, site, at)
                if choice.reason is Reason.VALID_BOOKING and not uow.manifests.board(choice.booking.id, gate, at):  # type: ignore[union-attr]
                    choice = BoardingChoice(Reason.ALREADY_BOARDED, choice.booking)

        booking = choice.booking
        fields = dict(
            outcome=choice.outcome.value,
            reason=choice.reason.value,
            site=site,
            gate=gate,
            person_id=person_id,
            booking_id=booking.id if booking else None,
            score=score,
            threshold=point.threshold,
            operating_point=f"{point.name}@{point.version}",
            faces_detected=capture.faces_detected if capture else 0,
        )
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        event_id = uow.events.record_gate_event(at=at, latency_ms=latency_ms, **fields)

    return GateDecision(
        **fields,  # type: ignore[arg-type]
        message=REASON_MESSAGES[choice.reason],
        at=at.isoformat(),
        mode=mode,
        service_number=booking.departure.service_number if booking else None,
        seat=booking.seat if booking else None,
        gallery_size=len(gallery),
        note=capture.note if capture else None,
        latency_ms=latency_ms,
        event_id=event_id,
    )
