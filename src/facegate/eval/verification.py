"""1:1 verification error rates over every pair of a labelled template set.

All pairs are scored in blocks (a 13k-image set has ~87M impostor pairs) and
accumulated into fine histograms of cosine scores, so memory stays bounded and
thresholds are resolved to 1e-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PairScores", "all_pair_scores", "FMR_TARGETS"]

FMR_TARGETS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
_BINS = np.linspace(-1.0, 1.0, 20001)  # bin width 1e-4


@dataclass
class PairScores:
    genuine: np.ndarray  # histogram counts over _BINS
    impostor: np.ndarray

    @property
    def genuine_pairs(self) -> int:
        return int(self.genuine.sum())

    @property
    def impostor_pairs(self) -> int:
        return int(self.impostor.sum())

    def threshold_at_fmr(self, fmr: float) -> float:
        """Smallest threshold whose false-match rate (score >= t) is <= ``fmr``."""
        above = np.cumsum(self.impostor[::-1])[::-1]  # impostors with score >= bin start
        rate = above / max(1, self.impostor_pairs)
        index = int(np.argmax(rate <= fmr))
        return float(_BINS[index])

    def fmr_at(self, threshold: float) -> float:
        index = int(np.searchsorted(_BINS, threshold, side="left"))
        return float(self.impostor[index:].sum() / max(1, self.impostor_pairs))

    def tar_at(self, threshold: float) -> float:
        index = int(np.searchsorted(_BINS, threshold, side="left"))
        return float(self.genuine[index:].sum() / max(1, self.genuine_pairs))

    def eer(self) -> tuple[float, float]:
        """(equal error rate, threshold)."""
        fmr = np.cumsum(self.impostor[::-1])[::-1] / max(1, self.impostor_pairs)
        fnmr = np.concatenate([[0.0], np.cumsum(self.genuine)[:-1]]) / max(1, self.genuine_pairs)
        index = int(np.argmin(np.abs(fmr - fnmr)))
        return float((fmr[index] + fnmr[index]) / 2), float(_BINS[index])


def all_pair_scores(vectors: np.ndarray, labels: np.ndarray, block: int = 1024) -> PairScores:
    """Score every unordered pair (i < j) of ``vectors`` (unit rows)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    _, ids = np.unique(labels, return_inverse=True)
    genuine = np.zeros(len(_BINS) - 1, np.int64)
    impostor = np.zeros(len(_BINS) - 1, np.int64)
    n = len(vectors)
    for start in range(0, n, block):
        stop = min(n, start + block)
        scores = vectors[start:stop] @ vectors[start:].T
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, n)[None, :]
        upper = cols > rows
        same = ids[start:stop, None] == ids[None, start:]
        genuine += np.histogram(scores[upper & same], _BINS)[0]
        impostor += np.histogram(scores[upper & ~same], _BINS)[0]
    return PairScores(genuine, impostor)
