"""The CLI's error contract, through the real ``facegate`` console script.

With ``--json`` a user error exits with status 2 and prints exactly one JSON
object ``{"error": {"code": ..., "message": ...}}`` on stdout, and never a
traceback. Odd-but-valid photos (EXIF rotation, alpha, 16-bit, CMYK, WebP,
HEIC, ...) must simply work.

Every ``facegate`` process loads the face models, so the independent cases are
run concurrently once per module (``stateless``); each test then checks its own
result. Cases that depend on the store's state run in order on one store.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facegate.domain.nik import synthetic_nik

sys.path.insert(0, str(Path(__file__).parent))
import imaging_samples as samples  # noqa: E402

FACEGATE = Path(sys.executable).parent / "facegate"
TIMEOUT = 300  # seconds per process; generous for a loaded machine

# Photos (relative to the LFW images folder). The base person has several photos
# that compare well with each other; the others pass the enrollment quality checks.
BASE = "George_W_Bush/George_W_Bush_0001.jpg"
BASE_OTHER = "George_W_Bush/George_W_Bush_0002.jpg"  # GOOD: another photo of the same man
ENROLLED = "Colin_Powell/Colin_Powell_0002.jpg"
ENROLLED_AGAIN = "Colin_Powell/Colin_Powell_0004.jpg"
ENROLLED_THIRD = "Colin_Powell/Colin_Powell_0005.jpg"
GROUP_PHOTO = "faceapi_bbt4.jpg"  # six faces of similar size


# -- running facegate -------------------------------------------------------------


def facegate_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment minus any FACEGATE_* setting except the datasets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEGATE_") or k == "FACEGATE_DATASETS"}
    env["FACEGATE_DATA_DIR"] = str(data_dir)
    env["COLUMNS"] = "200"
    return env


def run(data_dir: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FACEGATE), *map(str, args)],
        capture_output=True,
        text=True,
        env=facegate_env(data_dir),
        timeout=TIMEOUT,
    )


def run_many(calls: dict[str, tuple[Path, Sequence[object]]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run independent facegate calls concurrently: {case: (data dir, args)} -> {case: result}."""
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) + 1) as pool:
        futures = {case: pool.submit(run, data_dir, *args) for case, (data_dir, args) in calls.items()}
        return {case: future.result() for case, future in futures.items()}


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def assert_no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr, describe(proc)


