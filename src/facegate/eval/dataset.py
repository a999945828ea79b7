"""Run the production pipeline (intake -> detect -> align -> embed) over many files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import FacegateError
from ..imaging import load_image
from ..services.faces import capture_at_gate
from ..vision.engine import FaceEngine

__all__ = ["embed_files"]


def embed_files(
    engine: FaceEngine,
    paths: Sequence[Path],
    *,
    workers: int = 2,
    on_done: Callable[[], None] | None = None,
) -> tuple[np.ndarray, list[str | None]]:
    """(vectors, failures): one unit row per path (zeros where it failed) and,
    per path, None or the error code that made it fail (failure to acquire)."""

    def one(path: Path) -> tuple[np.ndarray | None, str | None]:
        try:
            capture = capture_at_gate(engine, load_image(path))
        except FacegateError as error:
            result: tuple[np.ndarray | None, str | None] = (None, error.code)
        else:
            result = (capture.vector, None) if capture else (None, "no_face")
        if on_done:
            on_done()
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, paths))
    vectors = np.zeros((len(paths), engine.dimensions), np.float32)
    for index, (vector, _) in enumerate(results):
        if vector is not None:
            vectors[index] = vector
    return vectors, [code for _, code in results]
