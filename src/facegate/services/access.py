"""Tenancy checks the use cases share: may this caller do this, to this record?

A record of another operator is reported as not found, never as forbidden, so
that one operator cannot learn what another holds. The local administrator
(``app.principal is None``) passes every check.
"""

from __future__ import annotations

from dataclasses import replace

from ..domain import fields
from ..domain.access import Permission
from ..domain.manifest import Booking, Departure
from ..domain.person import Person
from ..errors import NotAuthorized, NotFound
from ..store.tables import GateRow, SiteRow
from ..store.unit_of_work import UnitOfWork
from .context import Facegate

__all__ = ["authorize", "check_person", "scoped", "own_departure", "own_booking", "own_site", "own_gate"]

_WHAT = {
    Permission.ENROLL: "enroll passengers",
    Permission.ERASE: "export or erase passengers' data",
    Permission.MANIFEST: "manage departures and bookings",
    Permission.DECIDE: "decide at gates",
    Permission.RECOGNISE: "compare or identify faces",
    Permission.AUDIT: "read gate events or the audit log",
}


def authorize(app: Facegate, permission: Permission) -> str | None:
    """The operator the caller acts for (None: the local administrator); NotAuthorized if its role may not."""
    principal = app.principal
    if principal is None:
        return None
    if not principal.may(permission):
        raise NotAuthorized(f"An API key with the {principal.role.value!r} role may not {_WHAT[permission]}.")
    return principal.operator


def check_person(app: Facegate, uow: UnitOfWork, person_id: str) -> None:
    """NotFound unless the person exists and consented to the caller's operator."""
    _known_shape(person_id, "person")
    uow.persons.pseudonym_of(person_id)  # NotFound if absent
    if app.principal is not None and not uow.persons.has_consent(person_id, app.principal.operator):
        raise NotFound(f"No person with id {person_id}.")


def scoped(app: Facegate, person: Person) -> Person:
    """The person as the caller may see them: an operator learns of its own consent only."""
    if app.principal is None:
        return person
    return replace(person, consents=person.consents & {app.principal.operator})


def _known_shape(record_id: str, what: str) -> None:
    if not fields.record_id(record_id):  # never sent to the database: it could not name a record anyway
        raise NotFound(f"No {what} with id {record_id[:100]!r}.")


def own_departure(app: Facegate, uow: UnitOfWork, departure_id: str) -> Departure:
    _known_shape(departure_id, "departure")
    departure = uow.manifests.departure(departure_id)
    if app.principal is not None and departure.operator != app.principal.operator:
        raise NotFound(f"No departure with id {departure_id}.")
    return departure


def own_booking(app: Facegate, uow: UnitOfWork, booking_id: str) -> tuple[Booking, str | None]:
    _known_shape(booking_id, "booking")
    booking, pseudonym = uow.manifests.booking(booking_id)
    if app.principal is not None and booking.departure.operator != app.principal.operator:
        raise NotFound(f"No booking with id {booking_id}.")
    return booking, pseudonym


def own_site(app: Facegate, uow: UnitOfWork, site: str) -> SiteRow:
    site = fields.code(site, "The site code", 16, upper=True)
    row = uow.tenancy.site(site)
    if row is None or (app.principal is not None and row.operator != app.principal.operator):
        raise NotFound(f"No site {site} is registered for this operator.")
    return row


def own_gate(app: Facegate, uow: UnitOfWork, gate_id: str) -> GateRow:
    """The gate, if the caller may decide there: its own gate key, or an admin of the gate's operator."""
    gate_id = fields.code(gate_id, "The gate id", 64)
    row = uow.tenancy.gate(gate_id)
    principal = app.principal
    if principal is None:
        if row is None:
            raise NotFound(f"No gate {gate_id} is registered.")
        return row
    site = uow.tenancy.site(row.site) if row is not None else None
    if row is None or site is None or site.operator != principal.operator:
        raise NotFound(f"No gate {gate_id} is registered for this operator.")
    if not principal.may_use_gate(gate_id):
        raise NotAuthorized(f"This API key may not decide at gate {gate_id}.")
    return row
