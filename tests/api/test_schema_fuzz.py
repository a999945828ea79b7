"""Fuzz every operation of the published OpenAPI schema over real HTTP (schemathesis 4).

The schema is read from the live server's /openapi.json. For every operation,
schemathesis generates requests from the schema, valid ones and deliberately
invalid ones, and each response is checked against what the schema promises:
never a 5xx, only a documented status code, a documented content type, and a
body that matches the documented response schema.

Most calls carry KAI's admin key so that they get past authentication into the
routes and services; some carry no key or a malformed one. Path parameters are
sometimes real ids (an enrolled passenger, a departure, a booking, a gate of
KAI) so that the operations on existing records are reached too, and the photo
endpoints are sometimes sent a real LFW photo so that the face engine answers.

Generation is deterministic (``derandomize``, no example database) and bounded
by ``max_examples`` per operation and mode, so a run is reproducible and takes
well under a minute per store; it runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from api_server import Api
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from scenario import nik, photo

#: Examples per operation and generation mode (positive, negative).
MAX_EXAMPLES = 40

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _records(api: Api, lfw: Path) -> dict[str, str]:
    """A passenger, a departure in its boarding window and a booking, all KAI's: ids the fuzzer may aim at."""
    admin = api.client("KAI:admin")
    with open(photo(lfw, "Colin_Powell", 2), "rb") as f:
        r = admin.post("/v1/persons", data={"nik": nik(7), "name": "Colin Powell", "consent": "true"}, files={"photos": f})
    assert r.status_code == 201, r.text
    person_id = r.json()["id"]
    at = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()
    r = admin.post("/v1/departures", json={"service_number": "KA 9", "origin_site": "GMR", "scheduled_at": at})
    assert r.status_code == 201, r.text
    departure_id = r.json()["id"]
    r = admin.put("/v1/bookings", json={"bookings": [{"departure_id": departure_id, "booking_ref": "F1", "nik": nik(7), "seat": "1A"}]})
    assert r.status_code == 200, r.text
    booking_id = admin.get(f"/v1/departures/{departure_id}/bookings").json()[0]["booking_id"]
    return {"person_id": person_id, "departure_id": departure_id, "booking_id": booking_id, "gate_id": "GMR-1"}


def _photo_body(operation: Any, image: bytes) -> dict[str, Any] | None:
    """A multipart body with a real photo in every photo field, other fields left to the fuzzer's defaults."""
    fields = {
        "POST /v1/persons": {"nik": nik(8), "name": "Colin Powell", "consent": "true", "photos": [image]},
        "POST /v1/persons/{person_id}/photos": {"photos": [image]},
        "POST /v1/gates/{gate_id}/decisions": {"image": image},
        "POST /v1/compare": {"first": image, "second": image},
        "POST /v1/identify": {"image": image},
    }
    return fields.get(operation.label)


def _strategy(operation: Any, records: dict[str, str], image: bytes) -> st.SearchStrategy[Any]:
    path_names = {p.name for p in operation.path_parameters}
    real_ids = {name: value for name, value in records.items() if name in path_names}
    options = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if real_ids:
        options.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real_ids))
    body = _photo_body(operation, image)
    if body is not None:
        options.append(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real_ids or None, body=body, media_type="multipart/form-data")
        )
    return st.one_of(options)


def _run(operation: Any, strategy: st.SearchStrategy[Any], call: Callable[[Any, str | None], None], keys: list[str | None]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy, key=st.sampled_from(keys))
    def fuzz(case: Any, key: str | None) -> None:
        call(case, key)

    fuzz()


def test_every_operation_keeps_to_the_schema(tenants: Api, lfw: Path) -> None:
    schema = schemathesis.openapi.from_url(f"{tenants.url}/openapi.json")
    records = _records(tenants, lfw)
    image = photo(lfw, "Colin_Powell", 5).read_bytes()
    admin = tenants.keys["KAI:admin"]
    # Mostly the admin key (past authentication), sometimes none or a malformed one.
    keys: list[str | None] = [admin, admin, admin, admin, None, "fgk_000000000000_not-a-real-key"]
    session = requests.Session()
    calls: Counter[str] = Counter()
    authorised: Counter[str] = Counter()
    findings: dict[str, str] = {}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:

        def call(case: Any, key: str | None, label: str = operation.label) -> None:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            response = case.call_and_validate(base_url=tenants.url, session=session, headers=headers, checks=CHECKS)
            calls[label] += 1
            if key == admin and response.status_code != 401:
                authorised[label] += 1

        try:
            _run(operation, _strategy(operation, records, image), call, keys)
        except Exception as error:  # a failure of one operation must not hide those of the others
            findings[operation.label] = f"{type(error).__name__}: {error}"

    assert not findings, "\n\n".join(f"{label}:\n{text}" for label, text in findings.items())
    # Every operation was called, and with the admin key each got past authentication.
    assert set(calls) == {op.label for op in operations}
    assert all(calls[op.label] >= MAX_EXAMPLES for op in operations), calls
    assert set(authorised) == {op.label for op in operations}, authorised
