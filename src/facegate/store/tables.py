"""The database schema (SQLAlchemy 2 typed ORM). Alembic migrations mirror it.

Personal data never sits here in clear: NIKs appear only as an HMAC pseudonym
(for look-ups) and as AES-GCM ciphertext, names and templates only as
ciphertext. The SQL stays portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "Base", "Person", "Consent", "Template", "DepartureRow", "BookingRow", "GateEvent", "AuditEntry", "StoreState",
    "OperatorRow", "SiteRow", "GateRow", "ApiKeyRow",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (portable)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nik_pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    nik_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    name_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    consents: Mapped[list[Consent]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    templates: Mapped[list[Template]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("person_id", "operator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    operator: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64))  # e.g. "sface-2021dec"; templates of different models never compare
    vector_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DepartureRow(Base):
    __tablename__ = "departures"
    __table_args__ = (UniqueConstraint("operator", "service_number", "scheduled_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator: Mapped[str] = mapped_column(String(64))
    service_number: Mapped[str] = mapped_column(String(32))
    origin_site: Mapped[str] = mapped_column(String(32), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    boarding_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    boarding_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled: Mapped[bool] = mapped_column(default=False)


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("departure_id", "reference"),
        # One passenger, one booking per departure: a face boards a departure once.
        UniqueConstraint("departure_id", "passenger_pseudonym", name="uq_bookings_departure_passenger"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(64))  # the operator's ticket / booking code
    #: HMAC pseudonym of the passenger's NIK; NULL once the passenger is erased.
    passenger_pseudonym: Mapped[str | None] = mapped_column(String(64), index=True)
    seat: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="booked")
    boarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    boarded_gate: Mapped[str | None] = mapped_column(String(64))

    departure: Mapped[DepartureRow] = relationship()


class GateEvent(Base):
    """One gate decision. Holds no face data and no NIK."""

    __tablename__ = "gate_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    site: Mapped[str] = mapped_column(String(32), index=True)
    gate: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    operating_point: Mapped[str] = mapped_column(String(64))
    faces_detected: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)


class AuditEntry(Base):
    """Append-only, hash-chained record of every access that matters."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))  # a person id or pseudonym, never a NIK
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class StoreState(Base):
    """One row: a counter bumped by every change that can alter a gallery, and
    the fingerprint of the key the data was written with."""

    __tablename__ = "store_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    key_id: Mapped[str | None] = mapped_column(String(64))
    #: Hash of the newest audit entry: deleting entries from the end of the chain is detected too.
    audit_head: Mapped[str | None] = mapped_column(String(64))


class OperatorRow(Base):
    """A tenant: a railway or airport operator. Departures and consents name it by ``code``."""

    __tablename__ = "operators"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SiteRow(Base):
    """A station or airport, owned by one operator."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator: Mapped[str] = mapped_column(ForeignKey("operators.code"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GateRow(Base):
    """A boarding gate at a site."""

    __tablename__ = "gates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKeyRow(Base):
    """An API key: one operator, one role (a gate key also one gate). Only a keyed hash of the secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public part, shown in lists and audit
    operator: Mapped[str] = mapped_column(ForeignKey("operators.code"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    gate: Mapped[str | None] = mapped_column(ForeignKey("gates.id"))
    label: Mapped[str] = mapped_column(String(64), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
