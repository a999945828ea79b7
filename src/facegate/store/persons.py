"""Persons, consents and templates; encryption happens here, at the edge."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.nik import Nik
from ..domain.person import Person
from ..errors import DuplicateNik, NotFound
from .crypto import Keyring
from .tables import BookingRow, Consent, GateEvent, Person as PersonRow, Template

__all__ = ["PersonRepository"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class PersonRepository:
    def __init__(self, session: Session, keys: Keyring) -> None:
        self._session = session
        self._keys = keys

    # -- look-ups --------------------------------------------------------------

    def nik_pseudonym(self, nik: Nik) -> str:
        return self._keys.pseudonym(nik.value)

    def id_for_nik(self, nik: Nik) -> str | None:
        return self.id_for_pseudonym(self.nik_pseudonym(nik))

    def id_for_pseudonym(self, pseudonym: str) -> str | None:
        return self._session.scalar(select(PersonRow.id).where(PersonRow.nik_pseudonym == pseudonym))

    def get(self, person_id: str) -> Person:
        row = self._session.get(PersonRow, person_id)
        if row is None:
            raise NotFound(f"No person with id {person_id}.")
        return self._to_person(row)

    def pseudonym_of(self, person_id: str) -> str:
        pseudonym = self._session.scalar(select(PersonRow.nik_pseudonym).where(PersonRow.id == person_id))
        if pseudonym is None:
            raise NotFound(f"No person with id {person_id}.")
        return pseudonym

    def count(self) -> int:
        return int(self._session.scalar(select(func.count()).select_from(PersonRow)) or 0)

    def list(self, limit: int = 100, offset: int = 0) -> list[Person]:
        rows = self._session.scalars(select(PersonRow).order_by(PersonRow.created_at).limit(limit).offset(offset))
        return [self._to_person(row) for row in rows]

    # -- changes ---------------------------------------------------------------

    def add(self, nik: Nik, name: str, operator: str) -> str:
        person_id = uuid.uuid4().hex
        self._session.add(
            PersonRow(
                id=person_id,
                nik_pseudonym=self.nik_pseudonym(nik),
                nik_encrypted=self._keys.encrypt_text(nik.value, f"persons.nik:{person_id}"),
                name_encrypted=self._keys.encrypt_text(name, f"persons.name:{person_id}"),
                created_at=_now(),
            )
        )
        try:
            with self._session.begin_nested():
                self._session.flush()
        except IntegrityError as exc:
            raise DuplicateNik("A person with this NIK is already enrolled.") from exc
        self.grant_consent(person_id, operator)
        return person_id

    def has_consent(self, person_id: str, operator: str) -> bool:
        query = select(Consent.id).where(Consent.person_id == person_id, Consent.operator == operator)
        return self._session.scalar(query) is not None

    def grant_consent(self, person_id: str, operator: str) -> None:
        if not self.has_consent(person_id, operator):
            self._session.add(Consent(person_id=person_id, operator=operator, granted_at=_now()))

    def withdraw_consent(self, person_id: str, operator: str) -> bool:
        result = self._session.execute(delete(Consent).where(Consent.person_id == person_id, Consent.operator == operator))
        return result.rowcount == 1

    def consented_to(self, operator: str) -> list[str]:
        """Ids of persons who consented to ``operator``."""
        return list(self._session.scalars(select(Consent.person_id).where(Consent.operator == operator)))

    def consent_count(self, person_id: str) -> int:
        query = select(func.count()).select_from(Consent).where(Consent.person_id == person_id)
        return int(self._session.scalar(query) or 0)

    def add_template(self, person_id: str, model: str, vector: np.ndarray, quality: float) -> str:
        template_id = uuid.uuid4().hex
        blob = np.asarray(vector, dtype="<f4").tobytes()
        self._session.add(
            Template(
                id=template_id,
                person_id=person_id,
                model=model,
                vector_encrypted=self._keys.encrypt(blob, f"templates.vector:{template_id}:{person_id}:{model}"),
                quality=quality,
                created_at=_now(),
            )
        )
        return template_id

    def templates(self, model: str, person_ids: list[str] | None = None) -> list[tuple[str, np.ndarray]]:
        """Decrypted (person id, vector) pairs of ``model``; all persons if ``person_ids`` is None."""
        query = select(Template.id, Template.person_id, Template.vector_encrypted).where(Template.model == model)
        if person_ids is not None:
            query = query.where(Template.person_id.in_(person_ids))
        out = []
        for template_id, person_id, blob in self._session.execute(query):
            raw = self._keys.decrypt(blob, f"templates.vector:{template_id}:{person_id}:{model}")
            out.append((person_id, np.frombuffer(raw, dtype="<f4").astype(np.float32)))
        return out

    def delete(self, person_id: str) -> dict[str, int]:
        """Erase a person: templates, consents, the person, and every link to them."""
        row = self._session.get(PersonRow, person_id)
        if row is None:
            raise NotFound(f"No person with id {person_id}.")
        counts = {
            "templates": len(row.templates),
            "consents": len(row.consents),
            "bookings_unlinked": self._session.execute(
                update(BookingRow)
                .where(BookingRow.passenger_pseudonym == row.nik_pseudonym)
                .values(passenger_pseudonym=None)
            ).rowcount,
            "gate_events_unlinked": self._session.execute(
                update(GateEvent).where(GateEvent.person_id == person_id).values(person_id=None)
            ).rowcount,
        }
        self._session.execute(delete(Template).where(Template.person_id == person_id))
        self._session.execute(delete(Consent).where(Consent.person_id == person_id))
        self._session.execute(delete(PersonRow).where(PersonRow.id == person_id))
        return counts

    # -- mapping ---------------------------------------------------------------

    def _to_person(self, row: PersonRow) -> Person:
        nik = Nik.parse(self._keys.decrypt_text(row.nik_encrypted, f"persons.nik:{row.id}"), today=row.created_at.date())
        return Person(
            id=row.id,
            nik=nik,
            name=self._keys.decrypt_text(row.name_encrypted, f"persons.name:{row.id}"),
            consents=frozenset(c.operator for c in row.consents),
            template_count=len(row.templates),
            created_at=row.created_at,
        )
