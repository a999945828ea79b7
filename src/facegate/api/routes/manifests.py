"""Departures and bookings, from the operator's ticketing system."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from ...services import manifests
from ...domain.manifest import Departure
from ..schemas import BookingOut, BookingsUpsert, DepartureRequest, UpsertOut
from ..limits import require_json
from ..security import Caller

router = APIRouter(prefix="/v1", tags=["manifests"])


@router.post("/departures", dependencies=[Depends(require_json)], status_code=201, response_model=Departure, summary="Schedule a departure at one of your sites")
def add_departure(body: DepartureRequest, app: Caller) -> Any:
    return manifests.add_departure(
        app,
        service_number=body.service_number,
        origin_site=body.origin_site,
        scheduled_at=body.scheduled_at,
        boarding_opens_minutes=body.boarding_opens_minutes,
        boarding_closes_minutes=body.boarding_closes_minutes,
    )


@router.get("/departures", response_model=list[Departure], summary="Your departures, optionally at one site")
def list_departures(app: Caller, site: str | None = Query(default=None, max_length=32)) -> Any:
    return manifests.list_departures(app, site)


@router.get("/departures/{departure_id}", response_model=Departure)
def get_departure(departure_id: str, app: Caller) -> Any:
    return manifests.get_departure(app, departure_id)


@router.get("/departures/{departure_id}/bookings", response_model=list[BookingOut], summary="A departure's bookings (no passenger data)")
def list_bookings(departure_id: str, app: Caller) -> Any:
    return manifests.list_bookings(app, departure_id)


@router.put(
    "/bookings",
    dependencies=[Depends(require_json)],
    response_model=UpsertOut,
    summary="Create or update bookings in bulk (idempotent)",
    description=(
        "A manifest of up to 50,000 bookings per request. All rows are checked first: if any is wrong nothing is written and "
        "the error lists the bad rows. Sending the same manifest again changes nothing."
    ),
)
def upsert_bookings(body: BookingsUpsert, app: Caller) -> Any:
    return manifests.upsert_bookings(app, [item.model_dump() for item in body.bookings])


@router.post("/bookings/{booking_id}/cancel", summary="Cancel an unused booking")
def cancel_booking(booking_id: str, app: Caller) -> dict[str, str]:
    return manifests.cancel_booking(app, booking_id)
