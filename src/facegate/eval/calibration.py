"""Measure operating points from a labelled template set (e.g. all of LFW).

* 1:1 thresholds at target FMRs from every impostor pair;
* 1:N gate thresholds per gallery size from open-set simulations: galleries of
  N identities (one template each) drawn at random, every image of an identity
  outside the gallery used as a non-mated probe; the threshold is the
  (1 - FPIR) quantile of the best non-mated score. TPIR (the mate found, at
  rank 1, above threshold) is reported for the same galleries.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

from .verification import FMR_TARGETS, all_pair_scores

__all__ = ["calibrate", "GALLERY_SIZES"]

GALLERY_SIZES = (50, 100, 200, 500, 1000, 2000)
SUSPECT_SCORE = 0.7


def _label(rate: float) -> str:
    return f"{rate:.0e}".replace("e-0", "e-")


def gate_table(vectors: np.ndarray, labels: np.ndarray, target_fpir: float, repeats: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    _, ids = np.unique(labels, return_inverse=True)
    counts = np.bincount(ids)
    with_mates = np.flatnonzero(counts >= 2)
    rows = []
    # Galleries need people left outside them for the non-mated searches.
    sizes = [n for n in GALLERY_SIZES if n <= counts.size // 2] or [max(1, counts.size // 2)]
    for size in sizes:
        # Draw gallery identities that have a second photo (for mated searches)
        # while there are enough of them, then from everyone.
        population = with_mates if size <= with_mates.size else np.arange(counts.size)
        nonmated, mated, correct = [], [], []
        for _ in range(repeats):
            gallery_ids = rng.choice(population, size, replace=False)
            enrolled = np.array([rng.choice(np.flatnonzero(ids == g)) for g in gallery_ids])
            gallery = vectors[enrolled]
            in_gallery = np.isin(ids, gallery_ids)
            nonmated.append((vectors[~in_gallery] @ gallery.T).max(axis=1))
            probes = np.setdiff1d(np.flatnonzero(in_gallery), enrolled)
            scores = vectors[probes] @ gallery.T
            mated.append(scores.max(axis=1))
            correct.append(gallery_ids[scores.argmax(axis=1)] == ids[probes])
        best_nonmated = np.concatenate(nonmated)
        threshold = float(np.ceil(np.quantile(best_nonmated, 1.0 - target_fpir) * 1e4) / 1e4)
        best_mated, hit = np.concatenate(mated), np.concatenate(correct)
        rows.append(
            {
                "gallery_size": size,
                "threshold": round(threshold, 4),
                "fpir": round(float(np.mean(best_nonmated >= threshold)), 6),
                "tpir": round(float(np.mean((best_mated >= threshold) & hit)), 4),
                "nonmated_searches": int(best_nonmated.size),
                "mated_searches": int(best_mated.size),
            }
        )
    for smaller, larger in zip(rows, rows[1:]):
        larger["threshold"] = max(larger["threshold"], smaller["threshold"])
    return rows


def suspect_images(vectors: np.ndarray, labels: np.ndarray, block: int = 2048) -> np.ndarray:
    """Mask of images whose best impostor score is >= SUSPECT_SCORE (likely label noise)."""
    _, ids = np.unique(labels, return_inverse=True)
    suspect = np.zeros(len(vectors), bool)
    for start in range(0, len(vectors), block):
        scores = vectors[start : start + block] @ vectors.T
        scores[ids[start : start + block, None] == ids[None, :]] = -1.0
        suspect[start : start + block] = scores.max(axis=1) >= SUSPECT_SCORE
    return suspect


def calibrate(
    vectors: np.ndarray,
    labels: np.ndarray,
    *,
    model: str,
    dataset: str,
    target_fpir: float = 1e-3,
    repeats: int = 20,
    seed: int = 2026,
) -> dict[str, Any]:
    """The content of an operating-points file."""
    pairs = all_pair_scores(vectors, labels)
    verify = {}
    for fmr in FMR_TARGETS:
        threshold = pairs.threshold_at_fmr(fmr)
        verify[_label(fmr)] = {
            "threshold": round(threshold, 4),
            "measured_fmr": pairs.fmr_at(threshold),
            "tar": round(pairs.tar_at(threshold), 4),
        }
    eer, eer_threshold = pairs.eer()
    suspect = suspect_images(vectors, labels)
    now = datetime.now(timezone.utc)
    return {
        "version": now.strftime("%Y%m%d") + f"-{dataset.lower()}",
        "model": model,
        "created_at": now.isoformat(timespec="seconds"),
        "dataset": dataset,
        "images": int(len(vectors)),
        "genuine_pairs": pairs.genuine_pairs,
        "impostor_pairs": pairs.impostor_pairs,
        "eer": round(eer, 5),
        "eer_threshold": round(eer_threshold, 4),
        "verify": verify,
        "gate": {
            "target_fpir": _label(target_fpir),
            "repeats": repeats,
            "seed": seed,
            "suspect_images_excluded": int(suspect.sum()),
            "table": gate_table(vectors[~suspect], labels[~suspect], target_fpir, repeats, seed),
        },
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m facegate.eval.calibration DATASET OUT.json``: embed every image
    under ``DATASET/images/<identity>/`` with the production pipeline and write
    the operating points (the shipped file was made this way from LFW)."""
    import argparse
    import json
    from pathlib import Path

    from rich.progress import Progress

    from ..vision.engine import FaceEngine
    from .dataset import embed_files

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", default="LFW")
    args = parser.parse_args(argv)
    files = sorted(p for p in (args.dataset / "images").glob("*/*") if p.is_file())
    engine = FaceEngine()
    with Progress() as progress:
        task = progress.add_task("Embedding", total=len(files))
        embedded = embed_files(engine, files, on_done=lambda: progress.advance(task))
    vectors, ok = embedded.vectors, embedded.acquired
    labels = np.array([p.parent.name for p in files])
    result = calibrate(vectors[ok], labels[ok], model=engine.template_model, dataset=args.name)
    result["failure_to_acquire"] = int((~ok).sum())
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(files)} images, {int((~ok).sum())} without a usable face; wrote {args.out}")


if __name__ == "__main__":
    main()
