"""What a newcomer runs, through the real ``facegate`` console script, on a fresh store.

enroll -> departures add -> bookings import -> gate verify, then export and
erase a passenger; plus ``--help``, ``compare`` and the human (non-JSON) output.
The module shares one data dir; each test uses its own passenger, so the tests
do not depend on each other's order.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from facegate.domain.nik import synthetic_nik

FACEGATE = Path(sys.executable).parent / "facegate"
TIMEOUT = 300  # seconds per process; generous for a loaded machine

SITE = "GMR"
DEPARTS = "2030-03-04T10:00"  # local time (Asia/Jakarta); boarding 09:00-09:55
INSIDE_WINDOW = "2030-03-04T09:30"

# (enrollment photo, another photo of the same person at the gate), relative to LFW's images folder
BOARDS = ("Gerhard_Schroeder/Gerhard_Schroeder_0001.jpg", "Gerhard_Schroeder/Gerhard_Schroeder_0002.jpg")
ERASED = ("Junichiro_Koizumi/Junichiro_Koizumi_0001.jpg", "Junichiro_Koizumi/Junichiro_Koizumi_0002.jpg")
STRANGER = "Tony_Blair/Tony_Blair_0002.jpg"  # never enrolled
SAME_PERSON = ("Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0002.jpg")


# -- running facegate -------------------------------------------------------------


def facegate_env(data_dir: Path, columns: int | None = 200) -> dict[str, str]:
    """The caller's environment minus any FACEGATE_* setting except the datasets.

    ``columns=None`` leaves the terminal width unset, as when output goes to a pipe or log.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEGATE_") or k == "FACEGATE_DATASETS"}
    env["FACEGATE_DATA_DIR"] = str(data_dir)
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def run(data_dir: Path, *args: object, columns: int | None = 200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FACEGATE), *map(str, args)],
        capture_output=True,
        text=True,
        env=facegate_env(data_dir, columns),
        timeout=TIMEOUT,
    )


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def json_result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Exit 0 and exactly one JSON object on stdout."""
    assert "Traceback" not in proc.stdout + proc.stderr, describe(proc)
    assert proc.returncode == 0, describe(proc)
    body = json.loads(proc.stdout)  # raises on anything but one JSON document
    assert isinstance(body, dict), describe(proc)
    return body


def json_error_code(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr, describe(proc)
    assert proc.returncode == 2, describe(proc)
    body = json.loads(proc.stdout)
    assert set(body) == {"error"} and body["error"]["message"], describe(proc)
    return body["error"]["code"]


def assert_not_json(text: str) -> None:
    assert text.strip(), "expected human-readable output"
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert not text.lstrip().startswith("{"), text


def nik(seed: int) -> str:
    return synthetic_nik(random.Random(seed))


def calibrated_threshold(fmr: str = "1e-4") -> float:
    data = json.loads((resources.files("facegate.matching") / "operating_points.json").read_text())
    return float(data["verify"][fmr]["threshold"])


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("facegate-data")


@pytest.fixture(scope="module")
def station(data_dir: Path, lfw: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two passengers enrolled, one departure from GMR, both booked on it."""
    people: dict[str, dict[str, Any]] = {}
    for key, (photo, _), name, seed in [("boards", BOARDS, "Gerhard Schroeder", 11), ("erased", ERASED, "Junichiro Koizumi", 12)]:
        number = nik(seed)
        proc = run(data_dir, "enroll", lfw / photo, "--nik", number, "--name", name, "--operator", "KAI", "--consent", "--json")
        enrolled = json_result(proc)
        assert number not in proc.stdout, "enroll output must show the NIK masked"
        people[key] = {**enrolled, "nik_value": number}

    departure = json_result(
        run(data_dir, "departures", "add", "--operator", "KAI", "--service", "KA-7", "--site", SITE, "--at", DEPARTS, "--json")
    )
    assert departure["boarding_opens_at"] == "2030-03-04T09:00:00+07:00", departure
    assert departure["boarding_closes_at"] == "2030-03-04T09:55:00+07:00", departure

    manifest = tmp_path_factory.mktemp("manifest") / "bookings.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["departure_id", "booking_ref", "nik", "seat"])
        writer.writerow([departure["id"], "REF-BOARDS", people["boards"]["nik_value"], "5-12A"])
        writer.writerow([departure["id"], "REF-ERASED", people["erased"]["nik_value"], "5-12B"])
    counts = json_result(run(data_dir, "bookings", "import", manifest, "--json"))
    assert counts == {"created": 2, "updated": 0, "unchanged": 0}, counts
    return {**people, "departure": departure}


