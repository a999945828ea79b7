"""Passengers: enroll, look up, add photos, export, erase."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from ...services import enrollment, persons
from ..photos import photo_body, read_photo_request
from ..schemas import Body, EnrollRequest, ErasureOut, NikQuery, PersonOut
from ..limits import require_json
from ..security import Caller

router = APIRouter(prefix="/v1/persons", tags=["persons"])
_PHOTOS = {"photos": True}


@router.post(
    "",
    status_code=201,
    response_model=PersonOut,
    summary="Enroll a passenger (NIK, name, photos, consent)",
    description=(
        "Every photo is quality-checked, and the face must not be enrolled under another NIK. A passenger already "
        "enrolled for another operator is not enrolled twice: if the photos match their face, this operator's "
        "consent is added (`consent_added: true`, status 200)."
    ),
    openapi_extra=photo_body(EnrollRequest, _PHOTOS),
)
async def enroll(request: Request, response: Response, app: Caller) -> dict[str, Any]:
    body, images = await read_photo_request(request, EnrollRequest, _PHOTOS)
    done = await run_in_threadpool(enrollment.register, app, body.nik, body.name, images["photos"], consent=body.consent)
    if done.consent_added:
        response.status_code = 200
    return {**done.person.summary(), "consent_added": done.consent_added}


@router.post("/search", dependencies=[Depends(require_json)], response_model=PersonOut, summary="Find a passenger by NIK (sent in the body)")
def search(query: NikQuery, app: Caller) -> dict[str, Any]:
    return persons.show(app, persons.find(app, query.nik)).summary()


@router.get("/{person_id}", response_model=PersonOut, summary="A passenger, NIK masked")
def get(person_id: str, app: Caller) -> dict[str, Any]:
    return persons.show(app, person_id).summary()


@router.post(
    "/{person_id}/photos",
    response_model=PersonOut,
    summary="Add photos to an enrolled passenger",
    openapi_extra=photo_body(Body, _PHOTOS),
)
async def add_photos(person_id: str, request: Request, app: Caller) -> dict[str, Any]:
    _, images = await read_photo_request(request, Body, _PHOTOS)
    return (await run_in_threadpool(enrollment.add_photos, app, person_id, images["photos"])).summary()


@router.delete(
    "/{person_id}",
    response_model=ErasureOut,
    summary="Erase a passenger (or withdraw this operator's consent)",
    description=(
        "Withdraws this operator's consent; once no operator holds a consent, the person, their templates and "
        "every link from bookings and gate events are erased (`person_erased: true`)."
    ),
)
def erase(person_id: str, app: Caller) -> dict[str, Any]:
    return persons.erase(app, person_id)


@router.get("/{person_id}/export", summary="Everything this operator holds about a passenger (for the data subject)")
def export(person_id: str, app: Caller) -> dict[str, Any]:
    return persons.export(app, person_id)