def json_result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Exit 0 and exactly one JSON object on stdout."""
    assert_no_traceback(proc)
    assert proc.returncode == 0, describe(proc)
    body = json.loads(proc.stdout)  # raises on anything but one JSON document
    assert isinstance(body, dict), describe(proc)
    return body


def json_error(proc: subprocess.CompletedProcess[str], code: str | None = None) -> dict[str, Any]:
    """Exit 2, stdout is exactly one ``{"error": {code, message}}`` object; returns the inner dict."""
    assert_no_traceback(proc)
    assert proc.returncode == 2, describe(proc)
    try:
        body = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not exactly one JSON object ({exc})\n{describe(proc)}")
    assert isinstance(body, dict) and set(body) == {"error"}, describe(proc)
    error = body["error"]
    assert isinstance(error, dict), describe(proc)
    assert isinstance(error.get("code"), str) and error["code"], describe(proc)
    assert isinstance(error.get("message"), str) and error["message"].strip(), describe(proc)
    if code is not None:
        assert error["code"] == code, describe(proc)
    return error


def nik(seed: int) -> str:
    return synthetic_nik(random.Random(seed))


# -- bad and odd image files ---------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _save(path: Path, im: Image.Image, fmt: str, **params: object) -> Path:
    return _write(path, samples.encode(im, fmt, **params))


def _grey_frame() -> Image.Image:
    return Image.new("RGB", (640, 480), (128, 128, 128))


def _png_bytes(photo: Path) -> bytes:
    with Image.open(photo) as im:
        return samples.encode(im.convert("RGB"), "PNG")


# kind -> (make the file from (folder, base photo), expected error code)
BAD_IMAGES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "truncated_jpeg": (lambda d, p: _write(d / "truncated.jpg", p.read_bytes()[: p.stat().st_size // 2]), "corrupt_image"),
    "truncated_png": (lambda d, p: _write(d / "truncated.png", (b := _png_bytes(p))[: len(b) // 2]), "corrupt_image"),
    "random_bytes": (lambda d, p: _write(d / "random.jpg", random.Random(1).randbytes(20_000)), "unsupported_format"),
    "pdf_named_jpg": (lambda d, p: _write(d / "document.jpg", samples.not_images()["pdf"]), "unsupported_format"),
    "text_named_jpg": (lambda d, p: _write(d / "notes.jpg", samples.not_images()["text"]), "unsupported_format"),
    "empty_file": (lambda d, p: _write(d / "empty.jpg", b""), "unsupported_format"),
    "png_bomb": (lambda d, p: _write(d / "bomb.png", samples.png_bomb()), "image_too_large"),
    "missing_path": (lambda d, p: d / "no-such-photo.jpg", "not_found"),
    "directory": (lambda d, p: (d / "a-folder.jpg").mkdir() or d / "a-folder.jpg", "not_found"),
    "no_face": (lambda d, p: _save(d / "grey.jpg", _grey_frame(), "JPEG", quality=90), "no_face"),
}


def _exif_rotated(d: Path, p: Path) -> Path:
    """What a phone stores for orientation 6: pixels turned, tag says 'rotate 90 CW to view'."""
    with Image.open(p) as im:
        stored = im.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(d / "exif6.jpg", stored, "JPEG", quality=95, exif=exif.tobytes())


def _rgba(d: Path, p: Path) -> Path:
    with Image.open(p) as im:
        rgba = im.convert("RGBA")
    alpha = Image.new("L", rgba.size, 0)
    w, h = rgba.size
    alpha.paste(255, (12, 12, w - 12, h - 12))  # transparent frame, opaque face
    rgba.putalpha(alpha)
    return _save(d / "alpha.png", rgba, "PNG")


def _grey16(d: Path, p: Path) -> Path:
    import numpy as np

    with Image.open(p) as im:
        grey = np.asarray(im.convert("L"), dtype=np.uint16) * 257
    return _save(d / "grey16.png", Image.fromarray(grey), "PNG")


def _converted(name: str, mode: str, fmt: str, **params: object) -> Callable[[Path, Path], Path]:
    def make(d: Path, p: Path) -> Path:
        with Image.open(p) as im:
            return _save(d / name, im.convert(mode), fmt, **params)

    return make


def _copy_as(name: str) -> Callable[[Path, Path], Path]:
    return lambda d, p: _write(d / name, p.read_bytes())


# kind -> (make the file, (Pillow format, mode) it must really have, or None to skip that check)
ODD_IMAGES: dict[str, tuple[Callable[[Path, Path], Path], tuple[str, str] | None]] = {
    "exif_orientation_6": (_exif_rotated, ("JPEG", "RGB")),
    "rgba_png": (_rgba, ("PNG", "RGBA")),
    "grey16_png": (_grey16, ("PNG", "I;16")),
    "cmyk_jpeg": (_converted("cmyk.jpg", "CMYK", "JPEG", quality=95), ("JPEG", "CMYK")),
    "webp": (_converted("photo.webp", "RGB", "WEBP", quality=90), ("WEBP", "RGB")),
    "heic": (_converted("photo.heic", "RGB", "HEIF", quality=90), ("HEIF", "RGB")),
    "bmp": (_converted("photo.bmp", "RGB", "BMP"), ("BMP", "RGB")),
    "progressive_jpeg": (_converted("progressive.jpg", "RGB", "JPEG", quality=90, progressive=True), ("JPEG", "RGB")),
    "png_named_jpg": (_converted("really-a-png.jpg", "RGB", "PNG"), ("PNG", "RGB")),
    "non_ascii_name": (_copy_as("fötö_张.jpg"), ("JPEG", "RGB")),
}


# -- independent cases, run concurrently once ------------------------------------------

NIK_CASES = {
    # case -> (make the bad NIK from a valid one, words the message must contain)
    "wrong_length": (lambda v: v[:15], "16 digits"),
    "bad_province": (lambda v: "00" + v[2:], "province"),
    "30_february": (lambda v: v[:6] + "300290" + v[12:], "does not exist"),
    "serial_0000": (lambda v: v[:12] + "0000", "serial"),
    "letters": (lambda v: v[:14] + "AB", "digits 0-9"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, lfw: Path, datasets: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    base = lfw / BASE
    made: dict[str, Path] = {"good": lfw / BASE_OTHER, "base": base, "group": datasets / "group-photos" / "images" / GROUP_PHOTO}
    for kind, (make, _) in BAD_IMAGES.items():
        made[f"bad:{kind}"] = make(folder, base)
    for kind, (make, expect) in ODD_IMAGES.items():
        path = made[f"odd:{kind}"] = make(folder, base)
        if expect is not None:  # the sample really is what its name says
            with Image.open(path) as im:
                assert (im.format, im.mode) == expect, kind
    with Image.open(made["odd:exif_orientation_6"]) as im:
        assert im.getexif().get(0x0112) == 6
    return made


@pytest.fixture(scope="module")
def stateless(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case that needs no prior state, each on its own fresh data dir, run concurrently."""
    good, base = files["good"], files["base"]
    valid = nik(101)
    enroll = ["enroll", "--name", "Test Passenger", "--operator", "KAI", "--json"]
    bad_csv = tmp_path_factory.mktemp("csv") / "bookings.csv"
    bad_csv.write_text("departure_id,booking_ref\nD1,ABC123\n", encoding="utf-8")

    calls: dict[str, list[object]] = {"compare:plain": ["compare", base, good, "--json"]}
    for kind in BAD_IMAGES:
        calls[f"compare:{kind}"] = ["compare", files[f"bad:{kind}"], good, "--json"]
    for kind in ODD_IMAGES:
        calls[f"compare:{kind}"] = ["compare", files[f"odd:{kind}"], good, "--json"]
    for case, (spoil, _) in NIK_CASES.items():
        calls[f"nik:{case}"] = [*enroll, base, "--nik", spoil(valid), "--consent"]
    calls["enroll:no_consent"] = [*enroll, base, "--nik", valid]
    calls["enroll:multiple_faces"] = [*enroll, files["group"], "--nik", valid, "--consent"]
    calls["enroll:no_face"] = [*enroll, files["bad:no_face"], "--nik", valid, "--consent"]
    calls["gate:missing_site"] = ["gate", "verify", good, "--json"]
    calls["gate:bad_time"] = ["gate", "verify", good, "--site", "GMR", "--at", "not-a-time", "--json"]
    calls["unknown_command"] = ["board-everyone", "--json"]
    calls["delete:no_yes"] = ["persons", "delete", "0123456789abcdef", "--json"]
    calls["show:unknown"] = ["persons", "show", "0123456789abcdef", "--json"]
    calls["import:missing_columns"] = ["bookings", "import", bad_csv, "--json"]
    return run_many({case: (tmp_path_factory.mktemp("data"), args) for case, args in calls.items()})


