"""Enrollment: one good face per photo, one person per NIK, one NIK per face."""

from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import func, select

from facegate.errors import DuplicateFace, DuplicateNik, InvalidNik, LowQuality, MultipleFaces, NoConsent, NoFace
from facegate.services.enrollment import add_photos, enroll
from facegate.services.persons import erase, export, find
from facegate.store.tables import AuditEntry, Consent, Person, Template

from scenario import nik, photo


def count(app, table) -> int:
    with app.store.transaction() as uow:
        return uow.session.scalar(select(func.count()).select_from(table))


def test_enroll_stores_one_encrypted_template_and_consent(app, lfw):
    person = enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    assert person.name == "Colin Powell" and person.template_count == 1
    assert person.consents == frozenset({"KAI"})
    assert person.summary()["nik"].count("*") == 8  # staff see a masked NIK
    assert find(app, nik(1)) == person.id


def test_several_photos_make_several_templates(app, lfw):
    person = enroll(app, nik(1), "Tony Blair", [photo(lfw, "Tony_Blair", n) for n in (2, 3)], operator="KAI", consent=True)
    assert person.template_count == 2
    assert add_photos(app, person.id, [photo(lfw, "Tony_Blair", 5)]).template_count == 3


def test_same_nik_twice_is_duplicate_nik(app, lfw):
    enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    with pytest.raises(DuplicateNik):
        enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 4)], operator="KAI", consent=True)


def test_same_face_under_another_nik_is_duplicate_face(app, lfw):
    enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    with pytest.raises(DuplicateFace):
        enroll(app, nik(2), "C. Powell", [photo(lfw, "Colin_Powell", 4)], operator="KAI", consent=True)
    assert count(app, Person) == 1


def test_group_photo_is_refused(app, datasets):
    group = datasets / "group-photos" / "images" / "face_recognition_obama_and_biden.jpg"
    with pytest.raises(MultipleFaces):
        enroll(app, nik(1), "Two People", [group], operator="KAI", consent=True)


def test_photo_without_face_is_refused(app, tmp_path):
    wall = tmp_path / "wall.png"
    Image.new("RGB", (400, 400), (200, 190, 180)).save(wall)
    with pytest.raises(NoFace):
        enroll(app, nik(1), "Nobody", [wall], operator="KAI", consent=True)


def test_turned_head_gets_a_hint(app, lfw):
    with pytest.raises(LowQuality) as refused:
        enroll(app, nik(1), "George W Bush", [photo(lfw, "George_W_Bush", 4)], operator="KAI", consent=True)
    assert refused.value.details["reasons"] == ["head_turned"]
    assert "Look straight at the camera" in refused.value.message


def test_no_consent_no_enrollment(app, lfw):
    with pytest.raises(NoConsent):
        enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=False)
    assert count(app, Person) == 0


def test_invalid_nik_is_refused_before_any_photo_is_read(app, tmp_path):
    with pytest.raises(InvalidNik):
        enroll(app, "1234", "X", [tmp_path / "does-not-exist.jpg"], operator="KAI", consent=True)


def test_one_bad_photo_leaves_nothing_behind(app, lfw, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photo(lfw, "Colin_Powell", 4).read_bytes()[:3000])
    with pytest.raises(Exception) as refused:
        enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2), broken], operator="KAI", consent=True)
    assert getattr(refused.value, "code", None) == "corrupt_image"
    assert (count(app, Person), count(app, Template), count(app, Consent)) == (0, 0, 0)


def test_erasure_leaves_nothing_behind(app, lfw):
    person = enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    assert export(app, person.id)["person"]["nik"] == nik(1)
    erase(app, person.id)
    assert (count(app, Person), count(app, Template), count(app, Consent)) == (0, 0, 0)
    with app.store.transaction() as uow:
        actions = [a.action for a in uow.session.scalars(select(AuditEntry))]
        assert uow.events.verify_audit_chain() == (True, len(actions))
    assert actions[0] == "person.enroll" and actions[-1] == "person.erase"
    # The person can enroll again afterwards (e.g. after withdrawing and giving consent anew).
    enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)


@pytest.mark.parametrize("name", ["Siti\x1b[31m Rahma", "Siti\u202eamhaR", "Si\u200bti", "", "x" * 201])
def test_names_that_would_corrupt_a_screen_are_refused(app, lfw, name):
    from facegate.errors import InvalidInput

    with pytest.raises(InvalidInput):
        enroll(app, nik(1), name, [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)


def test_the_refused_photo_is_named(app, lfw, datasets):
    group = datasets / "group-photos" / "images" / "face_recognition_obama_and_biden.jpg"
    with pytest.raises(MultipleFaces) as refused:
        enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2), group], operator="KAI", consent=True)
    assert refused.value.message.startswith("Photo 2 (face_recognition_obama_and_biden.jpg):")


@pytest.mark.parametrize("size", [(1, 1000), (20000, 5), (10000, 16)])
def test_strips_of_pixels_have_no_face(app, tmp_path, size):
    strip = tmp_path / "strip.png"
    Image.new("RGB", size, (90, 90, 90)).save(strip)
    with pytest.raises(NoFace):
        enroll(app, nik(1), "Nobody", [strip], operator="KAI", consent=True)


def test_photos_of_two_people_cannot_be_one_enrollment(app, lfw):
    from facegate.errors import FaceMismatch

    with pytest.raises(FaceMismatch, match="not all show one person"):
        enroll(app, nik(1), "Kofi Annan", [photo(lfw, "Kofi_Annan", 1), photo(lfw, "Silvio_Berlusconi", 1)], operator="KAI", consent=True)
    half_and_half = [photo(lfw, "Jacques_Chirac", n) for n in (1, 3, 4)] + [photo(lfw, "Gerhard_Schroeder", n) for n in (1, 2, 3)]
    with pytest.raises(FaceMismatch, match="not all show one person"):
        enroll(app, nik(1), "Jacques Chirac", half_and_half, operator="KAI", consent=True)
    person = enroll(app, nik(1), "Kofi Annan", [photo(lfw, "Kofi_Annan", 1), photo(lfw, "Kofi_Annan", 3)], operator="KAI", consent=True)
    assert person.template_count == 2


def test_a_photo_of_someone_else_cannot_be_added_to_a_passenger(app, lfw):
    from facegate.errors import FaceMismatch
    from facegate.services.enrollment import add_photos

    person = enroll(app, nik(1), "Gerhard Schroeder", [photo(lfw, "Gerhard_Schroeder", 1)], operator="KAI", consent=True)
    with pytest.raises(FaceMismatch, match="enrolled passenger"):
        add_photos(app, person.id, [photo(lfw, "Jacques_Chirac", 1)])
    assert add_photos(app, person.id, [photo(lfw, "Gerhard_Schroeder", 2)]).template_count == 2


def test_one_face_enrolled_at_four_kiosks_at_once_is_enrolled_once(app, lfw):
    from concurrent.futures import ThreadPoolExecutor

    face = photo(lfw, "Tony_Blair", 2)

    def attempt(seed: int) -> str:
        try:
            enroll(app, nik(seed), "Tony Blair", [face], operator="KAI", consent=True)
            return "enrolled"
        except DuplicateFace:
            return "duplicate_face"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(10, 14)))
    assert outcomes == ["duplicate_face"] * 3 + ["enrolled"]
