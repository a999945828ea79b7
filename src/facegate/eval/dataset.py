"""Run the production pipeline (intake -> detect -> align -> embed) over many files.

For each file this records the template of the face a gate would decide for
(failure to acquire if there is none) and whether the photo would be accepted
at an enrollment kiosk (failure to enroll, with the reason), from one detection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FacegateError
from ..imaging import load_image
from ..services.faces import capture_at_gate, check_enrollment
from ..vision.engine import FaceEngine

__all__ = ["Embedded", "embed_files"]


@dataclass
class Embedded:
    vectors: np.ndarray  # one unit row per file; zeros where acquisition failed
    failures: list[str | None]  # None, or the error code that made acquisition fail
    enrollment: list[str | None]  # None if the photo passes enrollment, else the refusal code

    @property
    def acquired(self) -> np.ndarray:
        return np.array([f is None for f in self.failures], dtype=bool)


def embed_files(
    engine: FaceEngine,
    paths: Sequence[Path],
    *,
    workers: int = 2,
    on_done: Callable[[], None] | None = None,
) -> Embedded:
    def one(path: Path) -> tuple[np.ndarray | None, str | None, str | None]:
        try:
            image = load_image(path)
            faces = engine.detect(image)
            capture = capture_at_gate(engine, image, faces)
        except FacegateError as error:
            return None, error.code, error.code
        finally:
            if on_done:
                on_done()
        if capture is None:
            return None, "no_face", "no_face"
        try:
            check_enrollment(engine, image, faces=faces)
            enroll_code = None
        except FacegateError as error:
            enroll_code = error.code
        return capture.vector, None, enroll_code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, paths))
    vectors = np.zeros((len(paths), engine.dimensions), np.float32)
    for index, (vector, _, _) in enumerate(results):
        if vector is not None:
            vectors[index] = vector
    return Embedded(vectors, [r[1] for r in results], [r[2] for r in results])
