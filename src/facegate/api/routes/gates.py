"""Gate decisions, and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ...services import audit, gate
from ..photos import photo_body, read_photo_request
from ...services.gate import GateDecision
from ..schemas import DecisionRequest, EventsPage
from ..security import Caller

router = APIRouter(prefix="/v1", tags=["gates"])
_FRAME = {"image": False}


@router.post(
    "/gates/{gate_id}/decisions",
    response_model=GateDecision,
    summary="Decide at a gate: camera frame -> open or refuse",
    description=(
        "1:N among passengers whose boarding window at this gate's site is open now; with `booking_id` or "
        "`booking_ref` (a scanned ticket) 1:1 against that booking's passenger. A refusal is a decision too (status 200, `outcome: refuse`, "
        "with a reason code); a booking is never boarded twice."
    ),
    openapi_extra=photo_body(DecisionRequest, _FRAME),
)
async def decide(gate_id: str, request: Request, app: Caller) -> GateDecision:
    body, images = await read_photo_request(request, DecisionRequest, _FRAME)
    decision = await run_in_threadpool(
        gate.decide, app, images["image"][0], gate=gate_id, booking_id=body.booking_id, booking_ref=body.booking_ref
    )
    request.app.state.metrics.observe_decision(decision.outcome, decision.reason, decision.latency_ms)
    return decision


@router.get("/events", response_model=EventsPage, summary="Gate decisions at your sites, newest first, paged")
def events(
    app: Caller,
    site: str | None = Query(default=None, max_length=32),
    gate_id: str | None = Query(default=None, alias="gate", max_length=64),
    departure_id: str | None = Query(default=None, max_length=64),
    since: datetime | None = Query(default=None, description="From this time (with a time zone)."),
    until: datetime | None = Query(default=None, description="Before this time (with a time zone)."),
    before_id: int | None = Query(default=None, ge=1, le=2**31 - 1, description="next_before_id of the previous page."),
    limit: int = Query(default=50, ge=1, le=audit.MAX_PAGE),
) -> Any:
    return audit.query_decisions(
        app, site=site, gate=gate_id, departure_id=departure_id, since=since, until=until, before_id=before_id, limit=limit
    )


@router.get("/audit/verify", summary="Check the hash chain of the audit log")
def verify_audit(app: Caller) -> dict[str, Any]:
    return audit.verify_audit(app)
