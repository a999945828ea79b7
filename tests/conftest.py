"""Shared fixtures: the real photo datasets, the face engine, a fresh store."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from facegate.config import Settings
from facegate.services.context import Facegate
from facegate.vision.engine import FaceEngine

REPO = Path(__file__).resolve().parents[1]


def datasets_root() -> Path:
    return Path(os.environ.get("FACEGATE_DATASETS") or REPO.parent / "shared" / "datasets")


@pytest.fixture(scope="session")
def datasets() -> Path:
    root = datasets_root()
    if not (root / "lfw-deepfunneled" / "images").is_dir():
        message = (
            f"The shared photo datasets are missing at {root}. Put LFW deep-funneled (and the other sets "
            "listed in DESIGN.md) there or set FACEGATE_DATASETS."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def lfw(datasets: Path) -> Path:
    return datasets / "lfw-deepfunneled" / "images"


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return FaceEngine()


#: The PostgreSQL the machine runs (CI too); each test gets a schema of its own, dropped afterwards.
POSTGRES = os.environ.get("FACEGATE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres() -> str:
    if not _postgres_available():
        message = f"PostgreSQL is not reachable at {POSTGRES} (set FACEGATE_TEST_POSTGRES)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (the embedded SQLite default) or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    import psycopg

    url = request.getfixturevalue("postgres")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def settings(tmp_path: Path, datasets: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=None, datasets=datasets)


@pytest.fixture
def app(settings: Settings, engine: FaceEngine):
    facegate = Facegate(settings, actor="test")
    facegate.shared_engine(engine)  # share the loaded models between tests
    yield facegate
    facegate.close()
