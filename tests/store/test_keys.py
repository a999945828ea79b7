"""The key that encrypts the store: never silently replaced, never readable by others."""

from __future__ import annotations

import pytest

from facegate.errors import ConfigurationError
from facegate.services.context import Facegate
from facegate.services.enrollment import enroll
from facegate.services.persons import list_persons

from scenario import nik, photo


@pytest.fixture
def populated(app, lfw):
    enroll(app, nik(1), "Colin Powell", [photo(lfw, "Colin_Powell", 2)], operator="KAI", consent=True)
    app.close()
    return app.settings


def reopen(settings, **changes):
    return Facegate(settings.model_copy(update=changes)).store


def test_missing_key_file_is_an_error_not_a_new_key(populated):
    key = populated.data_dir / "facegate.key"
    key.rename(key.with_suffix(".bak"))
    with pytest.raises(ConfigurationError, match="missing"):
        reopen(populated)
    assert not key.exists(), "no replacement key may be written for a database that has data"


def test_wrong_secret_is_an_error(populated):
    with pytest.raises(ConfigurationError, match="different"):
        reopen(populated, secret_key="x" * 40)


@pytest.mark.parametrize("content", [b"", b"QUFB\n", b"not base64 !!\n"])
def test_damaged_key_file_is_an_error(populated, content):
    (populated.data_dir / "facegate.key").write_bytes(content)
    with pytest.raises(ConfigurationError):
        reopen(populated)


def test_key_file_readable_by_others_is_refused(populated):
    (populated.data_dir / "facegate.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        reopen(populated)


def test_the_right_key_reads_the_data(populated):
    app = Facegate(populated)
    total, people = list_persons(app)
    assert total == 1 and people[0].name == "Colin Powell"
