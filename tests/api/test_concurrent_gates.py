"""One passenger at two gates at once, over real HTTP: the booking is boarded exactly once.

50 camera frames of the same booked passenger (real LFW photos, none the
enrolled one) reach gates GMR-1 and GMR-2 together, 25 each, each gate with
its own key, released at the same instant from a thread pool. Exactly one
decision opens; every other one refuses with ``already_boarded``. The audit
view then shows exactly those 50 decisions, once each, and the manifest shows
the booking boarded once, at the gate that opened. Runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from api_server import Api
from scenario import nik, photo

#: Colin Powell frames that match his enrolled photo (Colin_Powell_0002) well above the threshold.
FRAMES = (4, 5, 6, 7, 8, 10, 11, 15, 19, 20, 22, 23, 25, 29, 30, 31, 36, 39, 42, 46, 49, 51, 55, 57, 58)
GATES = ("GMR-1", "GMR-2")


def _all_events(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Every page of /v1/events for ``params``, newest first."""
    audit = api.client("KAI:audit")
    items: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        r = audit.get("/v1/events", params={**params, "limit": 20, **({"before_id": before} if before else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        before = page["next_before_id"]
        if before is None:
            return items


def test_fifty_simultaneous_frames_at_two_gates_board_once(tenants: Api, lfw: Path) -> None:
    passenger = nik(21)
    with open(photo(lfw, "Colin_Powell", 2), "rb") as f:
        r = tenants.client("KAI:enroll").post(
            "/v1/persons", data={"nik": passenger, "name": "Colin Powell", "consent": "true"}, files={"photos": f}
        )
    assert r.status_code == 201, r.text
    person_id = r.json()["id"]
    ticketing = tenants.client("KAI:manifest")
    at = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()  # boarding is open now
    r = ticketing.post("/v1/departures", json={"service_number": "KA 50", "origin_site": "GMR", "scheduled_at": at})
    assert r.status_code == 201, r.text
    departure = r.json()["id"]
    manifest = {"bookings": [{"departure_id": departure, "booking_ref": "RUSH1", "nik": passenger, "seat": "5C"}]}
    assert ticketing.put("/v1/bookings", json=manifest).json() == {"created": 1, "updated": 0, "unchanged": 0}
    booking_id = ticketing.get(f"/v1/departures/{departure}/bookings").json()[0]["booking_id"]

    requests = [(gate, photo(lfw, "Colin_Powell", n).read_bytes()) for gate in GATES for n in FRAMES]
    assert len(requests) == 50
    start = threading.Barrier(len(requests))

    def send(gate: str, frame: bytes) -> tuple[str, int, dict[str, Any]]:
        with tenants.client(f"KAI:gate:{gate}") as client:
            start.wait(timeout=60)  # every request leaves at the same instant
            r = client.post(f"/v1/gates/{gate}/decisions", files={"image": ("frame.jpg", frame, "image/jpeg")})
        return gate, r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        results = list(pool.map(lambda request: send(*request), requests))

    assert [status for _, status, _ in results] == [200] * 50, [body for _, status, body in results if status != 200]
    decisions = [body for _, _, body in results]
    outcomes = Counter((d["outcome"], d["reason"]) for d in decisions)
    assert outcomes == {("open", "valid_booking"): 1, ("refuse", "already_boarded"): 49}, outcomes
    assert {d["person_id"] for d in decisions} == {person_id}
    assert {d["booking_id"] for d in decisions} == {booking_id}
    assert Counter(gate for gate, _, d in results) == {"GMR-1": 25, "GMR-2": 25}
    assert all(d["gate"] == gate for gate, _, d in results)
    (opened,) = [d for d in decisions if d["outcome"] == "open"]
    assert opened["seat"] == "5C"
    event_ids = [d["event_id"] for d in decisions]
    assert None not in event_ids and len(set(event_ids)) == 50

    # The audit view: exactly these 50 decisions for this departure, each once, one of them open.
    events = _all_events(tenants, departure_id=departure)
    ids = [e["event_id"] for e in events]
    assert len(events) == 50 and len(set(ids)) == 50, ids
    assert set(ids) == set(event_ids)
    assert ids == sorted(ids, reverse=True)  # newest first, no page repeated or skipped
    assert Counter(e["outcome"] for e in events) == {"open": 1, "refuse": 49}
    assert {e["reason"] for e in events if e["outcome"] == "refuse"} == {"already_boarded"}
    assert {e["booking_id"] for e in events} == {booking_id} and {e["person_id"] for e in events} == {person_id}
    (open_event,) = [e for e in events if e["outcome"] == "open"]
    assert open_event["event_id"] == opened["event_id"] and open_event["gate"] == opened["gate"]
    assert Counter(e["gate"] for e in events) == {"GMR-1": 25, "GMR-2": 25}
    assert len(_all_events(tenants, site="GMR")) == 50  # nothing else was recorded at the station

    # The manifest: the booking boarded once, at the gate that opened.
    bookings = ticketing.get(f"/v1/departures/{departure}/bookings").json()
    assert len(bookings) == 1
    assert bookings[0]["status"] == "boarded" and bookings[0]["boarded_gate"] == opened["gate"]
    assert bookings[0]["boarded_at"] is not None

    verify = tenants.client("KAI:audit").get("/v1/audit/verify")
    assert verify.status_code == 200 and verify.json()["intact"] is True, verify.text
