"""``facegate eval DATASET``: error rates measured with the production pipeline.

DATASET is a folder of ``images/<identity>/<photo>`` (or ``<identity>/<photo>``
directly), optionally with an LFW-format ``pairs.txt``. The run embeds every
photo (intake -> detect -> align -> embed, two threads), then reports, in ISO/IEC
19795-1 terms:

* failure to acquire (no usable face) and failure to enroll (the photo would be
  refused at an enrollment kiosk), with the files;
* 1:1 verification over all genuine and impostor pairs: TAR/FNMR at FMR 1e-2 ..
  1e-6, EER, and the LFW 10-fold accuracy if ``pairs.txt`` exists;
* 1:N open-set identification by gallery size: FNIR at FPIR 1e-2 and 1e-3, rank-1;
* several photos per person: best-of versus mean template;
* score histograms and a DET curve (PNG), a self-contained HTML report and a
  JSON file of every figure. ``calibrate=True`` also writes operating points.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FacegateError
from ..vision.engine import FaceEngine
from .calibration import calibrate as calibrate_points
from .dataset import embed_files
from .identification import identification_curve, multi_template_study
from .lfw import read_pairs, ten_fold_accuracy
from .verification import _BINS, FMR_TARGETS, PairScores, all_pair_scores

__all__ = ["evaluate", "dataset_files"]

#: Files never taken for photos (dataset documentation); everything else is tried, and what
#: is not an image is counted as a failure to acquire: the format is read from the bytes.
_NOT_PHOTOS = {".md", ".txt", ".csv", ".tsv", ".json", ".html", ".pdf"}
#: Below this, calibrated thresholds would not be measurements (see ``_check_calibration``).
MIN_CALIBRATION_IMPOSTOR_PAIRS = 1_000_000
MIN_CALIBRATION_IDENTITIES = 400


def _label(rate: float) -> str:
    return f"{rate:.0e}".replace("e-0", "e-")


def dataset_files(root: Path) -> tuple[Path, list[Path]]:
    """(images folder, photo files) of a dataset laid out as <identity>/<photo>."""
    images = root / "images" if (root / "images").is_dir() else root
    if not root.exists():
        raise FacegateError(f"Dataset folder {root} does not exist.", code="not_found")
    if not images.is_dir():
        raise FacegateError(f"{root} is a file; give the folder that holds <identity>/<photo>.", code="invalid_input")

    def photos(pattern: str) -> list[Path]:
        return sorted(
            p for p in images.glob(pattern)
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in _NOT_PHOTOS
        )

    files = photos("*/*") or photos("*")  # a flat folder (e.g. group photos): each photo its own identity
    if not files:
        raise FacegateError(f"No photos found under {images}/<identity>/.", code="invalid_input")
    return images, files


def _wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval for a proportion (pairs treated as independent: a lower bound on the true width)."""
    if total == 0:
        return (None, None)  # type: ignore[return-value]
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(max(0.0, centre - half), 5), round(min(1.0, centre + half), 5)


def _verification(pairs: PairScores) -> dict[str, Any]:
    rows = {}
    for fmr in FMR_TARGETS:
        threshold = pairs.threshold_at_fmr(fmr)
        tar = pairs.tar_at(threshold)
        found = round(tar * pairs.genuine_pairs)
        rows[_label(fmr)] = {
            # Fewer than 10 expected impostor pairs above the threshold: the rate cannot be measured.
            "measurable": bool(pairs.impostor_pairs * fmr >= 10 and pairs.genuine_pairs > 0),
            "threshold": round(threshold, 4),
            "measured_fmr": pairs.fmr_at(threshold),
            "impostor_pairs_above": int(round(pairs.fmr_at(threshold) * pairs.impostor_pairs)),
            "tar": round(tar, 4),
            "fnmr": round(1 - tar, 4),
            "tar_ci95": _wilson(found, pairs.genuine_pairs),
        }
    return rows


