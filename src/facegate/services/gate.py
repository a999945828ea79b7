"""The gate decision: camera frame -> open or refuse, with a reason, recorded once.

1:N (default): the face is searched among passengers whose boarding window at
this site is open now, at the calibrated threshold for that gallery size. If
nobody matches, a second search among passengers boarding shortly before or
after (``gallery_horizon_minutes``) can only turn "not recognised" into "not
boarding now"; it never opens the gate.
1:1 (``booking_id``, or the ticket's ``booking_ref``, given after a ticket QR
scan): the face is compared with that booking's passenger only, at the 1:1
operating point. A reference names the booking of that reference on a
departure from this site, the one boarding now if there are several.
Either way the boarding policy then picks the booking, and boarding it is one
conditional update, so a booking is never boarded twice.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..domain.access import Permission
from ..domain.boarding import REASON_MESSAGES, BoardingChoice, Outcome, Reason, choose_booking
from ..domain import fields
from ..errors import InvalidInput
from ..matching.gallery import Gallery
from ..matching.operating_points import OperatingPoint
from ..store.unit_of_work import UnitOfWork
from .access import authorize, own_booking, own_gate
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


def _match(gallery: Gallery[str], vector: object, point: OperatingPoint) -> tuple[str | None, float | None]:
    """(person id or None, best score) at ``point``'s threshold."""
    best = gallery.search(vector, 1)  # type: ignore[arg-type]
    if not best:
        return None, None
    score = round(best[0].score, 4)
    return (best[0].key if best[0].score >= point.threshold else None), score


def _consented_owner(uow: UnitOfWork, booking_id: str) -> str | None:
    """The enrolled passenger of a booking, if they consented to its operator."""
    booking, pseudonym = uow.manifests.booking(booking_id)
    owner = uow.persons.id_for_pseudonym(pseudonym) if pseudonym else None
    return owner if owner and uow.persons.has_consent(owner, booking.departure.operator) else None


def decide(
    app: Facegate,
    frame: object,
    *,
    site: str | None = None,
    gate: str = "gate-1",
    at: datetime | None = None,
    booking_id: str | None = None,
    booking_ref: str | None = None,
) -> GateDecision:
    """Decide at ``gate``. An API caller decides only at its own gate, whose site comes from the registry;
    the local administrator may also name a site for an unregistered gate."""
    authorize(app, Permission.DECIDE)
    if booking_id is not None and booking_ref is not None:
        raise InvalidInput("Send the booking id or the ticket's booking reference, not both.")
    engine = app.engine  # loads the models on first use; not part of the decision's latency
    started = time.perf_counter()
    at = fields.moment(at or datetime.now(timezone.utc), "The decision time")
    gate = fields.code(gate, "The gate id", 64)
    site = fields.code(site, "The site code", 16, upper=True) if site is not None else None
    registered = None  # a registered gate knows its site; only the local administrator may use another
    with app.store.transaction() as uow:
        if app.principal is not None or site is None or uow.tenancy.gate(gate) is not None:
            registered = own_gate(app, uow, gate).site
    if registered is not None:
        if site is not None and site != registered:
            raise InvalidInput(f"Gate {gate} is at site {registered}, not {site}.")
        site = registered
    image = app.load_image(frame, max_pixels=app.settings.max_frame_pixels)
    capture = capture_at_gate(engine, image)
    model = engine.template_model
    horizon = timedelta(minutes=app.settings.gallery_horizon_minutes)

    with app.store.transaction() as uow:
        candidates: list[str] | None = None  # 1:1: the bookings the ticket may name
        if booking_id is not None:
            candidates = [own_booking(app, uow, booking_id)[0].id]
        elif booking_ref is not None:
            ref = fields.code(booking_ref, "The booking reference", 64)
            candidates = uow.manifests.bookings_for_reference(site, ref, at)
        if candidates is not None:
            owners = [o for o in (_consented_owner(uow, b) for b in candidates) if o is not None]
            gallery: Gallery[str] = Gallery(uow.persons.templates(model, owners) if owners else [])
            point: OperatingPoint = app.points.verify("1e-4")
            mode = "1:1"
        else:
            gallery = app.galleries.for_site(uow, site, at, timedelta(0), model)
            point = app.points.gate(len(gallery))
            mode = "1:N"

        person_id, score, nearby_only = None, None, False
        if capture is None:
            choice = BoardingChoice(Reason.NO_FACE)
        elif candidates == []:  # a ticket reference no booking from this site carries
            choice = BoardingChoice(Reason.NO_BOOKING)
        else:
            person_id, score = _match(gallery, capture.vector, point)
            if person_id is None and candidates is None:
                # Not among those boarding now: someone early or late? Only to
                # say so; this second search can never open the gate.
                nearby = app.galleries.for_site(uow, site, at, horizon, model)
                near_point = app.points.gate(len(nearby))
                near_id, near_score = _match(nearby, capture.vector, near_point)
                if near_id is not None:
                    person_id, score, point, nearby_only = near_id, near_score, near_point, True
            if person_id is None:
                choice = BoardingChoice(Reason.NO_MATCH)
            else:
                bookings = uow.manifests.bookings_of(uow.persons.pseudonym_of(person_id))
                if candidates is not None:
                    bookings = [b for b in bookings if b.id in candidates]
                choice = choose_booking(bookings, site, at)
                if nearby_only and choice.reason is Reason.VALID_BOOKING:  # cannot happen; never open on it
                    choice = BoardingChoice(Reason.NO_MATCH)
                if choice.reason is Reason.VALID_BOOKING and not uow.manifests.board(choice.booking.id, gate, at):  # type: ignore[union-attr]
                    choice = BoardingChoice(Reason.ALREADY_BOARDED, choice.booking)

        booking = choice.booking
        record = dict(
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
        event_id = uow.events.record_gate_event(at=at, latency_ms=latency_ms, **record)

    return GateDecision(
        **record,  # type: ignore[arg-type]
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
