"""The whole journey over real HTTP: enroll, schedule, import a manifest, decide at the gate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from api_server import Api
from scenario import nik, photo




def soon() -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()


def test_enroll_book_and_board_at_the_gate(tenants: Api, lfw: Path) -> None:
    kiosk, ticketing = tenants.client("KAI:enroll"), tenants.client("KAI:manifest")
    gate_1, gate_2 = tenants.client("KAI:gate:GMR-1"), tenants.client("KAI:gate:GMR-2")
    passenger = nik(1)
    with open(photo(lfw, "Colin_Powell", 2), "rb") as f:
        r = kiosk.post("/v1/persons", data={"nik": passenger, "name": "Colin Powell", "consent": "true"}, files={"photos": f})
    assert r.status_code == 201, r.text
    person = r.json()
    assert person["nik"].endswith(passenger[-4:]) and passenger not in r.text
    assert person["consents"] == ["KAI"]

    r = ticketing.post("/v1/departures", json={"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": soon()})
    assert r.status_code == 201, r.text
    departure = r.json()["id"]
    manifest = {"bookings": [{"departure_id": departure, "booking_ref": "B1", "nik": passenger, "seat": "3A"}]}
    assert ticketing.put("/v1/bookings", json=manifest).json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert ticketing.put("/v1/bookings", json=manifest).json() == {"created": 0, "updated": 0, "unchanged": 1}

    frame = photo(lfw, "Colin_Powell", 5).read_bytes()  # another photo than the enrolled one
    first = gate_1.post("/v1/gates/GMR-1/decisions", files={"image": ("frame.jpg", frame, "image/jpeg")})
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "open" and first.json()["seat"] == "3A"
    assert first.json()["person_id"] == person["id"]
    again = gate_2.post("/v1/gates/GMR-2/decisions", files={"image": ("frame.jpg", frame, "image/jpeg")})
    assert (again.json()["outcome"], again.json()["reason"]) == ("refuse", "already_boarded")

    stranger = photo(lfw, "Tony_Blair", 3).read_bytes()
    r = gate_1.post("/v1/gates/GMR-1/decisions", files={"image": ("frame.jpg", stranger, "image/jpeg")})
    assert (r.json()["outcome"], r.json()["reason"]) == ("refuse", "no_match")

    events = tenants.client("KAI:audit").get("/v1/events", params={"gate": "GMR-1"}).json()
    assert [e["reason"] for e in events["items"]] == ["no_match", "valid_booking"]
    bookings = ticketing.get(f"/v1/departures/{departure}/bookings").json()
    assert bookings[0]["status"] == "boarded" and bookings[0]["boarded_gate"] == "GMR-1"


def test_health_and_metrics_need_no_key(tenants: Api) -> None:
    client = tenants.client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"models": True, "database": True}
    assert "facegate_http_requests_total" in client.get("/metrics").text
    docs = client.get("/docs").text  # works on a closed network: no CDN
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "facegate"
