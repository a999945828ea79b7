"""`facegate eval` on the small shared sets: it runs, reports, and its figures are consistent."""

from __future__ import annotations

import json

import pytest

from facegate.errors import FacegateError
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


def test_small_sets_cannot_calibrate_the_gates(app, engine, datasets, tmp_path):
    target = app.settings.data_dir / "operating_points.json"
    with pytest.raises(FacegateError) as refused:
        evaluate(datasets / "orl-att-faces", tmp_path, engine=engine, calibrate_to=target)
    assert refused.value.code == "insufficient_data" and not target.exists()
    assert app.points.version.endswith("lfw")


def test_single_person_and_unwritable_report_are_clear_errors_or_reports(engine, datasets, tmp_path):
    one = tmp_path / "one" / "Colin_Powell"
    one.mkdir(parents=True)
    for n in (1, 2, 3):
        name = f"Colin_Powell_{n:04d}.jpg"
        (one / name).write_bytes((datasets / "lfw-deepfunneled" / "images" / "Colin_Powell" / name).read_bytes())
    result = evaluate(tmp_path / "one", tmp_path / "report", engine=engine)
    assert result["genuine_pairs"] == 3 and result["impostor_pairs"] == 0 and result["identification"] == []
    with pytest.raises(FacegateError) as refused:
        evaluate(tmp_path / "one", tmp_path / "one" / "Colin_Powell" / "Colin_Powell_0001.jpg" / "x", engine=engine)
    assert refused.value.code == "invalid_input"


def test_calibration_file_is_what_the_gates_load(app, engine, datasets, tmp_path, monkeypatch):
    from facegate.eval import report

    monkeypatch.setattr(report, "MIN_CALIBRATION_IMPOSTOR_PAIRS", 1000)  # ORL stands in for a large set here
    monkeypatch.setattr(report, "MIN_CALIBRATION_IDENTITIES", 10)
    target = app.settings.data_dir / "operating_points.json"
    evaluate(datasets / "orl-att-faces", tmp_path, engine=engine, calibrate_to=target)
    points = app.points
    assert points.version.endswith("orl-att-faces")
    assert points.verify("1e-3").threshold == json.loads(target.read_text())["verify"]["1e-3"]["threshold"]


def test_eval_command_in_both_output_modes(datasets, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    facegate = Path(sys.executable).parent / "facegate"
    env = {**os.environ, "FACEGATE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    dataset = str(datasets / "face-recognition-examples")
    human = subprocess.run([facegate, "eval", dataset, "--out", str(tmp_path / "a")], capture_output=True, text=True, env=env)
    assert human.returncode == 0, human.stderr
    assert "Report:" in human.stdout and "not measurable" in human.stdout
    machine = subprocess.run([facegate, "eval", dataset, "--out", str(tmp_path / "b"), "--json"], capture_output=True, text=True, env=env)
    assert machine.returncode == 0
    assert json.loads(machine.stdout)["images"] == 16  # strict JSON: no NaN
