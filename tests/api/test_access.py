"""Access control of the HTTP API, endpoint by endpoint, over real HTTP.

Operators are isolated: another operator's record answers 404 exactly as an
unknown one does, lists and events show only the caller's own. A role answers
403 outside its endpoints; a missing, malformed, wrong or revoked key 401. No
API key secret is ever stored or logged. A passenger's consent is per operator.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import Api
from scenario import nik, photo
from sqlalchemy import inspect

from facegate.services.keys import create_key, revoke_key

PROBLEM_JSON = "application/problem+json"


def soon() -> str:
    """A departure whose boarding window (60 to 5 minutes before) is open now."""
    return (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()


def jpeg(lfw: Path, name: str, number: int) -> bytes:
    return photo(lfw, name, number).read_bytes()


def frame(image: bytes, **fields: str) -> dict[str, Any]:
    """A multipart gate frame (``image``), with optional form fields such as booking_id."""
    return {"files": {"image": ("frame.jpg", image, "image/jpeg")}, "data": fields or None}


def enrollment(passenger: str, name: str, *images: bytes) -> dict[str, Any]:
    return {
        "data": {"nik": passenger, "name": name, "consent": "true"},
        "files": [("photos", (f"photo{i}.jpg", image, "image/jpeg")) for i, image in enumerate(images)],
    }


def send(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return client.request(method, path, **(body or {}))


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response as an RFC 9457 problem with this status and code."""
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] and body["title"] and body["detail"], body
    return body


# --- KAI's data ----------------------------------------------------------------------------------------------------


@dataclass
class Kai:
    """What KAI holds: a passenger, a departure at GMR with two bookings (one boarded at GMR-1), a gate event."""

    nik: str
    person: str
    departure: str
    boarded: str  # booking boarded by the gate decision
    booked: str  # booking of a passenger not enrolled yet, still open
    event: int
    photos: dict[str, bytes]


@pytest.fixture
def kai(tenants: Api, lfw: Path) -> Kai:
    photos = {
        "enrolled": jpeg(lfw, "Colin_Powell", 2),
        "same_face": jpeg(lfw, "Colin_Powell", 4),
        "at_gate": jpeg(lfw, "Colin_Powell", 5),
        "stranger": jpeg(lfw, "Tony_Blair", 3),
    }
    passenger = nik(1)
    r = send(tenants.client("KAI:enroll"), "POST", "/v1/persons", enrollment(passenger, "Colin Powell", photos["enrolled"]))
    assert r.status_code == 201, r.text
    person = r.json()["id"]

    ticketing = tenants.client("KAI:manifest")
    r = ticketing.post("/v1/departures", json={"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": soon()})
    assert r.status_code == 201, r.text
    departure = r.json()["id"]
    manifest = [
        {"departure_id": departure, "booking_ref": "B1", "nik": passenger, "seat": "3A"},
        {"departure_id": departure, "booking_ref": "B2", "nik": nik(2), "seat": "4A"},
    ]
    assert ticketing.put("/v1/bookings", json={"bookings": manifest}).json()["created"] == 2
    bookings = {b["booking_ref"]: b["booking_id"] for b in ticketing.get(f"/v1/departures/{departure}/bookings").json()}

    r = send(tenants.client("KAI:gate:GMR-1"), "POST", "/v1/gates/GMR-1/decisions", frame(photos["at_gate"]))
    assert r.status_code == 200 and r.json()["outcome"] == "open", r.text
    assert r.json()["booking_id"] == bookings["B1"]
    return Kai(passenger, person, departure, bookings["B1"], bookings["B2"], r.json()["event_id"], photos)


