"""Shared fixtures: the real photo datasets, the face engine, a fresh store."""

from __future__ import annotations

import os
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


@pytest.fixture
def settings(tmp_path: Path, datasets: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=None, secret_key=None, datasets=datasets)


@pytest.fixture
def app(settings: Settings, engine: FaceEngine):
    facegate = Facegate(settings, actor="test")
    facegate.__dict__["_engine"] = engine  # share the loaded models between tests
    yield facegate
    facegate.close()
