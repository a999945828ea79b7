"""Malformed and hostile requests over real HTTP: each gets a clear problem response, never a 500.

Every refusal is an RFC 9457 ``application/problem+json`` body with the status
and stable ``code`` the API documents, a message a person can act on, and no
stack trace or Python exception text. A refused request writes nothing: the
row counts of the store are the same before and after. Photos that are odd but
legal (CMYK, 16-bit, alpha, greyscale, EXIF-rotated, WebP, HEIC) are decided
at the gate like any other photo.
"""

from __future__ import annotations

import base64
import json
import random
import re
import socket
import struct
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx
import imaging_samples as samples
import numpy as np
import pytest
from api_server import Api, serve
from PIL import Image
from scenario import Station, nik, photo
from sqlalchemy import text

from facegate.services.context import Facegate

GATE = "/v1/gates/GMR-1/decisions"
ENROLLED, AT_THE_GATE = ("Colin_Powell", 2), ("Colin_Powell", 5)
GROUP_PHOTO = "face_recognition_obama_and_biden.jpg"
TABLES = ("persons", "consents", "templates", "departures", "bookings", "gate_events")

#: What must never reach a caller: tracebacks, source paths, Python reprs and exception class names,
#: names of the libraries underneath.
LEAK = re.compile(
    r"Traceback|File \"|\.py\b|site-packages|object at 0x|<_io\.|<class |\b[A-Z]\w*(?:Error|Exception)\b"
    r"|sqlalchemy|psycopg|pydantic|starlette|uvicorn|python_multipart"
)


# --- helpers ------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The response is a problem+json of ``status`` (and ``code``) with a readable, leak-free detail."""
    what = f"{response.request.method} {response.request.url.path[:80]}"
    assert response.status_code == status, f"{what}: expected {status}, got {response.status_code}: {response.text[:500]}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == "application/problem+json", f"{what}: content type {media_type!r}"
    body = response.json()
    assert {"type", "title", "status", "code", "detail"} <= body.keys(), body
    assert body["status"] == status, body
    assert body["type"] == f"urn:facegate:problem:{body['code']}", body
    if code is not None:
        assert body["code"] == code, f"{what}: expected code {code}, got {body}"
    assert isinstance(body["detail"], str) and len(body["detail"]) >= 10, body
    leak = LEAK.search(response.text)
    assert leak is None, f"{what}: the body shows {leak.group(0)!r}: {response.text[:600]}"
    return body


def counts(app: Facegate) -> dict[str, int]:
    """Rows per table: what a refused request must leave as it was."""
    with app.store.transaction() as uow:
        return {table: uow.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def lfw_bytes(lfw: Path, name: str, number: int) -> bytes:
    return photo(lfw, name, number).read_bytes()


def soon(minutes: int = 30) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def enroll_json(client: httpx.Client, photos: object, **fields: object) -> httpx.Response:
    body = {"nik": nik(7), "name": "Budi Santoso", "consent": True, "photos": photos, **fields}
    return client.post("/v1/persons", json=body)


def enroll_multipart(client: httpx.Client, files: list[tuple[str, bytes, str]], **fields: str) -> httpx.Response:
    data = {"nik": nik(7), "name": "Budi Santoso", "consent": "true", **fields}
    return client.post("/v1/persons", data=data, files=[("photos", f) for f in files])


def at_gate(client: httpx.Client, data: bytes, media_type: str = "image/jpeg") -> httpx.Response:
    return client.post(GATE, files={"image": ("frame", data, media_type)})


def png_16bit_rgb(im: Image.Image) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one), built by hand from an 8-bit picture."""
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint16) * 257  # 0..255 -> 0..65535
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgb)
    height, width = rgb.shape[:2]
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + samples.png_chunk(b"IHDR", ihdr) + samples.png_chunk(b"IDAT", zlib.compress(rows))
            + samples.png_chunk(b"IEND", b""))


def exif_rotated_jpeg(im: Image.Image) -> bytes:
    """Pixels stored turned a quarter, with EXIF orientation 6 saying how to turn them upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return samples.encode(im.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif.tobytes())


def rgba_png(im: Image.Image) -> bytes:
    alpha = Image.new("L", im.size, 255)
    alpha.paste(0, (0, 0, 30, 30))  # a transparent corner, away from the face
    rgba = im.convert("RGBA")
    rgba.putalpha(alpha)
    return samples.encode(rgba, "PNG")


class RawAnswer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes
    read_on: int | None  # body bytes the server still took after answering (None: not tried)


