"""``facegate bench``: where the time of a gate decision goes.

Times each stage on a 640x480 JPEG gate frame made from a real LFW photo:
decode, detect, align+embed, 1:N match against galleries of 1k and 100k
templates, and the whole decision (``services.gate.decide``) against a fresh
SQLite store whose open departure has 1,000 enrolled passengers. Also the
model load time. Reports median and p95 in milliseconds, and ratios.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import update

from .config import Settings, load_settings
from .domain.nik import Nik, synthetic_nik
from .errors import FacegateError
from .imaging import load_image
from .matching.gallery import Gallery
from .services.context import Facegate
from .services.gate import decide
from .services.manifests import add_departure
from .store.manifests import BookingInput
from .store.tables import BookingRow
from .vision.engine import FaceEngine, primary_face

__all__ = ["run_bench", "gate_frame"]


def gate_frame(settings: Settings) -> bytes:
    """A 640x480 JPEG with one LFW face, as a gate camera would send it."""
    photo = settings.resolved_datasets() / "lfw-deepfunneled" / "images" / "Colin_Powell" / "Colin_Powell_0001.jpg"
    if not photo.is_file():
        raise FacegateError(f"Benchmark photo {photo} not found; set FACEGATE_DATASETS.", code="dataset_missing")
    face = Image.open(photo).convert("RGB").resize((360, 360))
    canvas = Image.new("RGB", (640, 480), (90, 100, 110))
    canvas.paste(face, (140, 60))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _time(fn: Callable[[], object], repeats: int, setup: Callable[[], object] = lambda: None) -> dict[str, float]:
    setup()
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        setup()  # not timed
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "p95_ms": round(float(np.percentile(samples, 95)), 2)}


def _unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.standard_normal((n, 128)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _seed_store(app: Facegate, vectors: np.ndarray, scheduled: datetime) -> None:
    """1,000 passengers on one departure, written through the repositories."""
    departure = add_departure(app, operator="KAI", service_number="BENCH 1", origin_site="BNC", scheduled_at=scheduled)
    rng = __import__("random").Random(1)
    with app.store.transaction() as uow:
        rows = []
        for index, vector in enumerate(vectors):
            nik = Nik.parse(synthetic_nik(rng))
            if uow.persons.id_for_nik(nik):
                continue
            person_id = uow.persons.add(nik, f"Passenger {index}", "KAI")
            uow.persons.add_template(person_id, FaceEngine.template_model, vector, 1.0)
            rows.append(BookingInput(departure.id, f"B{index}", uow.persons.nik_pseudonym(nik), f"{index}A"))
        uow.manifests.upsert_bookings(rows)
        uow.events.bump_revision()


def run_bench(*, repeats: int = 30, progress: bool = True) -> dict[str, Any]:
    settings = load_settings()
    frame = gate_frame(settings)
    rng = np.random.default_rng(0)

    load_samples = []
    for _ in range(3):
        start = time.perf_counter()
        engine = FaceEngine(settings.model_dir)
        load_samples.append((time.perf_counter() - start) * 1000)

    image = load_image(frame)
    faces = engine.detect(image)
    face = primary_face(faces, image.shape)
    probe = engine.embed(image, face)
    gallery_1k: Gallery[int] = Gallery(list(enumerate(_unit_rows(rng, 1000))))
    gallery_100k: Gallery[int] = Gallery(list(enumerate(_unit_rows(rng, 100_000))))

    stages = {
        "decode": _time(lambda: load_image(frame), repeats),
        "detect": _time(lambda: engine.detect(image), repeats),
        "align_embed": _time(lambda: engine.embed(image, face), repeats),
        "match_1k": _time(lambda: gallery_1k.search(probe, 1), repeats),
        "match_100k": _time(lambda: gallery_100k.search(probe, 1), repeats),
    }

    with tempfile.TemporaryDirectory(prefix="facegate-bench-") as tmp:
        store_settings = settings.model_copy(update={"data_dir": Path(tmp), "database_url": None, "secret_key": None})
        app = Facegate(store_settings, actor="bench")
        scheduled = datetime.now(timezone.utc) + timedelta(minutes=30)
        vectors = _unit_rows(rng, 1000)
        vectors[0] = probe  # passenger 0 is the face in the frame
        _seed_store(app, vectors, scheduled)
        at = scheduled - timedelta(minutes=20)

        def unboard() -> None:  # so that every timed decision boards (opens), as at a real gate
            with app.store.transaction() as uow:
                uow.session.execute(update(BookingRow).values(status="booked", boarded_at=None, boarded_gate=None))

        stages["end_to_end_1k"] = _time(lambda: decide(app, frame, site="BNC", gate="bench", at=at), repeats, unboard)
        unboard()
        last = decide(app, frame, site="BNC", gate="bench", at=at)
        app.close()

    e2e = stages["end_to_end_1k"]["median_ms"]
    models = stages["detect"]["median_ms"] + stages["align_embed"]["median_ms"]
    return {
        "frame": "640x480 JPEG",
        "repeats": repeats,
        "model_load_ms": {"median_ms": round(statistics.median(load_samples), 1), "max_ms": round(max(load_samples), 1)},
        "stages": stages,
        "end_to_end_gallery": last.gallery_size,
        "end_to_end_reason": last.reason,
        "ratios": {
            "models_share_of_end_to_end": round(models / e2e, 3),
            "match_100k_over_1k": round(stages["match_100k"]["median_ms"] / max(1e-9, stages["match_1k"]["median_ms"]), 1),
        },
    }
