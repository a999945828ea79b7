"""LFW View 2 through the product's own pipeline: the published accuracy must hold."""

from __future__ import annotations

import numpy as np

from facegate.eval.dataset import embed_files
from facegate.eval.lfw import read_pairs, ten_fold_accuracy
from facegate.matching.operating_points import OperatingPoints


def test_lfw_ten_fold_accuracy_is_at_least_0_990(engine, datasets):
    root = datasets / "lfw-deepfunneled"
    pairs = read_pairs(root / "pairs.txt")
    assert len(pairs) == 6000
    names = sorted({p.first for p in pairs} | {p.second for p in pairs})
    embedded = embed_files(engine, [root / "images" / n for n in names])
    vectors, failures = embedded.vectors, embedded.failures
    index = {name: i for i, name in enumerate(names)}
    assert sum(f is not None for f in failures) == 0, "every LFW pair image yields a face"
    scores = np.array([float(vectors[index[p.first]] @ vectors[index[p.second]]) for p in pairs])
    result = ten_fold_accuracy(pairs, scores)
    print(f"LFW 10-fold accuracy {result.accuracy:.4f} +/- {result.standard_error:.4f}")
    assert result.accuracy >= 0.990

    # The shipped 1:1 operating point behaves as calibrated on these pairs too.
    threshold = OperatingPoints.load().verify("1e-3").threshold
    same = np.array([p.same for p in pairs])
    assert np.mean(scores[same] >= threshold) >= 0.98
    assert np.mean(scores[~same] >= threshold) <= 0.01
