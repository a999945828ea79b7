"""Fuzz every operation of the published OpenAPI schema over real HTTP (schemathesis 4).

The schema is read from the live server's /openapi.json. Every response is
checked against what the schema promises: never a server error, only a
documented status code and content type, a body matching the documented
response schema, and no operation that answers 2xx without its API key.

``test_generated_requests_keep_to_the_schema``: for every operation,
schemathesis generates requests from the schema, valid ones and deliberately
invalid ones. Most carry KAI's admin key so that they get past authentication
into the routes and services; some carry no key or an unknown one. Path
parameters are sometimes real ids (an enrolled passenger, a departure in its
boarding window, a booking, a gate of KAI) so that the operations on existing
records are reached, and the photo endpoints are sometimes sent a real LFW
photo so that the face engine answers.

``test_boundary_values_keep_to_the_schema``: values that random generation
rarely reaches, sent deterministically: a NUL character in every string path
and query parameter and in string body fields, and integers beyond 32 and 64
bits in ``before_id``.

Generation is deterministic (``derandomize``, no example database) and bounded
by ``MAX_EXAMPLES`` per operation, so a run is reproducible. Both tests run on
SQLite and on PostgreSQL (the stores differ: PostgreSQL refuses NUL in text
and has 32-bit integer ids), under two minutes in all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_server import Api
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from scenario import nik, photo

#: Generated requests per operation (positive and negative generation share it).
MAX_EXAMPLES = 100

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]

#: A valid multipart body for each photo endpoint; "image" marks where the real photo goes.
PHOTO_FIELDS: dict[str, dict[str, Any]] = {
    "POST /v1/persons": {"nik": nik(8), "name": "Colin Powell", "consent": "true", "photos": ["image"]},
    "POST /v1/persons/{person_id}/photos": {"photos": ["image"]},
    "POST /v1/gates/{gate_id}/decisions": {"image": "image"},
    "POST /v1/compare": {"first": "image", "second": "image"},
    "POST /v1/identify": {"image": "image"},
}


class Fuzz:
    """The live API, its schema, a few real records of KAI, and a tally of the calls made."""

    def __init__(self, api: Api, lfw: Path) -> None:
        self.api = api
        self.schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
        self.operations = [result.ok() for result in self.schema.get_all_operations()]
        self.admin = api.keys["KAI:admin"]
        self.image = photo(lfw, "Colin_Powell", 5).read_bytes()  # not the enrolled photo
        self.records = self._records(lfw)
        self.calls: Counter[str] = Counter()
        self.past_auth: Counter[str] = Counter()  # admin-key calls that were not refused with 401

    def _records(self, lfw: Path) -> dict[str, str]:
        admin = self.api.client("KAI:admin")
        with open(photo(lfw, "Colin_Powell", 2), "rb") as f:
            form = {"nik": nik(7), "name": "Colin Powell", "consent": "true"}
            r = admin.post("/v1/persons", data=form, files={"photos": f})
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        at = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()
        r = admin.post("/v1/departures", json={"service_number": "KA 9", "origin_site": "GMR", "scheduled_at": at})
        assert r.status_code == 201, r.text
        departure_id = r.json()["id"]
        row = {"departure_id": departure_id, "booking_ref": "F1", "nik": nik(7), "seat": "1A"}
        assert admin.put("/v1/bookings", json={"bookings": [row]}).status_code == 200
        booking_id = admin.get(f"/v1/departures/{departure_id}/bookings").json()[0]["booking_id"]
        return {"person_id": person_id, "departure_id": departure_id, "booking_id": booking_id, "gate_id": "GMR-1"}

    def real_ids(self, operation: Any) -> dict[str, str]:
        """The operation's path parameters set to ids of real records."""
        return {p.name: self.records[p.name] for p in operation.path_parameters if p.name in self.records}

    def photo_body(self, label: str, **changes: Any) -> dict[str, Any] | None:
        """A multipart body with the real photo in every photo field, or None if ``label`` takes no photo."""
        if label not in PHOTO_FIELDS:
            return None
        body = {**PHOTO_FIELDS[label], **changes}
        return {k: ([self.image] if v == ["image"] else self.image if v == "image" else v) for k, v in body.items()}

    def call(self, case: Any, key: str | None) -> Any:
        """Send ``case`` with ``key`` and check the response; raises on a violation.

        Each call opens its own connection: after a 500 the server closes the connection without saying so.
        """
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = case.call_and_validate(base_url=self.api.url, headers=headers, checks=CHECKS)
        self.calls[case.operation.label] += 1
        if key == self.admin and response.status_code != 401:
            self.past_auth[case.operation.label] += 1
        return response


@pytest.fixture
def fuzz(tenants: Api, lfw: Path) -> Fuzz:
    return Fuzz(tenants, lfw)


