"""The two commands that summarise the product: demo and bench (contract keys, sane values)."""

from __future__ import annotations


from facegate.bench import run_bench
from facegate.services.demo import run_demo


def test_demo_boards_passengers_and_refuses_strangers(datasets, monkeypatch):
    monkeypatch.setenv("FACEGATE_DATASETS", str(datasets))
    summary = run_demo(passengers=60, seed=11, progress=False)
    for key in ("genuine_accept_rate", "impostor_reject_rate", "false_accepts", "decisions", "median_latency_ms"):
        assert key in summary
    assert summary["enrolled"] >= 40
    assert summary["repeat_attempt"] == "already_boarded"
    assert summary["impostor_reject_rate"] >= 0.98
    assert summary["genuine_accept_rate"] >= 0.85  # ~0.95 expected; small sample
    assert summary["late_passengers"].get("outside_boarding_window", 0) >= 8
    assert summary["decisions"] == summary["genuine_attempts"] + summary["impostor_attempts"] + 10 + 1
    assert summary["false_matches"] >= summary["false_accepts"]
    assert summary["store"] is None  # the throw-away store is gone


def test_bench_reports_every_stage(datasets, monkeypatch):
    monkeypatch.setenv("FACEGATE_DATASETS", str(datasets))
    report = run_bench(repeats=3, progress=False)
    assert set(report["stages"]) == {"decode", "detect", "align_embed", "match_1k", "match_100k", "end_to_end_1k"}
    assert all(stage["median_ms"] > 0 for stage in report["stages"].values())
    assert report["end_to_end_gallery"] == 1000
    assert report["end_to_end_reason"] == "valid_booking"  # the frame's face is passenger 0; each timed run boards
