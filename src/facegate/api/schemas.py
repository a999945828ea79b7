"""Request and response bodies of the HTTP API (what /docs shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -----------------------------------------------------------------


class EnrollRequest(Body):
    nik: str = Field(description="The 16-digit national identity number (NIK).", max_length=64)
    name: str = Field(max_length=200)
    consent: bool = Field(
        description="The passenger's explicit consent to biometric processing by this operator: true or false, nothing else."
    )

    @field_validator("consent", mode="before")
    @classmethod
    def _explicit(cls, value: object) -> object:
        """Consent is given by saying true: not "yes", "1" or "on" (a form field arrives as the text "true")."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError("consent must be true or false")


class DecisionRequest(Body):
    booking_id: str | None = Field(
        default=None, max_length=64, description="1:1 mode: the booking the scanned ticket names."
    )
    booking_ref: str | None = Field(
        default=None, max_length=64, description="1:1 mode: the ticket's booking reference (on a departure from this gate's site)."
    )


class IdentifyRequest(Body):
    top_k: int = Field(default=5, ge=1, le=50)


class NikQuery(Body):
    nik: str = Field(max_length=64, description="Sent in the body, so that it never appears in a URL or access log.")


class DepartureRequest(Body):
    service_number: str = Field(max_length=64, examples=["KA 7"])
    origin_site: str = Field(max_length=32, examples=["GMR"])
    scheduled_at: datetime = Field(description="With a time zone, e.g. 2026-12-24T09:30:00+07:00.")
    boarding_opens_minutes: int = Field(default=60, ge=0, le=24 * 60, strict=True)
    boarding_closes_minutes: int = Field(default=5, ge=0, le=24 * 60, strict=True)


class BookingItem(Body):
    departure_id: str = Field(max_length=64)
    booking_ref: str = Field(max_length=64)
    nik: str = Field(max_length=64)
    seat: str = Field(max_length=32)


class BookingsUpsert(Body):
    bookings: list[BookingItem] = Field(
        max_length=50_000, description="Up to 50,000 rows per request (about 6 MB); send a larger manifest in parts."
    )


# --- responses ----------------------------------------------------------------


class PersonOut(BaseModel):
    id: str
    nik: str = Field(description="Masked: the last four digits only.")
    name: str
    consents: list[str]
    templates: int
    created_at: str
    consent_added: bool | None = Field(default=None, description="Enrolled before; this operator's consent was added.")


class ErasureOut(BaseModel):
    person_erased: bool
    consent_withdrawn: bool | None = None
    templates: int | None = None
    consents: int | None = None
    bookings_unlinked: int | None = None
    gate_events_unlinked: int | None = None


class CompareOut(BaseModel):
    score: float
    threshold: float
    match: bool
    operating_point: str


class Candidate(BaseModel):
    person_id: str
    nik: str
    name: str
    score: float


class IdentifyOut(BaseModel):
    identified: bool
    person_id: str | None
    threshold: float
    operating_point: str
    gallery_size: int
    candidates: list[Candidate]
    faces_detected: int
    note: str | None


class BookingOut(BaseModel):
    booking_id: str
    booking_ref: str
    seat: str
    status: str
    passenger_erased: bool
    boarded_at: str | None
    boarded_gate: str | None


class UpsertOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class EventOut(BaseModel):
    event_id: int
    at: str
    site: str
    gate: str
    outcome: str
    reason: str
    person_id: str | None
    booking_id: str | None
    score: float | None
    threshold: float
    operating_point: str
    latency_ms: float


class EventsPage(BaseModel):
    items: list[EventOut]
    next_before_id: int | None = Field(description="Pass as before_id for the next (older) page; null at the end.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable error code, e.g. no_face, invalid_nik, not_authorized.")
    detail: str
    instance: str | None = None
    details: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None
