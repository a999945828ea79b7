"""Operator tools: compare two photos (1:1), identify a photo among your enrolled passengers (1:N)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...services import recognition
from ..photos import photo_body, read_photo_request
from ..schemas import Body, CompareOut, IdentifyOut, IdentifyRequest
from ..security import Caller

router = APIRouter(prefix="/v1", tags=["recognition"])
_PAIR = {"first": False, "second": False}
_ONE = {"image": False}


@router.post("/compare", response_model=CompareOut, summary="Are two photos the same person?", openapi_extra=photo_body(Body, _PAIR))
async def compare(request: Request, app: Caller) -> dict[str, Any]:
    _, images = await read_photo_request(request, Body, _PAIR)
    return await run_in_threadpool(recognition.compare, app, images["first"][0], images["second"][0])


@router.post(
    "/identify",
    response_model=IdentifyOut,
    summary="Who is this? Top-k above the threshold, or unknown",
    openapi_extra=photo_body(IdentifyRequest, _ONE),
)
async def identify(request: Request, app: Caller) -> dict[str, Any]:
    body, images = await read_photo_request(request, IdentifyRequest, _ONE)
    return await run_in_threadpool(recognition.identify, app, images["image"][0], body.top_k)
