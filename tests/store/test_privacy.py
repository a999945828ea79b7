"""What an attacker who copies the database file would see: no NIK, name or template."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import select, update

from facegate.errors import ConfigurationError
from facegate.services.enrollment import enroll
from facegate.services.persons import export
from facegate.store.tables import AuditEntry, Template

from scenario import nik, photo


def test_database_file_holds_no_nik_name_or_embedding(app, lfw):
    person = enroll(app, nik(7), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    vector = app.engine.embed(*_face(app, photo(lfw, "Colin_Powell", 2)))
    raw = _everything_stored(app)
    assert len(raw) > 1000
    assert nik(7).encode() not in raw
    assert b"Colin Powell" not in raw and "Colin Powell".encode("utf-16-le") not in raw
    for chunk in (vector[:4].astype("<f4").tobytes(), vector[:4].astype("<f8").tobytes()):
        assert chunk not in raw and chunk.hex().encode() not in raw
    assert export(app, person.id)["person"]["name"] == "Colin Powell"  # still readable with the key


def test_key_file_is_private(app, lfw):
    enroll(app, nik(7), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    mode = stat.S_IMODE(os.stat(app.settings.data_dir / "facegate.key").st_mode)
    assert mode == 0o600


def test_template_moved_to_another_row_does_not_decrypt(app, lfw):
    a = enroll(app, nik(7), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    b = enroll(app, nik(8), "Tony Blair", [photo(lfw, "Tony_Blair", 3)], operator="KAI", consent=True)
    with app.store.transaction() as uow:
        blob = uow.session.scalar(select(Template.vector_encrypted).where(Template.person_id == a.id))
        uow.session.execute(update(Template).where(Template.person_id == b.id).values(vector_encrypted=blob))
    with pytest.raises(ConfigurationError), app.store.transaction() as uow:
        uow.persons.templates(app.engine.template_model)


def test_audit_chain_detects_tampering(app, lfw):
    enroll(app, nik(7), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    export(app, _only_person(app))
    with app.store.transaction() as uow:
        assert uow.events.verify_audit_chain()[0]
        uow.session.execute(update(AuditEntry).where(AuditEntry.id == 1).values(actor="someone-else"))
    with app.store.transaction() as uow:
        assert uow.events.verify_audit_chain() == (False, 0)


def _everything_stored(app) -> bytes:
    """SQLite: the database files as bytes. PostgreSQL: every row of every table, as COPY text."""
    if app.store.engine.dialect.name == "sqlite":
        app.close()
        db = app.settings.data_dir / "facegate.db"
        return b"".join(p.read_bytes() for p in db.parent.glob("facegate.db*"))  # db + WAL
    out = []
    with app.store.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for table in ("persons", "consents", "templates", "departures", "bookings", "gate_events", "audit_log"):
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                out.extend(bytes(block) for block in copy)
    return b"".join(out)


def _only_person(app) -> str:
    with app.store.transaction() as uow:
        return uow.persons.list()[0].id


def _face(app, path):
    image = app.load_image(path)
    faces = app.engine.detect(image)
    return image, max(faces, key=lambda f: f.eye_distance)



def test_audit_chain_detects_entries_removed_from_its_end(app, lfw):
    from sqlalchemy import delete, func, select

    enroll(app, nik(7), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    export(app, _only_person(app))
    with app.store.transaction() as uow:
        newest = uow.session.scalar(select(func.max(AuditEntry.id)))
        uow.session.execute(delete(AuditEntry).where(AuditEntry.id == newest))  # hide the export
    with app.store.transaction() as uow:
        assert uow.events.verify_audit_chain()[0] is False