def raw_exchange(url: str, head: str, parts: Iterable[bytes], then: bytes | None = None) -> RawAnswer:
    """Send ``head`` and then ``parts`` on a bare socket, never finish the body, and read the answer.

    The answer must come while the body is still unfinished: a server that waited for the rest would let
    the read time out, and the test fails. With ``then``, keep sending it (up to 16 MB) after the answer,
    and count how much the server still takes before it hangs up.
    """
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        try:
            sock.sendall(head.encode("latin-1"))
            for part in parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed while we were still sending: read what it said
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(received):
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed before a whole answer came: {received[:200]!r}"
            received += chunk
        read_on = None
        if then is not None:
            read_on = 0
            sock.settimeout(5)
            try:
                while read_on < 16 * 1024 * 1024:
                    sock.sendall(then)
                    read_on += len(then)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no HTTP response: {received[:200]!r}"
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return RawAnswer(int(lines[0].split()[1]), headers, body, read_on)


def _length(received: bytes) -> int:
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", received.partition(b"\r\n\r\n")[0], re.IGNORECASE)
    assert match, f"an answer without Content-Length: {received[:200]!r}"
    return int(match.group(1))


def raw_problem(answer: RawAnswer, expected: int, code: str) -> dict:
    assert answer.status == expected, answer.body[:300]
    assert answer.headers.get("content-type", "").split(";")[0] == "application/problem+json", answer.headers
    problem = json.loads(answer.body)
    assert (problem["status"], problem["code"]) == (expected, code), problem
    return problem


# --- images -------------------------------------------------------------------