def verify_at_gate(data_dir: Path, photo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(data_dir, "gate", "verify", photo, "--site", SITE, "--at", INSIDE_WINDOW, *extra)


# -- help and compare -----------------------------------------------------------------------


def test_help_lists_the_commands(data_dir: Path) -> None:
    proc = run(data_dir, "--help")
    assert proc.returncode == 0, describe(proc)
    for command in ("enroll", "compare", "identify", "persons", "departures", "bookings", "gate", "demo"):
        assert command in proc.stdout, command


def test_compare_two_photos_of_the_same_person_match(data_dir: Path, lfw: Path) -> None:
    result = json_result(run(data_dir, "compare", lfw / SAME_PERSON[0], lfw / SAME_PERSON[1], "--json"))
    assert {"score", "threshold", "match"} <= set(result)
    assert isinstance(result["threshold"], float) and result["threshold"] == calibrated_threshold()
    assert result["match"] is True and result["score"] >= result["threshold"], result


def test_compare_two_different_people_do_not_match(data_dir: Path, lfw: Path) -> None:
    result = json_result(run(data_dir, "compare", lfw / SAME_PERSON[0], lfw / STRANGER, "--json"))
    assert {"score", "threshold", "match"} <= set(result)
    assert isinstance(result["threshold"], float) and result["threshold"] == calibrated_threshold()
    assert result["match"] is False and result["score"] < result["threshold"], result


# -- the boarding journey ------------------------------------------------------------------


def test_enroll_summary(station: dict[str, Any]) -> None:
    person = station["boards"]
    assert person["id"] and person["templates"] == 1 and person["consents"] == ["KAI"]
    number = person["nik_value"]
    assert person["nik"] == number[:4] + "*" * 8 + number[-4:]


def test_gate_opens_once_for_a_booked_passenger(station: dict[str, Any], data_dir: Path, lfw: Path) -> None:
    photo = lfw / BOARDS[1]  # not the enrollment photo
    first = json_result(verify_at_gate(data_dir, photo, "--json"))
    assert (first["outcome"], first["reason"]) == ("open", "valid_booking"), first
    assert first["person_id"] == station["boards"]["id"]
    assert (first["service_number"], first["seat"]) == ("KA-7", "5-12A"), first

    again = json_result(verify_at_gate(data_dir, photo, "--json"))
    assert (again["outcome"], again["reason"]) == ("refuse", "already_boarded"), again


def test_gate_refuses_an_unenrolled_face(station: dict[str, Any], data_dir: Path, lfw: Path) -> None:
    result = json_result(verify_at_gate(data_dir, lfw / STRANGER, "--json"))
    assert (result["outcome"], result["reason"]) == ("refuse", "no_match"), result
    assert result["person_id"] is None


def test_export_has_the_full_nik_and_the_booking(station: dict[str, Any], data_dir: Path) -> None:
    person = station["boards"]
    exported = json_result(run(data_dir, "persons", "export", person["id"], "--json"))
    assert exported["person"]["id"] == person["id"]
    assert exported["person"]["nik"] == person["nik_value"]
    bookings = exported["bookings"]
    assert len(bookings) == 1, bookings
    assert bookings[0]["service_number"] == "KA-7" and bookings[0]["seat"] == "5-12A"
    assert bookings[0]["origin_site"] == SITE


def test_erased_passenger_is_no_longer_recognised(station: dict[str, Any], data_dir: Path, lfw: Path) -> None:
    person, photo = station["erased"], lfw / ERASED[1]
    before = json_result(verify_at_gate(data_dir, photo, "--json"))  # recognised while enrolled
    assert (before["outcome"], before["person_id"]) == ("open", person["id"]), before

    erased = json_result(run(data_dir, "persons", "delete", person["id"], "--yes", "--json"))
    assert erased["deleted"] == person["id"] and erased["templates"] == 1, erased

    after = json_result(verify_at_gate(data_dir, photo, "--json"))
    assert (after["outcome"], after["reason"], after["person_id"]) == ("refuse", "no_match", None), after
    assert json_error_code(run(data_dir, "persons", "show", person["id"], "--json")) == "not_found"


# -- human output ---------------------------------------------------------------------------


def test_human_compare_prints_text(data_dir: Path, lfw: Path) -> None:
    proc = run(data_dir, "compare", lfw / SAME_PERSON[0], lfw / SAME_PERSON[1])
    assert proc.returncode == 0, describe(proc)
    assert_not_json(proc.stdout)
    assert "match" in proc.stdout and "score" in proc.stdout and "True" in proc.stdout


def test_human_gate_decision_prints_text(station: dict[str, Any], data_dir: Path, lfw: Path) -> None:
    proc = verify_at_gate(data_dir, lfw / STRANGER)
    assert proc.returncode == 0, describe(proc)
    assert_not_json(proc.stdout)
    assert "REFUSE" in proc.stdout and "no_match" in proc.stdout


def test_human_error_goes_to_stderr_with_status_2(data_dir: Path) -> None:
    proc = run(data_dir, "persons", "show", "0123456789abcdef")
    assert proc.returncode == 2, describe(proc)
    assert proc.stdout == "", describe(proc)
    assert "not_found" in proc.stderr and "Traceback" not in proc.stderr, describe(proc)
    assert_not_json(proc.stderr)


# Human mode prints through rich with markup enabled and the console width, so text
# that comes from the user (paths, ids, names) is not printed as given.


def test_human_error_prints_a_path_with_brackets_verbatim(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "scan[/]1.jpg"
    proc = run(data_dir, "compare", missing, missing)
    assert proc.returncode == 2, describe(proc)
    assert "not_found" in proc.stderr and str(missing) in proc.stderr, describe(proc)


def test_human_result_prints_a_value_with_brackets_verbatim(data_dir: Path) -> None:
    proc = run(data_dir, "departures", "add", "--operator", "KAI", "--service", "KA[/]7", "--site", "PSE", "--at", DEPARTS)
    assert proc.returncode == 0, describe(proc)
    assert "KA[/]7" in proc.stdout, describe(proc)


def test_human_error_is_one_line_when_not_on_a_terminal(data_dir: Path) -> None:
    person_id = "f" * 100
    proc = run(data_dir, "persons", "show", person_id, columns=None)
    assert proc.returncode == 2, describe(proc)
    assert len(proc.stderr.strip().splitlines()) == 1 and person_id in proc.stderr, describe(proc)
