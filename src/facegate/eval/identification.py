"""Open-set 1:N identification as a function of gallery size (ISO/IEC 19795-1 terms).

For each gallery size N, random galleries of N identities (one enrolled photo
each) are searched with every other photo: photos of enrolled identities are
*mated* searches, photos of everyone else *non-mated*. Reported per N:

* FNIR at FPIR targets: the threshold is set so that the stated share of
  non-mated searches (people never enrolled) is wrongly matched; FNIR is the
  share of mated searches not found at rank 1 above that threshold;
* rank-1 identification rate (closed set, no threshold).

The same simulation, with label-noise filtering, produces the gate's operating
points (see :mod:`facegate.eval.calibration`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["identification_curve", "multi_template_study"]


def _galleries(ids: np.ndarray, size: int, repeats: int, rng: np.random.Generator, photos_per_id: int = 1):
    counts = np.bincount(ids)
    candidates = np.flatnonzero(counts > photos_per_id)  # people left with a photo to search with
    if candidates.size < size:  # large galleries: fill up with everyone who has enough photos to enroll
        candidates = np.flatnonzero(counts >= photos_per_id)
    if candidates.size < size or size >= counts.size:
        return
    for _ in range(repeats):
        chosen = rng.choice(candidates, size, replace=False)
        enrolled = [rng.choice(np.flatnonzero(ids == g), photos_per_id, replace=False) for g in chosen]
        yield chosen, enrolled


def identification_curve(
    vectors: np.ndarray,
    labels: np.ndarray,
    sizes: tuple[int, ...] = (100, 1000, 5000),
    fpir_targets: tuple[float, ...] = (1e-2, 1e-3),
    repeats: int = 5,
    seed: int = 2026,
) -> list[dict[str, Any]]:
    _, ids = np.unique(labels, return_inverse=True)
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes:
        best_nonmated, best_mated, hit = [], [], []
        for chosen, enrolled in _galleries(ids, size, repeats, rng):
            flat = np.concatenate(enrolled)
            gallery = vectors[flat]
            in_gallery = np.isin(ids, chosen)
            best_nonmated.append((vectors[~in_gallery] @ gallery.T).max(axis=1))
            probes = np.setdiff1d(np.flatnonzero(in_gallery), flat)
            scores = vectors[probes] @ gallery.T
            best_mated.append(scores.max(axis=1))
            hit.append(chosen[scores.argmax(axis=1)] == ids[probes])
        if not best_mated or not sum(m.size for m in best_mated):
            continue  # not enough identities with a second photo for this size
        nonmated, mated, correct = np.concatenate(best_nonmated), np.concatenate(best_mated), np.concatenate(hit)
        row: dict[str, Any] = {
            "gallery_size": size,
            "mated_searches": int(mated.size),
            "nonmated_searches": int(nonmated.size),
            "rank1": round(float(correct.mean()), 4),
            "fnir_at_fpir": {},
        }
        for target in fpir_targets:
            name = f"{target:.0e}".replace("e-0", "e-")
            if nonmated.size * target < 10:  # fewer than 10 expected false positives: not measurable
                row["fnir_at_fpir"][name] = None
                continue
            threshold = float(np.quantile(nonmated, 1.0 - target))
            found = (mated >= threshold) & correct
            row["fnir_at_fpir"][name] = {
                "threshold": round(threshold, 4),
                "fnir": round(float(1.0 - found.mean()), 4),
                "fpir": round(float((nonmated >= threshold).mean()), 6),
            }
        rows.append(row)
    return rows


def multi_template_study(
    vectors: np.ndarray, labels: np.ndarray, enrolled_photos: int = 3, size: int = 100, repeats: int = 20, seed: int = 2026
) -> dict[str, Any]:
    """Several photos per person: match against the best of them, or against their mean?

    Galleries of ``size`` people enrolled with ``enrolled_photos`` photos each;
    FNIR at FPIR 1e-3 for both rules, on the same searches."""
    _, ids = np.unique(labels, return_inverse=True)
    rng = np.random.default_rng(seed)
    results: dict[str, list[np.ndarray]] = {"best": [], "mean": [], "single": []}
    nonmated_all: dict[str, list[np.ndarray]] = {"best": [], "mean": [], "single": []}
    correct_all: dict[str, list[np.ndarray]] = {"best": [], "mean": [], "single": []}
    for chosen, enrolled in _galleries(ids, size, repeats, rng, enrolled_photos):
        in_gallery = np.isin(ids, chosen)
        flat = np.concatenate(enrolled)
        probes = np.setdiff1d(np.flatnonzero(in_gallery), flat)
        outsiders = vectors[~in_gallery]
        means = np.stack([vectors[e].mean(axis=0) for e in enrolled])
        means /= np.linalg.norm(means, axis=1, keepdims=True)
        singles = vectors[[e[0] for e in enrolled]]
        for rule in results:
            if rule == "best":
                def score(x: np.ndarray) -> np.ndarray:
                    per_photo = x @ vectors[flat].T
                    return per_photo.reshape(len(x), size, enrolled_photos).max(axis=2)
            else:
                gallery = means if rule == "mean" else singles

                def score(x: np.ndarray, gallery: np.ndarray = gallery) -> np.ndarray:
                    return x @ gallery.T
            mated = score(vectors[probes])
            results[rule].append(mated.max(axis=1))
            correct_all[rule].append(chosen[mated.argmax(axis=1)] == ids[probes])
            nonmated_all[rule].append(score(outsiders).max(axis=1))
    out: dict[str, Any] = {"gallery_size": size, "enrolled_photos": enrolled_photos, "repeats": repeats}
    for rule in results:
        if not results[rule] or not sum(r.size for r in results[rule]):
            return out
        nonmated = np.concatenate(nonmated_all[rule])
        if nonmated.size * 1e-3 < 10:
            out[rule] = None  # too few non-mated searches to set a threshold at FPIR 1e-3
            continue
        threshold = float(np.quantile(nonmated, 1 - 1e-3))
        found = (np.concatenate(results[rule]) >= threshold) & np.concatenate(correct_all[rule])
        out[rule] = {"threshold_at_fpir_1e-3": round(threshold, 4), "fnir": round(float(1 - found.mean()), 4)}
    return out
