"""The LFW View 2 protocol: 10 folds of 300 matched + 300 mismatched pairs.

For each fold the threshold that maximises accuracy on the nine other folds is
applied to the held-out fold; the result is the mean (and standard error) of
the ten fold accuracies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Pair", "read_pairs", "ten_fold_accuracy", "TenFoldResult"]


@dataclass(frozen=True)
class Pair:
    fold: int
    first: str  # path relative to the images folder, e.g. "Abel_Pacheco/Abel_Pacheco_0001.jpg"
    second: str
    same: bool


def _image(name: str, number: str) -> str:
    return f"{name}/{name}_{int(number):04d}.jpg"


def read_pairs(path: Path) -> list[Pair]:
    lines = path.read_text().split("\n")
    folds, per_fold = (int(v) for v in lines[0].split())
    pairs: list[Pair] = []
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    for index, row in enumerate(rows[: folds * 2 * per_fold]):
        fold = index // (2 * per_fold)
        if len(row) == 3:
            pairs.append(Pair(fold, _image(row[0], row[1]), _image(row[0], row[2]), True))
        else:
            pairs.append(Pair(fold, _image(row[0], row[1]), _image(row[2], row[3]), False))
    return pairs


@dataclass(frozen=True)
class TenFoldResult:
    accuracy: float
    standard_error: float
    fold_accuracies: tuple[float, ...]
    thresholds: tuple[float, ...]


def _best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    candidates = np.unique(scores)
    mids = np.concatenate([[candidates[0] - 1e-6], (candidates[:-1] + candidates[1:]) / 2, [candidates[-1] + 1e-6]])
    accuracy = [(np.mean((scores >= t) == same), -abs(t)) for t in mids]
    return float(mids[int(np.argmax([a for a, _ in accuracy]))])


def ten_fold_accuracy(pairs: list[Pair], scores: np.ndarray) -> TenFoldResult:
    """``scores[i]`` is the similarity of ``pairs[i]`` (use -1 for a pair that failed)."""
    folds = np.array([p.fold for p in pairs])
    same = np.array([p.same for p in pairs])
    accuracies, thresholds = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        t = _best_threshold(scores[train], same[train])
        thresholds.append(t)
        accuracies.append(float(np.mean((scores[test] >= t) == same[test])))
    acc = np.array(accuracies)
    return TenFoldResult(float(acc.mean()), float(acc.std(ddof=1) / np.sqrt(len(acc))), tuple(accuracies), tuple(thresholds))