def kai_view(api: Api, kai: Kai) -> dict[str, Any]:
    """Everything of KAI's, read back through KAI's admin key."""
    admin = api.client("KAI:admin")
    reads = {
        "person": admin.get(f"/v1/persons/{kai.person}"),
        "search": admin.post("/v1/persons/search", json={"nik": kai.nik}),
        "export": admin.get(f"/v1/persons/{kai.person}/export"),
        "departures": admin.get("/v1/departures"),
        "departure": admin.get(f"/v1/departures/{kai.departure}"),
        "bookings": admin.get(f"/v1/departures/{kai.departure}/bookings"),
        "events": admin.get("/v1/events"),
    }
    for what, r in reads.items():
        assert r.status_code == 200, f"KAI reading its {what}: {r.status_code} {r.text}"
    return {what: r.json() for what, r in reads.items()}


# --- every /v1 endpoint, and who may call it ----------------------------------------------------------------------

#: (method, path, body kind, the roles that may call it). Admin may call everything; a gate key only at its own gate.
ENDPOINTS: list[tuple[str, str, str | None, set[str]]] = [
    ("POST", "/v1/persons", "enroll", {"admin", "enroll"}),
    ("POST", "/v1/persons/search", "nik", {"admin", "enroll"}),
    ("GET", "/v1/persons/{person}", None, {"admin", "enroll"}),
    ("POST", "/v1/persons/{person}/photos", "photos", {"admin", "enroll"}),
    ("DELETE", "/v1/persons/{person}", None, {"admin"}),
    ("GET", "/v1/persons/{person}/export", None, {"admin"}),
    ("POST", "/v1/departures", "departure", {"admin", "manifest"}),
    ("GET", "/v1/departures", None, {"admin", "manifest"}),
    ("GET", "/v1/departures/{departure}", None, {"admin", "manifest"}),
    ("GET", "/v1/departures/{departure}/bookings", None, {"admin", "manifest"}),
    ("PUT", "/v1/bookings", "bookings", {"admin", "manifest"}),
    ("POST", "/v1/bookings/{booked}/cancel", None, {"admin", "manifest"}),
    ("POST", "/v1/gates/GMR-1/decisions", "frame", {"admin", "gate"}),
    ("POST", "/v1/compare", "pair", {"admin"}),
    ("POST", "/v1/identify", "frame", {"admin"}),
    ("GET", "/v1/events", None, {"admin", "audit"}),
    ("GET", "/v1/audit/verify", None, {"admin", "audit"}),
]


def endpoint_request(path: str, kind: str | None, kai: Kai) -> tuple[str, dict[str, Any] | None]:
    """The path with KAI's ids filled in, and a valid body of that kind."""
    ids = {"person": kai.person, "departure": kai.departure, "booked": kai.booked}
    photos = kai.photos
    bodies: dict[str | None, dict[str, Any] | None] = {
        None: None,
        "enroll": enrollment(nik(50), "Someone New", photos["stranger"]),
        "nik": {"json": {"nik": kai.nik}},
        "photos": {"files": [("photos", ("more.jpg", photos["same_face"], "image/jpeg"))]},
        "departure": {"json": {"service_number": "KA 99", "origin_site": "GMR", "scheduled_at": soon()}},
        "bookings": {"json": {"bookings": [{"departure_id": kai.departure, "booking_ref": "B9", "nik": nik(51), "seat": "9A"}]}},
        "frame": frame(photos["at_gate"]),
        "pair": {"files": {"first": ("a.jpg", photos["enrolled"], "image/jpeg"), "second": ("b.jpg", photos["at_gate"], "image/jpeg")}},
    }
    return path.format(**ids), bodies[kind]


# --- 1. operators are isolated --------------------------------------------------------------------------------------