def _strategy(fuzz: Fuzz, operation: Any) -> st.SearchStrategy[Any]:
    real_ids = fuzz.real_ids(operation)
    options = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if real_ids:
        options.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real_ids))
    body = fuzz.photo_body(operation.label)
    if body is not None:
        options.append(
            operation.as_strategy(
                GenerationMode.POSITIVE, path_parameters=real_ids or None, body=body, media_type="multipart/form-data"
            )
        )
    return st.one_of(options)


def _report(findings: dict[str, str]) -> str:
    return "\n\n".join(f"{label}:\n{text}" for label, text in findings.items())


def test_generated_requests_keep_to_the_schema(fuzz: Fuzz) -> None:
    assert len(fuzz.operations) >= 20, [op.label for op in fuzz.operations]
    # Mostly the admin key, sometimes none or an unknown one.
    keys: list[str | None] = [fuzz.admin] * 4 + [None, "fgk_000000000000_" + "A" * 43]
    findings: dict[str, str] = {}
    for operation in fuzz.operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=_strategy(fuzz, operation), key=st.sampled_from(keys))
        def generated(case: Any, key: str | None) -> None:
            fuzz.call(case, key)

        try:
            generated()
        except (Exception, FailureGroup) as error:  # one operation's failure must not hide the others'
            findings[operation.label] = f"{type(error).__name__}: {error}"

    assert not findings, _report(findings)
    # Every operation was exercised, and each got past authentication with the admin key.
    labels = {op.label for op in fuzz.operations}
    assert set(fuzz.calls) == labels and set(fuzz.past_auth) == labels, (fuzz.calls, fuzz.past_auth)
    health = {"GET /healthz", "GET /readyz", "GET /metrics"}  # no input: only a handful of distinct requests
    assert all(fuzz.calls[label] >= MAX_EXAMPLES // 2 for label in labels - health), fuzz.calls


def _form_fields(operation: Any) -> set[str]:
    forms = [body for body in operation.body if body.media_type == "multipart/form-data"]
    return {name for body in forms for name in body.definition["schema"]["properties"]}


def _boundary_cases(fuzz: Fuzz) -> Iterator[tuple[str, Any]]:
    """(what, case) for values random generation rarely sends."""
    nul = "x\x00y"
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    row = {"departure_id": fuzz.records["departure_id"], "booking_ref": "F1", "nik": nik(7), "seat": "1A"}
    json_fields = {  # operation -> (a valid JSON body, the string fields to put NUL in)
        "POST /v1/persons/search": ({"nik": nik(7)}, ["nik"]),
        "POST /v1/departures": (
            {"service_number": "KA 1", "origin_site": "GMR", "scheduled_at": at}, ["service_number", "origin_site"]
        ),
    }
    for operation in fuzz.operations:
        label = operation.label
        real_ids = fuzz.real_ids(operation)
        photo_body = fuzz.photo_body(label)
        form: dict[str, Any] = {"body": photo_body, "media_type": "multipart/form-data"} if photo_body else {}
        for parameter in operation.path_parameters:
            ids = {**real_ids, parameter.name: nul}
            yield f"{label} {parameter.name}=NUL", operation.Case(path_parameters=ids, **form)
        for parameter in operation.query:
            schema = parameter.definition.get("schema", {})
            types = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", [])}
            if "string" in types:
                query = {parameter.name: nul}
                yield f"{label} ?{parameter.name}=NUL", operation.Case(path_parameters=real_ids, query=query)
            if "integer" in types and "maximum" not in str(schema):
                for value in (2**31, 2**63):
                    query = {parameter.name: value}
                    yield f"{label} ?{parameter.name}={value}", operation.Case(path_parameters=real_ids, query=query)
        if label in json_fields:
            valid, names = json_fields[label]
            for name in names:
                body = {**valid, name: nul}
                yield f"{label} JSON {name}=NUL", operation.Case(body=body, media_type="application/json")
        if label == "PUT /v1/bookings":
            for name in row:
                body = {"bookings": [{**row, name: nul}]}
                yield f"{label} JSON bookings[0].{name}=NUL", operation.Case(body=body, media_type="application/json")
        if photo_body is not None:
            names = [name for name in ("nik", "name", "booking_id", "booking_ref") if name in _form_fields(operation)]
            for name in names:
                body = fuzz.photo_body(label, **{name: nul})
                yield f"{label} multipart {name}=NUL", operation.Case(
                    path_parameters=real_ids, body=body, media_type="multipart/form-data"
                )


def test_boundary_values_keep_to_the_schema(fuzz: Fuzz) -> None:
    findings: dict[str, str] = {}
    statuses: dict[str, int] = {}
    for what, case in _boundary_cases(fuzz):
        try:
            statuses[what] = fuzz.call(case, fuzz.admin).status_code
        except (Exception, FailureGroup) as error:
            findings[what] = f"{type(error).__name__}: {error}"
    assert not findings, f"{len(findings)} request(s) broke the schema: {sorted(findings)}\n\n{_report(findings)}"
    assert len(statuses) >= 25, statuses
    assert all(400 <= status < 500 or status == 200 for status in statuses.values()), statuses
