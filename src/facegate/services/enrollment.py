"""Enroll a passenger: NIK + name + photos + consent -> encrypted templates.

Every photo is checked before anything is written; the face must not already
be enrolled under another NIK (1:N over all templates). The whole enrollment is
one transaction: it is stored completely or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np

from ..domain import fields
from ..domain.access import Permission
from ..domain.nik import Nik
from ..domain.person import Person
from ..errors import Conflict, DuplicateFace, DuplicateNik, FaceMismatch, FacegateError, InvalidInput, NoConsent
from ..matching.gallery import Gallery, cosine, mean_template
from ..store.unit_of_work import UnitOfWork
from .access import authorize, check_person, scoped
from .context import Facegate, ImageSource
from .faces import Capture, capture_for_enrollment

__all__ = ["enroll", "register", "Registration", "add_photos", "PhotoSource"]

PhotoSource = ImageSource

def _check_photos(app: Facegate, photos: Sequence[PhotoSource]) -> list[Capture]:
    if not photos:
        raise InvalidInput("At least one photo is needed to enroll.")
    captures = []
    for number, photo in enumerate(photos, start=1):
        try:
            captures.append(capture_for_enrollment(app.engine, app.load_image(photo)))
        except FacegateError as error:
            if len(photos) > 1:  # say which photo, keep the code
                label = f" ({Path(photo).name})" if isinstance(photo, (str, PathLike)) else ""
                error.message = f"Photo {number}{label}: {error.message}"
                error.args = (error.message,)
            raise
    return captures


def _refuse_other_faces(app: Facegate, captures: list[Capture], enrolled: list[np.ndarray]) -> None:
    """Every photo must show the same person: the enrolled one, and each other photo of this request.

    Comparisons are 1:1 at FMR 1e-4: each photo against the enrolled person's
    mean template, and every pair of photos sent together, so that nobody can
    slip a second face into someone's enrollment (not even as half the photos).
    """
    point = app.points.verify("1e-4")
    vectors = [c.vector for c in captures]
    reference = mean_template(enrolled) if enrolled else None
    for number, vector in enumerate(vectors, start=1):
        if reference is not None and cosine(vector, reference) < point.threshold:
            raise FaceMismatch(f"Photo {number} does not show the enrolled passenger. Please see staff.", photo=number)
        for other in range(number, len(vectors)):
            if cosine(vector, vectors[other]) < point.threshold:
                raise FaceMismatch(
                    f"The photos do not all show one person (photos {number} and {other + 1} differ).",
                    photo=other + 1,
                )


def _refuse_duplicate_face(app: Facegate, uow: UnitOfWork, captures: list[Capture], own_id: str | None) -> None:
    model = app.engine.template_model
    others = [(pid, vec) for pid, vec in uow.persons.templates(model) if pid != own_id]
    if not others:
        return
    point = app.points.verify("1e-5")
    gallery: Gallery[str] = Gallery(others)
    for capture in captures:
        best = gallery.search(capture.vector, 1)
        if best and best[0].score >= point.threshold:
            uow.events.audit(app.actor, "enroll.refused_duplicate_face", best[0].key, score=round(best[0].score, 4))
            raise DuplicateFace("This face is already enrolled under another NIK. Please see staff.")


@dataclass(frozen=True, slots=True)
class Registration:
    person: Person
    #: The passenger was enrolled before (for another operator); this operator's consent was added.
    consent_added: bool


def enroll(
    app: Facegate, nik: str, name: str, photos: Sequence[PhotoSource], *, operator: str | None = None, consent: bool
) -> Person:
    """Enroll a passenger for ``operator`` (see :func:`register`); the person as the caller may see them."""
    return register(app, nik, name, photos, operator=operator, consent=consent).person


def register(
    app: Facegate, nik: str, name: str, photos: Sequence[PhotoSource], *, operator: str | None = None, consent: bool
) -> Registration:
    """Enroll a new passenger for ``operator`` (an API caller: its own operator).

    A passenger already enrolled for another operator is not enrolled twice:
    if the new photos match their face, this operator's consent is added to the
    existing person.
    """
    operator = authorize(app, Permission.ENROLL) or operator
    if operator is None:
        raise InvalidInput("Name the operator the passenger consents to.")
    parsed = Nik.parse(nik)
    name = fields.person_name(name)
    if not consent:
        raise NoConsent(
            "Enrollment needs the passenger's explicit consent to biometric processing for this operator."
        )
    operator = fields.free_text(operator, "The operator")
    captures = _check_photos(app, photos)
    _refuse_other_faces(app, captures, [])
    with app.store.transaction() as uow:
        uow.events.serialise_writers()  # concurrent enrollments must see each other's faces
        existing = uow.persons.id_for_nik(parsed)
        if existing is not None:
            return Registration(_consent_for_another_operator(app, uow, existing, operator, captures), True)
        _refuse_duplicate_face(app, uow, captures, own_id=None)
        person_id = uow.persons.add(parsed, name, operator)
        for capture in captures:
            uow.persons.add_template(person_id, app.engine.template_model, capture.vector, capture.quality.score)  # type: ignore[union-attr]
        uow.events.bump_revision()
        uow.events.audit(app.actor, "person.enroll", person_id, operator=operator, photos=len(captures))
        uow.session.flush()
        return Registration(scoped(app, uow.persons.get(person_id)), False)


def _consent_for_another_operator(
    app: Facegate, uow: UnitOfWork, person_id: str, operator: str, captures: list[Capture]
) -> Person:
    """The NIK is enrolled: add this operator's consent if the face proves it is the same passenger."""
    if uow.persons.has_consent(person_id, operator):
        raise DuplicateNik("A person with this NIK is already enrolled for this operator; add photos to them instead.")
    enrolled = [v for _, v in uow.persons.templates(app.engine.template_model, [person_id])]
    try:
        _refuse_other_faces(app, captures, enrolled)
    except FaceMismatch:
        uow.events.audit(app.actor, "enroll.refused_nik_face_mismatch", person_id, operator=operator)
        raise DuplicateNik("A person with this NIK is already enrolled, with a different face. Please see staff.") from None
    best = max(cosine(c.vector, mean_template(enrolled)) for c in captures)
    uow.persons.grant_consent(person_id, operator)
    uow.events.bump_revision()
    uow.events.audit(app.actor, "person.consent", person_id, operator=operator, score=round(best, 4))
    uow.session.flush()
    return scoped(app, uow.persons.get(person_id))


def add_photos(app: Facegate, person_id: str, photos: Sequence[PhotoSource]) -> Person:
    authorize(app, Permission.ENROLL)
    with app.store.transaction() as uow:  # before any face work: another operator's person is simply not found
        check_person(app, uow, person_id)
    captures = _check_photos(app, photos)
    with app.store.transaction() as uow:
        uow.events.serialise_writers()
        check_person(app, uow, person_id)
        enrolled = [v for _, v in uow.persons.templates(app.engine.template_model, [person_id])]
        if not enrolled:
            raise Conflict("This person has no face template of the current model; enroll them again.")
        _refuse_other_faces(app, captures, enrolled)
        _refuse_duplicate_face(app, uow, captures, own_id=person_id)
        for capture in captures:
            uow.persons.add_template(person_id, app.engine.template_model, capture.vector, capture.quality.score)  # type: ignore[union-attr]
        uow.events.bump_revision()
        uow.events.audit(app.actor, "person.add_photos", person_id, photos=len(captures))
        uow.session.flush()
        return scoped(app, uow.persons.get(person_id))
