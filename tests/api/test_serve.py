"""`facegate serve` as the README starts it, on SQLite and on PostgreSQL: a separate process, real HTTP.

The first start prints the URL and a first admin key; the operator's set-up
(site, gate, gate key) is done with the CLI; the kiosk, the ticketing system
and the gate then talk HTTP only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from api_server import free_port
from scenario import nik, photo

FACEGATE = Path(sys.executable).parent / "facegate"


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEGATE_") or k == "FACEGATE_DATASETS"}
    env["FACEGATE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["FACEGATE_DATABASE_URL"] = database_url
    return env


def _cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([str(FACEGATE), *args, "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def served(tmp_path: Path, database_url: str | None):
    env = _env(tmp_path / "data", database_url)
    port = free_port()
    process = subprocess.Popen(
        [str(FACEGATE), "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "facegate serve exited:\n" + "".join(lines) + process.stdout.read()
            line = process.stdout.readline()
            lines.append(line)
            if "Application startup complete" in line:
                break
            assert time.monotonic() < deadline, "facegate serve did not start:\n" + "".join(lines)
        yield url, env, "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_prints_url_and_first_admin_key_then_boards_over_http(served, lfw: Path) -> None:
    url, env, banner = served
    assert url in banner
    admin_key = re.search(r"fgk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", banner).group(0)
    assert httpx.get(f"{url}/readyz").json()["status"] == "ready"

    _cli(env, "sites", "add", "GMR", "--operator", "DEFAULT", "--name", "Gambir")
    _cli(env, "gates", "add", "GMR-1", "--site", "GMR")
    gate_key = _cli(env, "keys", "create", "--operator", "DEFAULT", "--role", "gate", "--gate", "GMR-1")["api_key"]
    assert gate_key not in json.dumps(_cli(env, "keys", "list"))  # listed by id, never the secret

    admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=60)
    passenger = nik(21)
    enrolled = admin.post(
        "/v1/persons", json={"nik": passenger, "name": "Gerhard Schroeder", "consent": True,
                             "photos": [_data_uri(photo(lfw, "Gerhard_Schroeder", 1))]},
    )
    assert enrolled.status_code == 201, enrolled.text
    leaves = (datetime.now(timezone.utc) + timedelta(minutes=20)).isoformat()
    departure = admin.post("/v1/departures", json={"service_number": "KA 3", "origin_site": "GMR", "scheduled_at": leaves})
    assert departure.status_code == 201, departure.text
    booked = admin.put("/v1/bookings", json={"bookings": [
        {"departure_id": departure.json()["id"], "booking_ref": "KA3-0001", "nik": passenger, "seat": "2C"}]})
    assert booked.json()["created"] == 1

    gate = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {gate_key}"}, timeout=60)
    with open(photo(lfw, "Gerhard_Schroeder", 2), "rb") as frame:
        decision = gate.post("/v1/gates/GMR-1/decisions", files={"image": ("frame.jpg", frame, "image/jpeg")}).json()
    assert (decision["outcome"], decision["seat"]) == ("open", "2C")

    keys = _cli(env, "keys", "list")["keys"]
    assert sorted(k["role"] for k in keys) == ["admin", "gate"]


def _data_uri(path: Path) -> str:
    import base64

    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