def cross_operator_requests(kai: Kai) -> list[tuple[str, str, str, dict[str, Any] | None, int]]:
    """(method, path, AP2 key, body, expected status) of AP2 reaching for KAI's records."""
    p, d = kai.person, kai.departure
    photos = kai.photos
    more = {"files": [("photos", ("more.jpg", photos["same_face"], "image/jpeg"))]}
    at_gmr = {"json": {"service_number": "KA 8", "origin_site": "GMR", "scheduled_at": soon()}}
    table: list[tuple[str, str, str, dict[str, Any] | None, int]] = []
    for key in ("AP2:admin", "AP2:enroll"):
        table += [
            ("GET", f"/v1/persons/{p}", key, None, 404),
            ("POST", "/v1/persons/search", key, {"json": {"nik": kai.nik}}, 404),
            ("POST", f"/v1/persons/{p}/photos", key, more, 404),
        ]
    table += [
        ("GET", f"/v1/persons/{p}/export", "AP2:admin", None, 404),
        ("DELETE", f"/v1/persons/{p}", "AP2:admin", None, 404),
    ]
    for key in ("AP2:admin", "AP2:manifest"):
        table += [
            ("GET", f"/v1/departures/{d}", key, None, 404),
            ("GET", f"/v1/departures/{d}/bookings", key, None, 404),
            ("POST", f"/v1/bookings/{kai.booked}/cancel", key, None, 404),
            ("POST", f"/v1/bookings/{kai.boarded}/cancel", key, None, 404),  # not 409: its state is not KAI's to tell
            ("POST", "/v1/departures", key, at_gmr, 404),
        ]
    for key in ("AP2:admin", "AP2:gate:CGK-1"):
        table += [
            ("POST", "/v1/gates/GMR-1/decisions", key, frame(photos["at_gate"]), 404),
            ("POST", "/v1/gates/GMR-2/decisions", key, frame(photos["at_gate"]), 404),
            ("POST", "/v1/gates/CGK-1/decisions", key, frame(photos["at_gate"], booking_id=kai.booked), 404),
        ]
    return table


