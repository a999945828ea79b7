"""Fixtures for the vision tests: real LFW photos by name, and their detected faces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from facegate.imaging import load_image
from facegate.vision.engine import Face, FaceEngine


@pytest.fixture(scope="session")
def lfw_photo(lfw: Path) -> Callable[[str, int], np.ndarray]:
    """``lfw_photo("Colin_Powell", 1)`` -> the RGB array of Colin_Powell_0001.jpg."""

    def load(person: str, number: int = 1) -> np.ndarray:
        return load_image(lfw / person / f"{person}_{number:04d}.jpg")

    return load


@pytest.fixture(scope="session")
def single_face(engine: FaceEngine) -> Callable[[np.ndarray], Face]:
    """Detect and return the one face in a photo that must hold exactly one."""

    def detect(image: np.ndarray) -> Face:
        faces = engine.detect(image)
        assert len(faces) == 1, f"expected one face, found {len(faces)}"
        return faces[0]

    return detect
