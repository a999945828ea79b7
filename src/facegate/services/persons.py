"""Look up, export and erase passengers (data-subject rights, UU 27/2022)."""

from __future__ import annotations

from typing import Any

from ..domain import fields
from ..domain.access import Permission
from ..domain.nik import Nik
from ..domain.person import Person
from ..errors import NotAuthorized, NotFound
from ..vision.engine import FaceEngine
from .access import authorize, check_person, scoped
from .context import Facegate

__all__ = ["find", "show", "erase", "export", "list_persons", "grant_consent"]


def find(app: Facegate, nik: str) -> str:
    """The person id enrolled under ``nik``."""
    authorize(app, Permission.ENROLL)
    parsed = Nik.parse(nik)
    with app.store.transaction() as uow:
        person_id = uow.persons.id_for_nik(parsed)
        if person_id is not None and app.principal is not None and not uow.persons.has_consent(person_id, app.principal.operator):
            person_id = None
        uow.events.audit(app.actor, "person.find", person_id, found=person_id is not None)
    if person_id is None:
        raise NotFound("No person is enrolled with this NIK.")
    return person_id


def show(app: Facegate, person_id: str) -> Person:
    """A person as an operator sees them: only the consents it may know of (its own, or all for the administrator)."""
    authorize(app, Permission.ENROLL)
    with app.store.transaction() as uow:
        check_person(app, uow, person_id)
        person = scoped(app, uow.persons.get(person_id))
        uow.events.audit(app.actor, "person.show", person_id)
    return person


def list_persons(app: Facegate, limit: int = 100, offset: int = 0) -> tuple[int, list[Person]]:
    if app.principal is not None:
        raise NotAuthorized("Listing everyone enrolled is for the administrator on the server.")
    with app.store.transaction() as uow:
        people = uow.persons.list(limit, offset)
        uow.events.audit(app.actor, "person.list", None, limit=limit, offset=offset)
        return uow.persons.count(), people


def grant_consent(app: Facegate, person_id: str, operator: str) -> Person:
    """Record the person's consent for one more operator (their template is then usable there)."""
    if app.principal is not None:
        raise NotAuthorized("An operator adds its consent by enrolling the passenger (NIK, face and consent).")
    operator = fields.free_text(operator, "The operator")
    with app.store.transaction() as uow:
        uow.persons.get(person_id)  # NotFound if absent
        uow.persons.grant_consent(person_id, operator)
        uow.events.bump_revision()
        uow.events.audit(app.actor, "person.consent", person_id, operator=operator)
        uow.session.flush()
        return uow.persons.get(person_id)


def erase(app: Facegate, person_id: str) -> dict[str, Any]:
    """Delete the person, templates and consents; unlink bookings and gate events.

    An operator (API caller) withdraws its own consent; the person's biometric
    data is erased once no operator holds a consent any more.
    """
    operator = authorize(app, Permission.ERASE)
    with app.store.transaction() as uow:
        check_person(app, uow, person_id)
        if operator is not None and uow.persons.withdraw_consent(person_id, operator) and uow.persons.consent_count(person_id):
            uow.events.bump_revision()
            uow.events.audit(app.actor, "person.withdraw_consent", person_id, operator=operator)
            return {"person_erased": False, "consent_withdrawn": True}
        counts: dict[str, Any] = uow.persons.delete(person_id)
        uow.events.bump_revision()
        uow.events.audit(app.actor, "person.erase", person_id, **counts)
    return {"person_erased": True, **counts}


def export(app: Facegate, person_id: str) -> dict[str, Any]:
    """Everything held about one person, for the person (NIK in full: it is theirs)."""
    operator = authorize(app, Permission.ERASE)
    with app.store.transaction() as uow:
        check_person(app, uow, person_id)
        person = scoped(app, uow.persons.get(person_id))
        bookings = uow.manifests.bookings_of(uow.persons.pseudonym_of(person_id))
        events = uow.events.gate_events_of(person_id)
        if operator is not None:  # an operator exports what it holds: its own bookings and gates
            bookings = [b for b in bookings if b.departure.operator == operator]
            own_sites = {s.code for s in uow.tenancy.sites(operator)}
            events = [e for e in events if e.site in own_sites]
        uow.events.audit(app.actor, "person.export", person_id)
    return {
        "person": {**person.summary(), "nik": person.nik.value},
        "templates": {
            "count": person.template_count,
            "model": FaceEngine.template_model if person.template_count else None,
            "note": "Face templates are stored encrypted; no photo is kept.",
        },
        "bookings": [
            {
                "booking_id": b.id,
                "operator": b.departure.operator,
                "service_number": b.departure.service_number,
                "origin_site": b.departure.origin_site,
                "scheduled_at": b.departure.scheduled_at.isoformat(),
                "seat": b.seat,
                "status": b.status.value,
            }
            for b in bookings
        ],
        "gate_events": [
            {"at": e.at.isoformat(), "site": e.site, "gate": e.gate, "outcome": e.outcome, "reason": e.reason}
            for e in events
        ],
    }
