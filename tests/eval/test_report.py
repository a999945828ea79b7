"""`facegate eval` on the small shared sets: it runs, reports, and its figures are consistent."""

from __future__ import annotations

import json

import pytest

from facegate.eval.report import evaluate


@pytest.mark.parametrize("name", ["orl-att-faces", "glint360k-celebrity-sample", "group-photos", "deepface-unit-test-faces"])
def test_eval_runs_on_each_small_set(engine, datasets, tmp_path, name):
    result = evaluate(datasets / name, tmp_path / "report", engine=engine)
    for key in ("images", "fta_rate", "genuine_pairs", "impostor_pairs", "tar_at_far", "eer"):
        assert key in result
    assert set(result["tar_at_far"]) == {"1e-2", "1e-3", "1e-4", "1e-5", "1e-6"}
    assert result["images"] > 0 and 0 <= result["fta_rate"] <= 1
    html = (tmp_path / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # DET curve and score histograms, self-contained
    assert json.loads((tmp_path / "report" / "report.json").read_text())["images"] == result["images"]


def test_orl_greyscale_faces_verify_well(engine, datasets, tmp_path):
    result = evaluate(datasets / "orl-att-faces", tmp_path, engine=engine)
    assert result["images"] == 400 and result["fta_rate"] == 0
    assert result["genuine_pairs"] == 40 * 45 and result["impostor_pairs"] == 400 * 399 // 2 - 1800
    assert result["tar_at_far"]["1e-3"] >= 0.95
    assert result["tar_at_far"]["1e-6"] is None  # 78k impostor pairs cannot measure FMR 1e-6


def test_calibration_file_is_what_the_gates_load(app, engine, datasets, tmp_path):
    target = app.settings.data_dir / "operating_points.json"
    evaluate(datasets / "orl-att-faces", tmp_path, engine=engine, calibrate_to=target)
    points = app.points
    assert points.version.endswith("orl-att-faces")
    assert points.verify("1e-3").threshold == json.loads(target.read_text())["verify"]["1e-3"]["threshold"]
