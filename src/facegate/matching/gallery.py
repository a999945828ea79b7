"""Exact 1:N search over unit-length templates.

A gallery holds one row per template; several rows may belong to one owner
(a person enrolled with several photos). Scores are cosine similarities, and an
owner's score is the best of their templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Hashable, Sequence, TypeVar

import numpy as np

__all__ = ["Candidate", "Gallery", "cosine"]

K = TypeVar("K", bound=Hashable)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two unit-length vectors."""
    return float(np.dot(np.asarray(a, np.float32).ravel(), np.asarray(b, np.float32).ravel()))


@dataclass(frozen=True, slots=True)
class Candidate(Generic[K]):
    key: K
    score: float


class Gallery(Generic[K]):
    """Templates grouped by owner key, searched by matrix product."""

    def __init__(self, entries: Sequence[tuple[K, np.ndarray]]) -> None:
        order = sorted(range(len(entries)), key=lambda i: str(entries[i][0]))
        keys = [entries[i][0] for i in order]
        if entries:
            self._matrix = np.ascontiguousarray(np.stack([entries[i][1] for i in order]), dtype=np.float32)
        else:
            self._matrix = np.zeros((0, 0), np.float32)
        starts = [i for i, key in enumerate(keys) if i == 0 or key != keys[i - 1]]
        self._starts = np.asarray(starts, dtype=np.intp)
        self._owners: list[K] = [keys[i] for i in starts]

    def __len__(self) -> int:
        """Number of owners (people), not templates."""
        return len(self._owners)

    @property
    def template_count(self) -> int:
        return int(self._matrix.shape[0])

    def scores(self, probe: np.ndarray) -> np.ndarray:
        """Best score per owner, in owner order."""
        if not self._owners:
            return np.zeros(0, np.float32)
        per_row = self._matrix @ np.asarray(probe, np.float32).ravel()
        return np.maximum.reduceat(per_row, self._starts)

    def search(self, probe: np.ndarray, k: int = 1) -> list[Candidate[K]]:
        """The ``k`` best-scoring owners, best first."""
        scores = self.scores(probe)
        if scores.size == 0:
            return []
        k = min(k, scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [Candidate(self._owners[i], float(scores[i])) for i in top]