def test_broken_photos_are_refused_at_enrollment_and_at_the_gate(tenants: Api, lfw: Path) -> None:
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    real = lfw_bytes(lfw, *AT_THE_GATE)
    truncated = real[: len(real) // 2]
    noise = random.Random(7).randbytes(4096)
    before = counts(tenants.app)

    assert_problem(enroll_multipart(kiosk, [("a.jpg", truncated, "image/jpeg")]), 422, "corrupt_image")
    assert_problem(enroll_json(kiosk, [b64(truncated)]), 422, "corrupt_image")
    assert_problem(at_gate(gate, truncated), 422, "corrupt_image")

    assert_problem(enroll_multipart(kiosk, [("a.jpg", noise, "application/octet-stream")]), 415, "unsupported_format")
    assert_problem(enroll_json(kiosk, [b64(noise)]), 415, "unsupported_format")
    assert_problem(at_gate(gate, noise, "application/octet-stream"), 415, "unsupported_format")

    # One bad photo among good ones spoils the enrollment, and the message says which.
    body = assert_problem(enroll_json(kiosk, [b64(real), b64(truncated)]), 422, "corrupt_image")
    assert "Photo 2" in body["detail"]
    assert counts(tenants.app) == before


def test_a_damaged_image_header_is_corrupt_image_in_plain_words(tenants: Api) -> None:
    """A real signature followed by noise: corrupt_image, and the message shows no Python internals."""
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    failures = []
    for fmt, data in samples.garbage_after_magic().items():
        for response in (enroll_json(kiosk, [b64(data)]), at_gate(gate, data, "application/octet-stream")):
            try:
                assert_problem(response, 422, "corrupt_image")
            except AssertionError:
                detail = response.json()["detail"][:90]
                failures.append(f"{fmt} at {response.request.url.path}: {response.status_code} {detail}")
    assert not failures, "\n".join(failures)
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_a_png_declared_as_jpeg_is_refused_naming_both(tenants: Api) -> None:
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    png = samples.encode(Image.open(samples.real_photo()).convert("RGB"), "PNG")
    before = counts(tenants.app)
    for response in (
        enroll_json(kiosk, [f"data:image/jpeg;base64,{b64(png)}"]),
        enroll_multipart(kiosk, [("face.jpg", png, "image/jpeg")]),
        gate.post(GATE, json={"image": f"data:image/jpeg;base64,{b64(png)}"}),
    ):
        body = assert_problem(response, 415, "unsupported_format")
        assert "image/jpeg" in body["detail"] and "PNG" in body["detail"], body
    assert counts(tenants.app) == before


def test_invalid_base64_is_invalid_input(tenants: Api, lfw: Path) -> None:
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    good = b64(lfw_bytes(lfw, *AT_THE_GATE))
    for bad in ("not*base64!!", good[:-3], "data:image/jpeg;base64,%%%", "===="):
        body = assert_problem(enroll_json(kiosk, [bad]), 422, "invalid_input")
        assert "base64" in body["detail"], body
        assert_problem(gate.post(GATE, json={"image": bad}), 422, "invalid_input")
    # Not a string at all.
    assert_problem(enroll_json(kiosk, [12345]), 422, "invalid_input")
    assert_problem(enroll_json(kiosk, {"a": good}), 422, "invalid_input")
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_photo_count_must_be_one_to_ten(tenants: Api, lfw: Path) -> None:
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    real = lfw_bytes(lfw, *AT_THE_GATE)
    before = counts(tenants.app)

    assert_problem(enroll_json(kiosk, []), 422, "invalid_input")
    body = {"nik": nik(7), "name": "Budi Santoso", "consent": True}
    assert_problem(kiosk.post("/v1/persons", json=body), 422, "invalid_input")
    assert_problem(kiosk.post("/v1/persons", data={k: str(v) for k, v in body.items()}, files={"other": ("x", b"x")}),
                   422, "invalid_input")
    fields_only = {name: (None, str(value)) for name, value in body.items()}  # multipart, no file part
    assert_problem(kiosk.post("/v1/persons", files=fields_only), 422, "invalid_input")
    # A urlencoded form cannot carry a photo at all.
    assert_problem(kiosk.post("/v1/persons", data={k: str(v) for k, v in body.items()}), 415, "unsupported_media_type")
    assert_problem(gate.post(GATE, json={}), 422, "invalid_input")
    assert_problem(gate.post(GATE, json={"image": [b64(real), b64(real)]}), 422, "invalid_input")

    eleven = assert_problem(enroll_json(kiosk, [b64(real)] * 11), 422, "invalid_input")
    assert "10" in eleven["detail"], eleven
    assert counts(tenants.app) == before


def test_eleven_photos_in_a_form_are_invalid_input_like_in_json(tenants: Api, lfw: Path) -> None:
    real = lfw_bytes(lfw, *AT_THE_GATE)
    response = enroll_multipart(tenants.client("KAI:enroll"), [(f"{i}.jpg", real, "image/jpeg") for i in range(11)])
    eleven = assert_problem(response, 422, "invalid_input")
    assert "10" in eleven["detail"], eleven
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_a_decompression_bomb_is_refused_as_too_large(tenants: Api) -> None:
    kiosk, gate = tenants.client("KAI:enroll"), tenants.client("KAI:gate:GMR-1")
    bomb = samples.png_bomb(30_000, 30_000)  # a few hundred bytes claiming 900 million pixels
    assert len(bomb) < 2000
    for response in (
        enroll_multipart(kiosk, [("bomb.png", bomb, "image/png")]),
        enroll_json(kiosk, [f"data:image/png;base64,{b64(bomb)}"]),
        at_gate(gate, bomb, "image/png"),
    ):
        body = assert_problem(response, 413, "image_too_large")
        assert "30000x30000" in body["detail"] or "pixels" in body["detail"], body
    assert counts(tenants.app) == {table: 0 for table in TABLES}
    assert tenants.client().get("/healthz").status_code == 200


def test_odd_but_legal_photos_of_a_real_face_are_decided_at_the_gate(tenants: Api, lfw: Path) -> None:
    station = Station(tenants.app, lfw)
    person = station.enroll(*ENROLLED)
    station.book(station.departure("KA 9", at=soon()), ENROLLED[0])
    face = Image.open(photo(lfw, *AT_THE_GATE)).convert("RGB")
    variants = {
        "CMYK JPEG": (samples.encode(face.convert("CMYK"), "JPEG", quality=95), "image/jpeg"),
        "16-bit PNG": (png_16bit_rgb(face), "image/png"),
        "RGBA PNG": (rgba_png(face), "image/png"),
        "greyscale JPEG": (samples.encode(face.convert("L"), "JPEG", quality=95), "image/jpeg"),
        "EXIF-rotated JPEG": (exif_rotated_jpeg(face), "image/jpeg"),
        "WebP": (samples.encode(face, "WEBP", quality=90), "image/webp"),
        "HEIC": (samples.encode(face, "HEIF", quality=90), "image/heic"),
    }
    gate = tenants.client("KAI:gate:GMR-1")
    reasons = []
    for what, (data, media_type) in variants.items():
        response = at_gate(gate, data, media_type)
        assert response.status_code == 200, f"{what}: {response.text[:400]}"
        decision = response.json()
        assert decision["faces_detected"] == 1, f"{what}: {decision}"
        assert decision["person_id"] == person, f"{what}: not recognised: {decision}"
        reasons.append(decision["reason"])
    # The first photo boards the passenger; every later one finds them boarded already.
    assert reasons == ["valid_booking"] + ["already_boarded"] * (len(variants) - 1)
    # The same photos as base64 in JSON are read the same way.
    response = gate.post(GATE, json={"image": f"data:image/heic;base64,{b64(variants['HEIC'][0])}"})
    assert response.status_code == 200 and response.json()["person_id"] == person, response.text[:400]


# --- faces --------------------------------------------------------------------


def test_enrollment_needs_exactly_one_face(tenants: Api, datasets: Path) -> None:
    kiosk = tenants.client("KAI:enroll")
    grey = samples.encode(Image.new("RGB", (400, 400), (128, 128, 128)), "JPEG")
    group = (datasets / "group-photos" / "images" / GROUP_PHOTO).read_bytes()

    body = assert_problem(enroll_multipart(kiosk, [("grey.jpg", grey, "image/jpeg")]), 422, "no_face")
    assert "face" in body["detail"].lower()
    body = assert_problem(enroll_json(kiosk, [b64(group)]), 422, "multiple_faces")
    assert "face" in body["detail"].lower()
    assert counts(tenants.app) == {table: 0 for table in TABLES}


# --- body size ----------------------------------------------------------------


def test_bodies_over_the_cap_are_refused_before_they_are_read(tenants: Api) -> None:
    key = tenants.keys["KAI:enroll"]
    with serve(tenants.app, max_body_bytes=300_000) as url:
        # Declared too large: refused on the headers; only a sliver of the body is ever sent.
        head = (f"POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                "Content-Type: application/json\r\nContent-Length: 400000\r\n\r\n")
        raw_problem(raw_exchange(url, head, [b'{"nik": "']), 413, "request_too_large")

        # Chunked, no Content-Length: refused once the bytes received pass the cap (the rest never comes).
        boundary = "facegateboundary"
        start = (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="big.jpg"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n").encode()
        chunks = [start] + [bytes(64 * 1024)] * 5  # ~320 KB, over the 300,000-byte cap, never finished
        head = (f"POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n")
        encoded = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks]
        raw_problem(raw_exchange(url, head, encoded), 413, "request_too_large")

        # The same over JSON to an endpoint whose body FastAPI reads itself.
        head = (f"PUT /v1/bookings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenants.keys['KAI:manifest']}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        encoded = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in [b'{"bookings": ['] + [b" " * 65536] * 5]
        raw_problem(raw_exchange(url, head, encoded), 413, "request_too_large")

        # A body under the cap still goes through, and the server is healthy.
        manifest = {"Authorization": f"Bearer {tenants.keys['KAI:manifest']}"}
        with httpx.Client(base_url=url, timeout=30, headers=manifest) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            assert client.get("/readyz").status_code == 200
            departure = {"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": soon().isoformat()}
            assert client.post("/v1/departures", json=departure).status_code == 201

    # The default cap of 10 MB: an 11 MB declaration is refused without sending the 11 MB.
    head = (f"POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {11 * 1024 * 1024}\r\n\r\n")
    problem = raw_problem(raw_exchange(tenants.url, head, []), 413, "request_too_large")
    assert "10 MB" in problem["detail"], problem
    # ... and with httpx sending the whole 11 MB body.
    response = tenants.client("KAI:enroll").post("/v1/persons", content=bytes(11 * 1024 * 1024),
                                                  headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "request_too_large")
    assert tenants.client().get("/healthz").json() == {"status": "ok"}
    assert counts(tenants.app) == {table: 1 if table == "departures" else 0 for table in TABLES}


def test_after_refusing_an_oversized_body_the_server_closes_the_connection(tenants: Api) -> None:
    """Once the cap is passed the rest of the body is unwanted: the server hangs up instead of reading on."""
    with serve(tenants.app, max_body_bytes=300_000) as url:
        declared = (f"POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenants.keys['KAI:enroll']}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 400000\r\n\r\n")
        chunked = (f"POST /v1/persons HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tenants.keys['KAI:enroll']}\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = f"{65536:x}\r\n".encode() + b" " * 65536 + b"\r\n"
        for what, head, parts, more in (("Content-Length", declared, [b"{"], b" " * 65536),
                                        ("chunked", chunked, [chunk] * 5, chunk)):
            answer = raw_exchange(url, head, parts, then=more)
            raw_problem(answer, 413, "request_too_large")
            # Kernel buffers take a few MB before a closed socket is noticed; 16 MB means the server read on.
            assert answer.read_on is not None and answer.read_on < 16 * 1024 * 1024, (
                f"{what}: after its 413 the server still read {answer.read_on / 2**20:.0f} MB of the body "
                f"and kept the connection open ({answer.headers})"
            )


def test_the_size_refusal_states_the_configured_limit(tenants: Api) -> None:
    with serve(tenants.app, max_body_bytes=300_000) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/v1/departures", content=bytes(400_000), headers={"Content-Type": "application/json"})
    body = assert_problem(response, 413, "request_too_large")
    assert not re.search(r"\b0 MB\b", body["detail"]), f"the message should state the real limit: {body}"
    assert re.search(r"\b(300[,. ]?000|29[23](\.\d+)?|300|0\.[23]\d*) ?(bytes|[kK]i?B|Mi?B)", body["detail"]), body


# --- content types and request shape ------------------------------------------


def test_wrong_content_types_and_malformed_bodies(tenants: Api, lfw: Path) -> None:
    kiosk, ticketing = tenants.client("KAI:enroll"), tenants.client("KAI:manifest")
    departure = {"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": soon().isoformat()}

    sent = kiosk.post("/v1/persons", content=b"nik=1&name=x", headers={"Content-Type": "text/plain"})
    assert_problem(sent, 415, "unsupported_media_type")
    for client, method, path in ((kiosk, "POST", "/v1/persons"), (ticketing, "POST", "/v1/departures"),
                                 (ticketing, "PUT", "/v1/bookings")):
        sent = client.request(method, path, content=b'{"nik": "1", ', headers={"Content-Type": "application/json"})
        assert_problem(sent, 400, "malformed_request")
        sent = client.request(method, path, json=[departure])
        assert_problem(sent, 422, "invalid_input")

    # Broken multipart: no boundary parameter, garbage, a part without headers or without a name.
    real = lfw_bytes(lfw, *AT_THE_GATE)
    for content_type, content in (
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=nik\r\n\r\n1\r\n--x--\r\n"),
        ("multipart/form-data; boundary=x", b"garbage, not a multipart body"),
        ("multipart/form-data; boundary=x", b"--x\r\nno headers here at all\r\n--x--\r\n"),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--\r\n"),
        ("multipart/form-data; boundary=x", b"--y\r\nContent-Disposition: form-data; name=nik\r\n\r\n1\r\n--y--\r\n"),
    ):
        sent = kiosk.post("/v1/persons", content=content, headers={"Content-Type": content_type})
        assert_problem(sent, 400, "malformed_request")

    # Unknown fields are refused by name, in JSON and in a form.
    body = assert_problem(ticketing.post("/v1/departures", json={**departure, "platform_colour": "red"}), 422,
                          "invalid_input")
    assert "platform_colour" in body["detail"] and any(e["field"] == "platform_colour" for e in body["errors"]), body
    body = assert_problem(enroll_json(kiosk, [b64(real)], loyalty_tier="gold"), 422, "invalid_input")
    assert "loyalty_tier" in body["detail"], body
    body = assert_problem(enroll_multipart(kiosk, [("a.jpg", real, "image/jpeg")], loyalty_tier="gold"), 422,
                          "invalid_input")
    assert "loyalty_tier" in body["detail"], body
    manifest = {"bookings": [{"departure_id": "x", "booking_ref": "B1", "nik": nik(1), "seat": "1A", "fare": 10}]}
    body = assert_problem(ticketing.put("/v1/bookings", json=manifest), 422, "invalid_input")
    assert "fare" in body["detail"], body
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_a_text_body_to_a_json_endpoint_is_unsupported_media_type(tenants: Api) -> None:
    ticketing = tenants.client("KAI:manifest")
    departure = json.dumps({"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": soon().isoformat()})
    for method, path in (("POST", "/v1/departures"), ("PUT", "/v1/bookings"), ("POST", "/v1/persons/search")):
        client = tenants.client("KAI:enroll") if path == "/v1/persons/search" else ticketing
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            sent = client.request(method, path, content=departure.encode(), headers={"Content-Type": content_type})
            assert_problem(sent, 415, "unsupported_media_type")
    assert counts(tenants.app)["departures"] == 0


def test_a_multipart_body_cut_off_in_a_photo_is_malformed(tenants: Api, lfw: Path) -> None:
    """The closing boundary never comes: the upload broke off. Not 'no photo was sent'."""
    real = lfw_bytes(lfw, *AT_THE_GATE)
    content = (b'--x\r\nContent-Disposition: form-data; name="nik"\r\n\r\n' + nik(7).encode() + b"\r\n"
               b'--x\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n" + real[:500])
    response = tenants.client("KAI:enroll").post(
        "/v1/persons", content=content, headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert_problem(response, 400, "malformed_request")
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_deeply_nested_json_is_malformed_not_a_crash(tenants: Api) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # 200 KB, well under the body cap
    calls = [
        ("KAI:enroll", "POST", "/v1/persons"),
        ("KAI:gate:GMR-1", "POST", GATE),
        ("KAI:admin", "POST", "/v1/compare"),
        ("KAI:admin", "POST", "/v1/identify"),
        ("KAI:manifest", "POST", "/v1/departures"),
        ("KAI:manifest", "PUT", "/v1/bookings"),
    ]
    failures = []
    for key, method, path in calls:
        for body in (deep, b'{"photos": ' + deep + b', "image": 1}'):
            with tenants.client(key) as client:  # a connection of its own: a crash may reset it
                try:
                    response = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
                except httpx.TransportError as exc:
                    failures.append(f"{method} {path}: the connection broke ({exc})")
                    continue
            if response.status_code != 400 or response.json().get("code") != "malformed_request":
                failures.append(f"{method} {path}: {response.status_code} {response.json().get('code')}")
            else:
                assert_problem(response, 400, "malformed_request")
    assert not failures, "\n".join(failures)
    assert counts(tenants.app) == {table: 0 for table in TABLES}
    assert tenants.client().get("/readyz").status_code == 200


# --- NIK, consent, name -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason", "says"),
    [
        ("317401570890", "length", "16 digits"),
        ("9974015708900001", "province", "province code 99"),
        ("3174013102900001", "birth_date", "31-02-90"),
    ],
)
def test_an_invalid_nik_is_refused_saying_why(tenants: Api, lfw: Path, value: str, reason: str, says: str) -> None:
    kiosk = tenants.client("KAI:enroll")
    real = b64(lfw_bytes(lfw, *AT_THE_GATE))
    for response in (
        enroll_json(kiosk, [real], nik=value),
        kiosk.post("/v1/persons/search", json={"nik": value}),
    ):
        body = assert_problem(response, 422, "invalid_nik")
        assert says in body["detail"], body
        assert body.get("details", {}).get("reason") == reason, body
        assert value not in response.text  # a NIK, even a wrong one, is not echoed
    assert counts(tenants.app) == {table: 0 for table in TABLES}


def test_consent_and_name_are_checked(tenants: Api, lfw: Path) -> None:
    kiosk = tenants.client("KAI:enroll")
    real = lfw_bytes(lfw, *AT_THE_GATE)
    body = assert_problem(enroll_json(kiosk, [b64(real)], consent=False), 422, "no_consent")
    assert "consent" in body["detail"]
    assert_problem(enroll_multipart(kiosk, [("a.jpg", real, "image/jpeg")], consent="false"), 422, "no_consent")
    assert_problem(enroll_json(kiosk, [b64(real)], consent="perhaps"), 422, "invalid_input")
    for name in ("Budi\x1b[31mSantoso", "Budi\x00", "Budi \u202eosotnaS", "\x07"):
        body = assert_problem(enroll_json(kiosk, [b64(real)], name=name), 422, "invalid_input")
        assert "character" in body["detail"], body
    assert_problem(enroll_multipart(kiosk, [("a.jpg", real, "image/jpeg")], name="Budi\x1bSantoso"), 422,
                   "invalid_input")
    assert_problem(enroll_json(kiosk, [b64(real)], name=""), 422, "invalid_input")
    assert counts(tenants.app) == {table: 0 for table in TABLES}


# --- manifests ----------------------------------------------------------------


def test_departures_are_checked(tenants: Api) -> None:
    ticketing = tenants.client("KAI:manifest")
    base = {"service_number": "KA 7", "origin_site": "GMR", "scheduled_at": "2026-12-01T09:30:00+07:00"}

    body = assert_problem(ticketing.post("/v1/departures", json={**base, "scheduled_at": "2026-12-01T09:30:00"}), 422,
                          "invalid_input")
    assert "time zone" in body["detail"], body
    assert_problem(ticketing.post("/v1/departures", json={**base, "scheduled_at": "next Tuesday"}), 422,
                   "invalid_input")
    body = assert_problem(
        ticketing.post("/v1/departures", json={**base, "boarding_opens_minutes": 5, "boarding_closes_minutes": 30}),
        422, "invalid_input",
    )
    assert "open" in body["detail"] and "close" in body["detail"], body
    assert_problem(ticketing.post("/v1/departures", json={**base, "boarding_opens_minutes": -1}), 422, "invalid_input")
    assert_problem(ticketing.post("/v1/departures", json={**base, "origin_site": "CGK"}), 404, "not_found")
    assert counts(tenants.app)["departures"] == 0

    first = ticketing.post("/v1/departures", json=base)
    assert first.status_code == 201, first.text
    same_moment = {**base, "scheduled_at": "2026-12-01T02:30:00+00:00"}  # the same instant, written in UTC
    for again in (base, same_moment):
        body = assert_problem(ticketing.post("/v1/departures", json=again), 409, "duplicate_departure")
        assert "KA 7" in body["detail"], body
    assert [d["id"] for d in ticketing.get("/v1/departures").json()] == [first.json()["id"]]


def test_a_manifest_with_one_bad_row_writes_nothing(tenants: Api) -> None:
    ticketing = tenants.client("KAI:manifest")
    departure = ticketing.post("/v1/departures", json={"service_number": "KA 7", "origin_site": "GMR",
                                                       "scheduled_at": soon().isoformat()}).json()["id"]
    rows = [
        {"departure_id": departure, "booking_ref": "B1", "nik": nik(1), "seat": "1A"},
        {"departure_id": departure, "booking_ref": "B2", "nik": "3174015708", "seat": "1B"},
        {"departure_id": departure, "booking_ref": "B3", "nik": nik(3), "seat": "1C"},
    ]
    before = counts(tenants.app)
    body = assert_problem(ticketing.put("/v1/bookings", json={"bookings": rows}), 422, "invalid_manifest")
    assert "row 2" in body["detail"] and "16 digits" in body["detail"], body
    assert "row 1" not in body["detail"] and "row 3" not in body["detail"], body
    assert nik(1) not in body["detail"] and "3174015708" not in body["detail"], body
    assert ticketing.get(f"/v1/departures/{departure}/bookings").json() == []
    assert counts(tenants.app) == before

    # An unknown departure and a repeated reference are named by row as well.
    rows[1] = {"departure_id": "0" * 32, "booking_ref": "B2", "nik": nik(2), "seat": "1B"}
    rows[2]["booking_ref"] = "B1"
    body = assert_problem(ticketing.put("/v1/bookings", json={"bookings": rows}), 422, "invalid_manifest")
    assert "row 2" in body["detail"] and "row 3" in body["detail"], body
    assert counts(tenants.app) == before
    assert_problem(ticketing.put("/v1/bookings", json={"bookings": "B1"}), 422, "invalid_input")


def test_a_boarded_booking_cannot_be_cancelled(tenants: Api, lfw: Path) -> None:
    station = Station(tenants.app, lfw)
    station.enroll(*ENROLLED)
    departure = station.departure("KA 9", at=soon())
    station.book(departure, ENROLLED[0])
    decision = at_gate(tenants.client("KAI:gate:GMR-1"), lfw_bytes(lfw, *AT_THE_GATE)).json()
    assert decision["outcome"] == "open", decision

    ticketing = tenants.client("KAI:manifest")
    body = assert_problem(ticketing.post(f"/v1/bookings/{decision['booking_id']}/cancel"), 409, "conflict")
    assert "boarded" in body["detail"], body
    [booking] = ticketing.get(f"/v1/departures/{departure}/bookings").json()
    assert booking["status"] == "boarded"
    assert_problem(ticketing.post("/v1/bookings/no-such-booking/cancel"), 404, "not_found")


# --- events -------------------------------------------------------------------


def test_event_queries_are_checked(tenants: Api) -> None:
    audit = tenants.client("KAI:audit")
    for params in (
        {"since": "yesterday"},
        {"until": "2026-13-45T00:00:00Z"},
        {"since": "2026-01-01T00:00:00"},  # no time zone
        {"limit": 0},
        {"limit": 100_000},
        {"limit": "ten"},
        {"before_id": 0},
        {"before_id": "x"},
    ):
        body = assert_problem(audit.get("/v1/events", params=params), 422, "invalid_input")
        assert next(iter(params)) in body["detail"], body
    for params in ({"gate": "GMR 1; DROP TABLE"}, {"site": "\x00"}):
        assert_problem(audit.get("/v1/events", params=params), 422, "invalid_input")
    ok = audit.get("/v1/events", params={"since": "2026-01-01T00:00:00+07:00", "limit": 500})
    assert ok.status_code == 200 and ok.json() == {"items": [], "next_before_id": None}


def test_an_events_cursor_beyond_any_id_is_not_a_crash(tenants: Api) -> None:
    """before_id is a client's number: one larger than the database's integers is a bad request or an empty page."""
    failures = []
    for before_id in (2**31, 2**63, 10**30):
        with tenants.client("KAI:audit") as audit:
            response = audit.get("/v1/events", params={"before_id": before_id})
        if response.status_code == 200:
            assert response.json() == {"items": [], "next_before_id": None}
        elif response.status_code != 422 or response.json().get("code") != "invalid_input":
            failures.append(f"before_id={before_id}: {response.status_code} {response.json().get('code')}")
        else:
            assert_problem(response, 422, "invalid_input")
    assert not failures, "\n".join(failures)


# --- paths and methods --------------------------------------------------------


def test_unknown_paths_and_wrong_methods(tenants: Api) -> None:
    admin = tenants.client("KAI:admin")
    for path in ("/v1/nothing", "/v2/persons", "/", "/v1/persons/x/y/z"):
        body = assert_problem(admin.get(path), 404, "not_found")
        assert body["instance"] == path
    assert_problem(tenants.client().get("/v1/nothing"), 404, "not_found")  # without a key too

    body = assert_problem(admin.delete("/v1/departures"), 405, "method_not_allowed")
    assert "DELETE" in body["detail"]
    assert_problem(admin.put("/v1/persons/search", json={"nik": nik(1)}), 405, "method_not_allowed")
    assert_problem(admin.get("/v1/bookings"), 405, "method_not_allowed")


def client_error(response: httpx.Response) -> str | None:
    """None if ``response`` is a proper 4xx problem, else what is wrong with it."""
    where = f"{response.request.method} {response.request.url.path[:50]!r}"
    if not 400 <= response.status_code < 500:
        code = response.json().get("code") if response.headers.get("content-type", "").endswith("json") else None
        return f"{where}: {response.status_code} {code}"
    try:
        assert_problem(response, response.status_code)
    except (AssertionError, ValueError) as failure:
        return f"{where}: {str(failure).splitlines()[0][:200]}"
    return None


def id_routes(hostile: str, frame: bytes) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"/v1/persons/{hostile}", {}),
        ("GET", f"/v1/persons/{hostile}/export", {}),
        ("POST", f"/v1/persons/{hostile}/photos", {"json": {"photos": [b64(frame)]}}),
        ("DELETE", f"/v1/persons/{hostile}", {}),
        ("GET", f"/v1/departures/{hostile}", {}),
        ("GET", f"/v1/departures/{hostile}/bookings", {}),
        ("POST", f"/v1/bookings/{hostile}/cancel", {}),
        ("POST", f"/v1/gates/{hostile}/decisions", {"files": {"image": ("f.jpg", frame, "image/jpeg")}}),
    ]


def test_long_and_odd_path_parameters_are_client_errors(tenants: Api) -> None:
    admin = tenants.client("KAI:admin")
    frame = samples.encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG")
    failures = []
    for hostile in ("x" * 5000, "..%2F..%2Fetc%2Fpasswd", "'%20OR%201=1--", "%C3%A9%F0%9F%98%80", "%E2%80%AE%1B[31m"):
        for method, path, kwargs in id_routes(hostile, frame):
            failures.append(client_error(admin.request(method, path, **kwargs)))
    events = tenants.client("KAI:audit").get("/v1/events", params={"departure_id": "x" * 5000})
    failures.append(client_error(events) if events.status_code != 200 else None)
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    assert counts(tenants.app) == {table: 0 for table in TABLES}
    assert tenants.client().get("/readyz").status_code == 200


def test_a_nul_character_in_an_id_is_a_client_error(tenants: Api) -> None:
    """PostgreSQL cannot store or compare text with NUL: such an id must be refused or not found, not crash."""
    frame = samples.encode(Image.new("RGB", (64, 64), (128, 128, 128)), "JPEG")
    calls = [("KAI:admin", *route) for hostile in ("%00", "a%00b") for route in id_routes(hostile, frame)]
    calls += [
        ("KAI:audit", "GET", "/v1/events", {"params": {"departure_id": "a\x00b"}}),
        ("KAI:gate:GMR-1", "POST", GATE, {"json": {"image": b64(frame), "booking_id": "a\x00b"}}),
    ]
    failures = []
    for key, method, path, kwargs in calls:
        with tenants.client(key) as client:  # a connection of its own: a crash may reset it
            try:
                response = client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failures.append(f"{method} {path[:50]}: the connection broke ({exc})")
                continue
        if response.status_code != 200:
            failures.append(client_error(response))
    assert not [f for f in failures if f], "\n".join(f for f in failures if f)
    assert tenants.client().get("/readyz").status_code == 200


def test_a_wrong_method_answer_says_which_methods_are_allowed(tenants: Api) -> None:
    response = tenants.client("KAI:admin").delete("/v1/departures")
    assert_problem(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers.get("allow", "").split(",")} - {""}
    assert allowed, f"a 405 must carry an Allow header (RFC 9110): {dict(response.headers)}"
    assert allowed <= {"GET", "HEAD", "POST"}, allowed