@pytest.mark.parametrize("kind", list(BAD_IMAGES))
def test_compare_refuses_bad_image(kind: str, stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    json_error(stateless[f"compare:{kind}"], BAD_IMAGES[kind][1])


@pytest.mark.parametrize("kind", list(ODD_IMAGES))
def test_compare_accepts_odd_but_valid_image(kind: str, stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = json_result(stateless[f"compare:{kind}"])
    assert {"score", "threshold", "match"} <= set(result)
    assert result["match"] is True, result
    # Decoded as the same upright picture: the score barely moves from the plain JPEG's.
    plain = json_result(stateless["compare:plain"])["score"]
    assert abs(result["score"] - plain) <= 0.08, (result, plain)


@pytest.mark.parametrize("case", list(NIK_CASES))
def test_enroll_refuses_invalid_nik(case: str, stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = stateless[f"nik:{case}"]
    error = json_error(proc, "invalid_nik")
    assert NIK_CASES[case][1] in error["message"], error
    bad = NIK_CASES[case][0](nik(101))
    assert bad not in proc.stdout + proc.stderr, "a NIK is personal data: errors must not quote it"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("enroll:no_consent", "no_consent"),
        ("enroll:multiple_faces", "multiple_faces"),
        ("enroll:no_face", "no_face"),
        ("gate:missing_site", "not_found"),  # no --site, and gate-1 is not a registered gate
        ("gate:bad_time", "invalid_input"),
        ("unknown_command", None),
        ("delete:no_yes", None),
        ("show:unknown", "not_found"),
        ("import:missing_columns", "invalid_manifest"),
    ],
)
def test_user_error(case: str, code: str | None, stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    json_error(stateless[case], code)


def test_delete_without_yes_says_how_to_confirm(stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert "--yes" in json_error(stateless["delete:no_yes"])["message"]


def test_missing_manifest_columns_are_named(stateless: dict[str, subprocess.CompletedProcess[str]]) -> None:
    message = json_error(stateless["import:missing_columns"])["message"]
    assert "nik" in message and "seat" in message


# -- cases on one store, in order ----------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def enrolled(store: Path, lfw: Path) -> dict[str, Any]:
    """One passenger enrolled; returns the enroll result plus the NIK used."""
    number = nik(201)
    result = json_result(run(store, "enroll", lfw / ENROLLED, "--nik", number, "--name", "Colin Powell",
                             "--operator", "KAI", "--consent", "--json"))
    return {**result, "nik_value": number}


def test_enroll_same_nik_twice_is_duplicate_nik(store: Path, lfw: Path, enrolled: dict[str, Any]) -> None:
    proc = run(store, "enroll", lfw / ENROLLED_AGAIN, "--nik", enrolled["nik_value"], "--name", "Colin Powell",
               "--operator", "KAI", "--consent", "--json")
    json_error(proc, "duplicate_nik")


def test_same_face_under_another_nik_is_duplicate_face(store: Path, lfw: Path, enrolled: dict[str, Any]) -> None:
    proc = run(store, "enroll", lfw / ENROLLED_THIRD, "--nik", nik(202), "--name", "C. Powell",
               "--operator", "KAI", "--consent", "--json")
    json_error(proc, "duplicate_face")
    listing = json_result(run(store, "persons", "list", "--json"))
    assert listing["total"] == 1, "a refused enrollment must store nothing"
    assert [p["id"] for p in listing["persons"]] == [enrolled["id"]]


def _bookings_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["departure_id", "booking_ref", "nik", "seat"])
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_bookings_import_is_all_or_nothing(store: Path, tmp_path: Path) -> None:
    departure = json_result(run(store, "departures", "add", "--operator", "KAI", "--service", "KA-7",
                                "--site", "GMR", "--at", "2030-03-04T10:00", "--json"))
    rows = [
        {"departure_id": departure["id"], "booking_ref": f"REF{i}", "nik": nik(300 + i), "seat": f"3-{i}A"}
        for i in range(3)
    ]
    bad_nik = rows[1]["nik"][:12] + "0000"  # serial 0000
    broken = [rows[0], {**rows[1], "nik": bad_nik}, rows[2]]

    error = json_error(run(store, "bookings", "import", _bookings_csv(tmp_path / "broken.csv", broken), "--json"),
                       "invalid_manifest")
    assert "line 3" in error["message"], error

    counts = json_result(run(store, "bookings", "import", _bookings_csv(tmp_path / "fixed.csv", rows), "--json"))
    assert counts["created"] == len(rows), f"the failed import must have imported nothing: {counts}"