def _figure_png(draw: Callable[[Any], None]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _plots(pairs: PairScores, thresholds: dict[str, Any]) -> dict[str, bytes]:
    centres = (_BINS[:-1] + _BINS[1:]) / 2
    coarse = 50  # 0.005-wide bins for display

    def histogram(ax: Any) -> None:
        for counts, name, colour in ((pairs.genuine, "genuine", "tab:green"), (pairs.impostor, "impostor", "tab:red")):
            merged = counts[: len(counts) // coarse * coarse].reshape(-1, coarse).sum(axis=1)
            x = centres[: len(merged) * coarse].reshape(-1, coarse).mean(axis=1)
            ax.plot(x, merged / max(1, merged.sum()), label=f"{name} ({int(counts.sum()):,} pairs)", color=colour)
        for name, row in thresholds.items():
            ax.axvline(row["threshold"], color="grey", linestyle=":", linewidth=0.8)
            ax.text(row["threshold"], ax.get_ylim()[1] * 0.9 if ax.get_ylim()[1] else 0, f" FMR {name}", rotation=90, fontsize=7, va="top")
        ax.set_yscale("log")
        ax.set_xlim(-0.4, 1.0)
        ax.set_xlabel("cosine similarity")
        ax.set_ylabel("share of pairs (log)")
        ax.set_title("Score distributions")
        ax.legend()

    def det(ax: Any) -> None:
        fmr = np.cumsum(pairs.impostor[::-1])[::-1] / max(1, pairs.impostor_pairs)
        fnmr = np.concatenate([[0.0], np.cumsum(pairs.genuine)[:-1]]) / max(1, pairs.genuine_pairs)
        keep = (fmr > 0) & (fnmr > 0)
        if not keep.any():
            ax.text(0.5, 0.5, "No errors to plot: no genuine pairs, or genuine and impostor scores do not overlap",
                    ha="center", va="center", transform=ax.transAxes, fontsize=9, wrap=True)
            ax.set_axis_off()
            return
        ax.loglog(fmr[keep], fnmr[keep], color="tab:blue")
        limit = 10 / max(1, pairs.impostor_pairs)
        ax.axvspan(fmr[keep].min(), limit, color="grey", alpha=0.15, label="not measurable (< 10 impostor pairs)")
        ax.legend(loc="upper right", fontsize=8)
        for name, row in thresholds.items():
            ax.plot(row["measured_fmr"], row["fnmr"], "o", color="black", markersize=3)
            ax.annotate(f"FMR {name}: FNMR {row['fnmr']:.4f}", (row["measured_fmr"], row["fnmr"]), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
        ax.set_xlabel("false match rate (FMR)")
        ax.set_ylabel("false non-match rate (FNMR)")
        ax.set_title("DET curve (1:1, all pairs)")
        ax.grid(True, which="both", alpha=0.3)

    return {"scores.png": _figure_png(histogram), "det.png": _figure_png(det)}


def evaluate(
    dataset: Path,
    out_dir: Path,
    *,
    engine: FaceEngine,
    seed: int = 2026,
    calibrate_to: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    images, files = dataset_files(dataset)
    _prepare(out_dir)  # fail now, not after minutes of work
    if calibrate_to is not None:  # the same check runs again on what was actually acquired
        counts = Counter(p.parent.name for p in files).values()
        genuine = sum(n * (n - 1) // 2 for n in counts)
        _check_calibration(PairScores(np.array([genuine]), np.array([len(files) * (len(files) - 1) // 2 - genuine])), len(counts))
    done = [0]

    def tick() -> None:
        done[0] += 1
        if on_progress:
            on_progress(done[0], len(files))

    embedded = embed_files(engine, files, on_done=tick)
    ok = embedded.acquired
    names = [str(p.relative_to(images)) for p in files]
    flat = all(p.parent == images for p in files)
    labels = np.array([p.stem if flat else p.parent.name for p in files])
    vectors = embedded.vectors
    fta_files = [{"file": n, "code": c} for n, c in zip(names, embedded.failures) if c]
    fte_counts = Counter(c for c in embedded.enrollment if c)
    identities_enrollable = {label for label, c in zip(labels.tolist(), embedded.enrollment) if c is None}
    identities = set(labels.tolist())

    pairs = all_pair_scores(vectors[ok], labels[ok])
    verify = _verification(pairs)
    eer, eer_threshold = pairs.eer()
    result: dict[str, Any] = {
        "dataset": str(dataset),
        "model": engine.template_model,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "images": len(files),
        "identities": len(identities),
        "fta_rate": round(len(fta_files) / len(files), 6),
        "fta_files": fta_files,
        "fte_rate_photos": round(sum(fte_counts.values()) / len(files), 4),
        "fte_reasons": dict(fte_counts),
        "fte_rate_identities": round(1 - len(identities_enrollable) / len(identities), 4),
        "genuine_pairs": pairs.genuine_pairs,
        "impostor_pairs": pairs.impostor_pairs,
        "tar_at_far": {name: (row["tar"] if row["measurable"] else None) for name, row in verify.items()},
        "verification": verify,
        "eer": round(eer, 5) if pairs.genuine_pairs and pairs.impostor_pairs else None,
        "eer_threshold": round(eer_threshold, 4) if pairs.genuine_pairs and pairs.impostor_pairs else None,
    }
    pairs_file = dataset / "pairs.txt"
    if pairs_file.is_file():
        index = {n: i for i, n in enumerate(names)}
        listed = read_pairs(pairs_file)
        scores = np.array([
            float(vectors[index[p.first]] @ vectors[index[p.second]])
            if p.first in index and p.second in index and ok[index[p.first]] and ok[index[p.second]] else -1.0
            for p in listed
        ])
        tenfold = ten_fold_accuracy(listed, scores)
        result["lfw_10fold_accuracy"] = round(tenfold.accuracy, 4)
        result["lfw_10fold_ci95"] = [round(tenfold.accuracy - 1.96 * tenfold.standard_error, 4),
                                     round(tenfold.accuracy + 1.96 * tenfold.standard_error, 4)]
        result["lfw_10fold_folds"] = [round(a, 4) for a in tenfold.fold_accuracies]
    sizes = tuple(n for n in (100, 1000, 5000) if n <= len(identities) // 2) or (len(identities) // 2,)
    result["identification"] = identification_curve(vectors[ok], labels[ok], sizes=sizes, seed=seed) if sizes[0] >= 2 else []
    result["multi_photo_templates"] = multi_template_study(vectors[ok], labels[ok], size=max(2, min(100, len(identities) // 4)), seed=seed)
    points = None
    if calibrate_to is not None:
        _check_calibration(pairs, len(identities))
        points = calibrate_points(vectors[ok], labels[ok], model=engine.template_model, dataset=dataset.name, seed=seed)
        result["operating_points_file"] = str(calibrate_to)
        result["operating_points_version"] = points["version"]
    result["seconds"] = round(time.perf_counter() - started, 1)

    plots = _plots(pairs, {k: verify[k] for k in ("1e-3", "1e-4", "1e-5") if verify[k]["measurable"]})
    for name, png in plots.items():
        (out_dir / name).write_bytes(png)
    (out_dir / "report.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    (out_dir / "report.html").write_text(_html(result, plots))
    result["report"] = str(out_dir / "report.html")
    if points is not None and calibrate_to is not None:  # last: only a complete run changes the gates
        calibrate_to.parent.mkdir(parents=True, exist_ok=True)
        calibrate_to.write_text(json.dumps(points, indent=2) + "\n")
    return result


def _check_calibration(pairs: PairScores, identities: int) -> None:
    """Refuse to calibrate from data too small to measure the points the gates use."""
    if pairs.impostor_pairs < MIN_CALIBRATION_IMPOSTOR_PAIRS or identities < MIN_CALIBRATION_IDENTITIES:
        raise FacegateError(
            f"Too little data to calibrate: {pairs.impostor_pairs:,} impostor pairs and {identities:,} people; "
            f"need at least {MIN_CALIBRATION_IMPOSTOR_PAIRS:,} pairs (to measure FMR 1e-5) and "
            f"{MIN_CALIBRATION_IDENTITIES} people (for gate galleries of 200 with outsiders). "
            "Nothing was written; the gates keep their thresholds.",
            code="insufficient_data",
        )


def _prepare(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".facegate-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise FacegateError(f"Cannot write the report to {out_dir}: {exc.strerror or exc}.", code="invalid_input") from exc


def _html(r: dict[str, Any], plots: dict[str, bytes]) -> str:
    def img(name: str) -> str:
        return f'<img alt="{name}" src="data:image/png;base64,{base64.b64encode(plots[name]).decode()}">'

    def table(head: list[str], rows: list[list[Any]]) -> str:
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>" + cells + "</table>"

    verify_rows = [[k, v["threshold"], f"{v['measured_fmr']:.2e}", v["tar"], v["fnmr"], f"{v['tar_ci95'][0]} – {v['tar_ci95'][1]}"]
                   if v["measurable"] else [k, "–", "–", "not measurable", "–", "–"]
                   for k, v in r["verification"].items()]
    ident_rows = []
    for row in r["identification"]:
        for target, cell in row["fnir_at_fpir"].items():
            measured = [f"{cell['fpir']:.2e}", cell["threshold"], cell["fnir"]] if cell else ["not measurable", "–", "–"]
            ident_rows.append([row["gallery_size"], target, *measured, row["rank1"], row["mated_searches"], row["nonmated_searches"]])
    multi = r["multi_photo_templates"]
    multi_rows = [
        [rule, multi[rule]["threshold_at_fpir_1e-3"], multi[rule]["fnir"]] if multi[rule] else [rule, "not measurable", "–"]
        for rule in ("single", "best", "mean") if rule in multi
    ]
    lfw = ""
    if "lfw_10fold_accuracy" in r:
        lfw = (f"<p>LFW View 2, 10 folds: accuracy <b>{r['lfw_10fold_accuracy']:.4f}</b> "
               f"(95 % CI {r['lfw_10fold_ci95'][0]} – {r['lfw_10fold_ci95'][1]}); folds {r['lfw_10fold_folds']}</p>")
    fta = "".join(f"<li>{html.escape(f['file'])}: {html.escape(f['code'])}</li>" for f in r["fta_files"][:200]) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>facegate evaluation: {html.escape(r['dataset'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}
th{{background:#f4f4f4}}img{{max-width:100%;border:1px solid #eee}}</style></head><body>
<h1>facegate evaluation</h1>
<p>Dataset <code>{html.escape(r['dataset'])}</code>: {r['images']:,} photos of {r['identities']:,} people.
Model {html.escape(r['model'])}. Seed {r['seed']}. {r['created_at']}; {r['seconds']} s.</p>
<h2>Acquisition and enrollment</h2>
<p>Failure to acquire (no usable face): <b>{r['fta_rate']:.4%}</b>.
Photos an enrollment kiosk would refuse: {r['fte_rate_photos']:.2%} ({html.escape(", ".join(f"{k}: {v}" for k, v in r['fte_reasons'].items()) or "none")});
people with no acceptable photo (failure to enroll): {r['fte_rate_identities']:.2%}.</p>
<details><summary>Files without a usable face</summary><ul>{fta}</ul></details>
<h2>1:1 verification</h2>
<p>{r['genuine_pairs']:,} genuine and {r['impostor_pairs']:,} impostor pairs; {"EER " + format(r['eer'], '.4%') + " at " + str(r['eer_threshold']) if r['eer'] is not None else "no EER: there are no genuine pairs (each person has one photo)"}.
Rows marked not measurable would rest on fewer than 10 expected impostor pairs (or no genuine pairs).</p>
{lfw}
{table(["target FMR", "threshold", "measured FMR", "TAR", "FNMR", "TAR 95 % CI"], verify_rows)}
<p>The confidence intervals treat pairs as independent; pairs sharing a photo are not, so the true uncertainty is wider.</p>
{img("det.png")}
{img("scores.png")}
<h2>1:N open-set identification</h2>
{table(["gallery size", "target FPIR", "measured FPIR", "threshold", "FNIR", "rank-1", "mated searches", "non-mated searches"], ident_rows) if ident_rows else "<p>Not measurable: too few people with a second photo.</p>"}
<h2>Several photos per person</h2>
<p>Gallery of {multi.get('gallery_size')} people enrolled with {multi.get('enrolled_photos')} photos each (single: only the first), FNIR at FPIR 1e-3:</p>
{table(["rule", "threshold", "FNIR"], multi_rows)}
</body></html>
"""