def unknown_twin(kai: Kai, path: str, body: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
    """The same request naming records nobody has: (path, body, {what was replaced: by what})."""
    swap = {kai.person: uuid.uuid4().hex, kai.departure: uuid.uuid4().hex, kai.booked: uuid.uuid4().hex,
            kai.boarded: uuid.uuid4().hex, kai.nik: nik(77), "GMR-1": "NOPE-1", "GMR-2": "NOPE-2"}

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in swap.items():
                value = value.replace(old, new)
            return "ZZZ" if value == "GMR" else value
        if isinstance(value, dict):
            return {k: replace(v) for k, v in value.items()}
        return value

    twin_body = None if body is None else {k: (replace(v) if k in ("json", "data") else v) for k, v in body.items()}
    return replace(path), twin_body, {**swap, "GMR": "ZZZ"}


def test_another_operator_can_never_reach_kais_data(tenants: Api, kai: Kai, lfw: Path) -> None:
    before = kai_view(tenants, kai)
    clients = {name: tenants.client(name) for name in tenants.keys if name.startswith("AP2:")}

    # AP2's own business, so that its lists are not empty by accident.
    r = clients["AP2:manifest"].post("/v1/departures", json={"service_number": "GA 1", "origin_site": "CGK", "scheduled_at": soon()})
    assert r.status_code == 201, r.text
    own_departure = r.json()["id"]
    decision = send(clients["AP2:gate:CGK-1"], "POST", "/v1/gates/CGK-1/decisions", frame(kai.photos["at_gate"]))
    assert decision.status_code == 200, decision.text
    # KAI's passenger at AP2's gate is nobody AP2 knows: never boarded there.
    assert (decision.json()["outcome"], decision.json()["reason"], decision.json()["person_id"]) == ("refuse", "no_match", None)

    wrong: list[str] = []
    for method, path, key, body, status in cross_operator_requests(kai):
        r = send(clients[key], method, path, body)
        if r.status_code != status or not r.headers["content-type"].startswith(PROBLEM_JSON) or r.json()["code"] != "not_found":
            wrong.append(f"{key} {method} {path}: {r.status_code} {r.text[:200]}")
            continue
        # Answered exactly as for a record that does not exist: nothing tells AP2 that KAI holds one.
        twin_path, twin_body, swap = unknown_twin(kai, path, body)
        twin = send(clients[key], method, twin_path, twin_body)
        seen, unknown = r.text, twin.text
        for old, new in swap.items():
            seen, unknown = seen.replace(old, "<id>"), unknown.replace(new, "<id>")
        if (twin.status_code, unknown) != (r.status_code, seen):
            wrong.append(f"{key} {method} {path}: {seen} differs from an unknown record's {twin.status_code} {unknown}")
    assert wrong == [], "\n".join(wrong)

    # Lists and events show AP2's own records only.
    for key in ("AP2:admin", "AP2:manifest"):
        assert [d["id"] for d in clients[key].get("/v1/departures").json()] == [own_departure]
        assert clients[key].get("/v1/departures", params={"site": "GMR"}).json() == []
    for key in ("AP2:admin", "AP2:audit"):
        events = clients[key].get("/v1/events").json()
        assert [e["event_id"] for e in events["items"]] == [decision.json()["event_id"]]
        assert all(e["site"] == "CGK" for e in events["items"])
        for query in ({"site": "GMR"}, {"gate": "GMR-1"}, {"departure_id": kai.departure}):
            r = clients[key].get("/v1/events", params=query)
            assert r.status_code == 200 and r.json() == {"items": [], "next_before_id": None}, (key, query, r.text)

    # Identify searches AP2's consented passengers only: KAI's passenger is unknown to it.
    r = send(clients["AP2:admin"], "POST", "/v1/identify", frame(kai.photos["at_gate"]))
    assert r.status_code == 200, r.text
    assert r.json()["identified"] is False and r.json()["person_id"] is None and r.json()["candidates"] == []
    assert kai.person not in r.text

    # A manifest naming KAI's departure is refused as a whole: AP2's own good row is not written either.
    manifest = {"bookings": [
        {"departure_id": own_departure, "booking_ref": "G1", "nik": nik(3), "seat": "1A"},
        {"departure_id": kai.departure, "booking_ref": "B1", "nik": nik(4), "seat": "3A"},
    ]}
    for key in ("AP2:admin", "AP2:manifest"):
        body = problem(clients[key].put("/v1/bookings", json=manifest), 422, "invalid_manifest")
        assert kai.departure in body["detail"] and "unknown departure" in body["detail"], body["detail"]
        assert own_departure not in body["detail"]
    assert clients["AP2:manifest"].get(f"/v1/departures/{own_departure}/bookings").json() == []

    # The audit chain is one for the installation: AP2 may check that it is intact, and learns no record from it.
    r = clients["AP2:audit"].get("/v1/audit/verify")
    assert r.status_code == 200 and r.json()["intact"] is True and kai.person not in r.text

    assert kai_view(tenants, kai) == before  # nothing of KAI's changed


# --- 2. roles -------------------------------------------------------------------------------------------------------


def test_each_role_is_refused_outside_its_endpoints(tenants: Api, kai: Kai) -> None:
    before = kai_view(tenants, kai)
    roles = {"enroll": "KAI:enroll", "manifest": "KAI:manifest", "audit": "KAI:audit", "gate": "KAI:gate:GMR-1"}
    wrong: list[str] = []
    refused = 0
    for role, key in roles.items():
        client = tenants.client(key)
        for method, template, kind, allowed in ENDPOINTS:
            if role in allowed:
                continue
            path, body = endpoint_request(template, kind, kai)
            r = send(client, method, path, body)
            refused += 1
            if r.status_code != 403 or not r.headers["content-type"].startswith(PROBLEM_JSON) or r.json()["code"] != "not_authorized":
                wrong.append(f"{key} {method} {path}: {r.status_code} {r.text[:200]}")
    assert wrong == [], "\n".join(wrong)
    assert refused == 55
    assert kai_view(tenants, kai) == before  # the refused DELETE, cancel, enroll, manifest... did nothing


def test_a_gate_key_decides_at_its_own_gate_only(tenants: Api, kai: Kai) -> None:
    image = frame(kai.photos["stranger"])
    gate_2 = tenants.client("KAI:gate:GMR-2")
    problem(send(gate_2, "POST", "/v1/gates/GMR-1/decisions", image), 403, "not_authorized")  # its operator's other gate
    problem(send(gate_2, "POST", "/v1/gates/CGK-1/decisions", image), 404, "not_found")  # another operator's gate
    problem(send(gate_2, "POST", "/v1/gates/NOPE-1/decisions", image), 404, "not_found")
    problem(send(tenants.client("AP2:gate:CGK-1"), "POST", "/v1/gates/GMR-2/decisions", image), 404, "not_found")
    r = send(gate_2, "POST", "/v1/gates/GMR-2/decisions", image)
    assert r.status_code == 200 and (r.json()["gate"], r.json()["reason"]) == ("GMR-2", "no_match"), r.text
    # Only that one decision was recorded.
    events = tenants.client("KAI:audit").get("/v1/events").json()["items"]
    assert [(e["gate"], e["reason"]) for e in events] == [("GMR-2", "no_match"), ("GMR-1", "valid_booking")]


def test_admin_may_do_everything_within_its_operator(tenants: Api, lfw: Path) -> None:
    admin = tenants.client("KAI:admin")
    passenger = nik(5)
    r = send(admin, "POST", "/v1/persons", enrollment(passenger, "Colin Powell", jpeg(lfw, "Colin_Powell", 2)))
    assert r.status_code == 201, r.text
    person = r.json()["id"]
    assert admin.post("/v1/persons/search", json={"nik": passenger}).json()["id"] == person
    assert admin.get(f"/v1/persons/{person}").json()["consents"] == ["KAI"]
    r = send(admin, "POST", f"/v1/persons/{person}/photos", {"files": [("photos", ("p.jpg", jpeg(lfw, "Colin_Powell", 4), "image/jpeg"))]})
    assert r.status_code == 200 and r.json()["templates"] == 2, r.text

    r = admin.post("/v1/departures", json={"service_number": "KA 9", "origin_site": "GMR", "scheduled_at": soon()})
    assert r.status_code == 201, r.text
    departure = r.json()["id"]
    assert admin.get(f"/v1/departures/{departure}").json()["origin_site"] == "GMR"
    assert [d["id"] for d in admin.get("/v1/departures", params={"site": "GMR"}).json()] == [departure]
    manifest = {"bookings": [
        {"departure_id": departure, "booking_ref": "A1", "nik": passenger, "seat": "1A"},
        {"departure_id": departure, "booking_ref": "A2", "nik": nik(6), "seat": "1B"},
    ]}
    assert admin.put("/v1/bookings", json=manifest).json() == {"created": 2, "updated": 0, "unchanged": 0}
    bookings = {b["booking_ref"]: b["booking_id"] for b in admin.get(f"/v1/departures/{departure}/bookings").json()}
    assert admin.post(f"/v1/bookings/{bookings['A2']}/cancel").json() == {"booking_id": bookings["A2"], "status": "cancelled"}

    at_gate = jpeg(lfw, "Colin_Powell", 5)
    r = send(admin, "POST", "/v1/gates/GMR-2/decisions", frame(at_gate))  # any gate of its operator
    assert r.status_code == 200 and (r.json()["outcome"], r.json()["booking_id"]) == ("open", bookings["A1"]), r.text
    r = send(admin, "POST", "/v1/compare", {"files": {"first": ("a.jpg", jpeg(lfw, "Colin_Powell", 2), "image/jpeg"), "second": ("b.jpg", at_gate, "image/jpeg")}})
    assert r.status_code == 200 and r.json()["match"] is True, r.text
    r = send(admin, "POST", "/v1/identify", frame(at_gate))
    assert r.status_code == 200 and r.json()["person_id"] == person, r.text
    assert [e["gate"] for e in admin.get("/v1/events").json()["items"]] == ["GMR-2"]
    assert admin.get("/v1/audit/verify").json()["intact"] is True

    assert admin.get(f"/v1/persons/{person}/export").json()["bookings"][0]["booking_id"] == bookings["A1"]
    r = admin.delete(f"/v1/persons/{person}")
    assert r.status_code == 200 and r.json()["person_erased"] is True, r.text
    problem(admin.get(f"/v1/persons/{person}"), 404, "not_found")


# --- 3. authentication ------------------------------------------------------------------------------------------------


def test_requests_without_a_valid_key_are_not_authenticated(tenants: Api, kai: Kai) -> None:
    real = tenants.keys["KAI:admin"]
    _, key_id, secret = real.split("_", 2)
    wrong_secret = f"fgk_{key_id}_{'A' * 43 if secret != 'A' * 43 else 'B' * 43}"
    revoked = create_key(tenants.app, "KAI", "admin", label="to be revoked")
    assert tenants.client(revoked["api_key"]).get("/v1/departures").status_code == 200  # works until revoked
    revoke_key(tenants.app, revoked["key_id"])
    credentials = {
        "no key": {},
        "another scheme": {"Authorization": "Basic " + base64.b64encode(b"KAI:admin").decode()},
        "malformed key": {"Authorization": "Bearer fgk_not-a-key"},
        "wrong secret": {"Authorization": f"Bearer {wrong_secret}"},
        "revoked key": {"Authorization": f"Bearer {revoked['api_key']}"},
    }
    wrong: list[str] = []
    with httpx.Client(base_url=tenants.url, timeout=60) as client:
        for what, headers in credentials.items():
            for method, template, kind, _ in ENDPOINTS:
                path, body = endpoint_request(template, kind, kai)
                r = client.request(method, path, headers=headers, **(body or {}))
                ok = (
                    r.status_code == 401
                    and r.headers.get("www-authenticate", "").startswith("Bearer")
                    and r.headers["content-type"].startswith(PROBLEM_JSON)
                    and r.json()["code"] == "not_authenticated"
                    and r.json()["status"] == 401
                )
                if not ok:
                    wrong.append(f"{what}: {method} {path}: {r.status_code} {dict(r.headers)} {r.text[:200]}")
            for path in ("/healthz", "/readyz", "/metrics"):  # health checks need no key, and ignore a bad one
                r = client.get(path, headers=headers)
                if r.status_code != 200:
                    wrong.append(f"{what}: GET {path}: {r.status_code} {r.text[:200]}")
    assert wrong == [], "\n".join(wrong)
    assert kai_view(tenants, kai)["person"]["id"] == kai.person  # the real key still works, nothing was erased


# --- 4. key secrets are never stored or logged --------------------------------------------------------------------------


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything the uvicorn and facegate loggers emit, at DEBUG (uvicorn's loggers do not propagate)."""
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "facegate")
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
    own = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access")]
    for logger in own:
        logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        for logger in own:
            logger.removeHandler(caplog.handler)


def everything_stored(app: Any) -> bytes:
    """Every row of every table the database has (and, on SQLite, the database files themselves)."""
    engine = app.store.engine
    tables = inspect(engine).get_table_names()
    assert {"api_keys", "audit_log", "persons", "bookings", "gate_events"} <= set(tables), tables
    out: list[bytes] = []
    if engine.dialect.name == "sqlite":
        db = Path(engine.url.database)
        out += [p.read_bytes() for p in sorted(db.parent.glob(db.name + "*"))]  # db, WAL
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for table in tables:
            if engine.dialect.name == "sqlite":
                cursor.execute(f'SELECT * FROM "{table}"')
                out += [repr(row).encode() for row in cursor.fetchall()]
            else:
                with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    out += [bytes(block) for block in copy]
    return b"".join(out)


def test_key_secrets_are_neither_stored_nor_logged(tenants: Api, lfw: Path, server_log: pytest.LogCaptureFixture) -> None:
    app = tenants.app
    extra = create_key(app, "KAI", "enroll", label="kiosk 2")
    revoked = create_key(app, "AP2", "audit", label="old")
    tokens = [*tenants.keys.values(), extra["api_key"], revoked["api_key"]]

    for token in tokens:  # every key authenticates (allowed or not, the key is looked up and checked)
        assert tenants.client(token).get("/v1/events").status_code in (200, 403)
    enrolled = send(tenants.client(extra["api_key"]), "POST", "/v1/persons", enrollment(nik(9), "Colin Powell", jpeg(lfw, "Colin_Powell", 2)))
    assert enrolled.status_code == 201, enrolled.text
    revoke_key(app, revoked["key_id"])
    _, key_id, secret = tenants.keys["KAI:admin"].split("_", 2)
    near_miss = f"fgk_{key_id}_{secret[:-1]}{'B' if secret[-1] != 'B' else 'C'}"
    for token in (revoked["api_key"], near_miss):
        assert tenants.client(token).get("/v1/events").status_code == 401
    problem(tenants.client(tenants.keys["KAI:audit"]).delete(f"/v1/persons/{enrolled.json()['id']}"), 403, "not_authorized")

    secrets = [token.split("_", 2)[2] for token in tokens]
    needles = {*tokens, *secrets, near_miss, *(s.encode().hex() for s in secrets)}

    stored = everything_stored(app)
    assert len(stored) > 1000 and key_id.encode() in stored  # the public key id is there, as it should be
    assert [n for n in needles if n.encode() in stored] == []

    logged = [(r.name, r.getMessage(), repr(r.__dict__)) for r in server_log.records]
    assert any(name == "uvicorn.access" and "/v1/events" in message for name, message, _ in logged), "no access log captured"
    assert [n for n in needles for entry in logged if n in entry[1] or n in entry[2]] == []
    assert [n for n in needles if n in server_log.text] == []


# --- 5. consent is per operator ---------------------------------------------------------------------------------------------


def test_a_second_operator_enrolling_the_same_face_adds_its_consent(tenants: Api, lfw: Path) -> None:
    passenger = nik(11)
    # Both enrollments within one second of each other, as at two kiosks side by side.
    time.sleep(1 - datetime.now(timezone.utc).microsecond / 1e6 + 0.01)
    r = send(tenants.client("KAI:enroll"), "POST", "/v1/persons", enrollment(passenger, "Colin Powell", jpeg(lfw, "Colin_Powell", 2)))
    assert r.status_code == 201 and r.json()["consent_added"] is False, r.text
    person = r.json()["id"]
    r = send(tenants.client("AP2:enroll"), "POST", "/v1/persons", enrollment(passenger, "Colin Powell", jpeg(lfw, "Colin_Powell", 4)))
    assert (r.status_code, r.json()["id"], r.json()["consent_added"]) == (200, person, True), r.text


def test_an_operator_is_shown_its_own_consent_only(tenants: Api, lfw: Path) -> None:
    """That the passenger also consented to KAI is KAI's business: no AP2 response tells it."""
    passenger = nik(12)
    kai_kiosk, ap2_kiosk, ap2_admin = tenants.client("KAI:enroll"), tenants.client("AP2:enroll"), tenants.client("AP2:admin")
    r = send(kai_kiosk, "POST", "/v1/persons", enrollment(passenger, "Colin Powell", jpeg(lfw, "Colin_Powell", 2)))
    assert r.status_code == 201, r.text
    person = r.json()["id"]
    enrolled = send(ap2_kiosk, "POST", "/v1/persons", enrollment(passenger, "Colin Powell", jpeg(lfw, "Colin_Powell", 4)))
    assert enrolled.json()["id"] == person, enrolled.text
    more = send(ap2_kiosk, "POST", f"/v1/persons/{person}/photos", {"files": [("photos", ("p.jpg", jpeg(lfw, "Colin_Powell", 5), "image/jpeg"))]})
    assert more.status_code == 200, more.text
    shown = {
        "enroll": enrolled.json()["consents"],
        "add photos": more.json()["consents"],
        "get": ap2_kiosk.get(f"/v1/persons/{person}").json()["consents"],
        "search": ap2_kiosk.post("/v1/persons/search", json={"nik": passenger}).json()["consents"],
        "export": ap2_admin.get(f"/v1/persons/{person}/export").json()["person"]["consents"],
    }
    assert shown == dict.fromkeys(shown, ["AP2"])
    assert kai_kiosk.get(f"/v1/persons/{person}").json()["consents"] == ["KAI"]


def test_consent_withdrawal_and_erasure_are_per_operator(tenants: Api, kai: Kai, lfw: Path) -> None:
    ap2_kiosk, ap2_admin, kai_admin = tenants.client("AP2:enroll"), tenants.client("AP2:admin"), tenants.client("KAI:admin")
    gate = tenants.client("KAI:gate:GMR-1")

    # Same NIK, another person's face: refused, and AP2 learns nothing more.
    body = problem(send(ap2_kiosk, "POST", "/v1/persons", enrollment(kai.nik, "Colin Powell", kai.photos["stranger"])), 409, "duplicate_nik")
    assert kai.person not in str(body)
    problem(ap2_kiosk.get(f"/v1/persons/{kai.person}"), 404, "not_found")
    problem(ap2_kiosk.post("/v1/persons/search", json={"nik": kai.nik}), 404, "not_found")

    # Same NIK, another photo of the same face: AP2's consent is added to the same person.
    r = send(ap2_kiosk, "POST", "/v1/persons", enrollment(kai.nik, "Colin Powell", kai.photos["same_face"]))
    assert r.status_code in (200, 201), r.text  # the status and consent_added: see the test above
    assert r.json()["id"] == kai.person, r.text
    assert ap2_kiosk.get(f"/v1/persons/{kai.person}").json()["consents"] == ["AP2"]
    assert ap2_kiosk.post("/v1/persons/search", json={"nik": kai.nik}).json()["id"] == kai.person
    export = ap2_admin.get(f"/v1/persons/{kai.person}/export").json()
    assert (export["bookings"], export["gate_events"]) == ([], [])  # KAI's bookings and gate events stay KAI's
    assert kai_admin.get(f"/v1/persons/{kai.person}").json()["consents"] == ["KAI"]

    # AP2 withdraws: only its own consent goes.
    r = ap2_admin.delete(f"/v1/persons/{kai.person}")
    assert r.status_code == 200 and r.json()["person_erased"] is False and r.json()["consent_withdrawn"] is True, r.text
    problem(ap2_admin.get(f"/v1/persons/{kai.person}"), 404, "not_found")
    assert kai_admin.get(f"/v1/persons/{kai.person}").json()["consents"] == ["KAI"]
    r = send(gate, "POST", "/v1/gates/GMR-1/decisions", frame(kai.photos["at_gate"]))
    assert (r.json()["reason"], r.json()["person_id"]) == ("already_boarded", kai.person), r.text  # still recognised

    # KAI erases: the person is gone, and the face no longer matches at the gate.
    r = kai_admin.delete(f"/v1/persons/{kai.person}")
    assert r.status_code == 200 and r.json()["person_erased"] is True, r.text
    problem(kai_admin.get(f"/v1/persons/{kai.person}"), 404, "not_found")
    r = send(gate, "POST", "/v1/gates/GMR-1/decisions", frame(kai.photos["at_gate"]))
    assert r.status_code == 200, r.text
    assert (r.json()["outcome"], r.json()["reason"], r.json()["person_id"]) == ("refuse", "no_match", None)
    bookings = kai_admin.get(f"/v1/departures/{kai.departure}/bookings").json()
    assert [b["passenger_erased"] for b in bookings] == [True, False]  # B1 unlinked; B2 was never theirs
