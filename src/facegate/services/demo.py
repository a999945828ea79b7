"""``facegate demo``: a morning at Gambir station, on real LFW photographs.

On a fresh SQLite store it enrolls LFW people who have at least two photos
(one photo each, a valid synthetic NIK each), schedules departures with their
manifests (plus passengers who booked but never enrolled, and a departure whose
boarding has already closed), then walks people to the gate during their
boarding window: enrolled passengers with a *different* photo, people who never
enrolled, one passenger who tries a second time, and late passengers. Every
step goes through the same services as the CLI.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from ..config import Settings, load_settings
from ..domain.nik import synthetic_nik
from ..errors import FaceError, FacegateError, DuplicateFace
from .context import Facegate
from .enrollment import enroll
from .gate import GateDecision, decide
from .manifests import add_departure, import_bookings

__all__ = ["run_demo"]

SITE = "GMR"
OPERATOR = "KAI"
DAY = datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Jakarta"))


@dataclass
class _Passenger:
    identity: str
    nik: str
    enrolled_with: Path | None
    probe: Path
    departure: str = ""
    person_id: str | None = None


def _lfw(settings: Settings) -> Path:
    root = settings.resolved_datasets() / "lfw-deepfunneled" / "images"
    if not root.is_dir():
        raise FacegateError(
            f"The LFW photos were not found at {root}. Set FACEGATE_DATASETS to the folder holding "
            "'lfw-deepfunneled/images' (LFW deep-funneled, one folder per person).",
            code="dataset_missing",
        )
    return root


def run_demo(*, passengers: int = 300, seed: int = 7, data_dir: Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the demo on a fresh store in ``data_dir``, or in a temporary folder deleted afterwards."""
    base = load_settings()
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="facegate-demo-") as tmp:
            return _run(base, Path(tmp), passengers, seed, progress, keep=False)
    data_dir.mkdir(parents=True, exist_ok=True)
    return _run(base, data_dir, passengers, seed, progress, keep=True)


def _run(base: Settings, workdir: Path, passengers: int, seed: int, progress: bool, keep: bool) -> dict[str, Any]:
    rng = random.Random(seed)
    lfw = _lfw(base)
    photos = {p.name: sorted(p.glob("*.jpg")) for p in sorted(lfw.iterdir()) if p.is_dir()}
    multi = [name for name, files in photos.items() if len(files) >= 2]
    single = [name for name, files in photos.items() if len(files) == 1]
    chosen = rng.sample(multi, min(passengers, len(multi)))
    strangers = rng.sample(single, min(passengers, len(single)))

    settings = base.model_copy(update={"data_dir": workdir, "database_url": f"sqlite:///{workdir / 'demo.db'}", "secret_key": None})
    app = Facegate(settings, actor="demo")
    show = _Progress(progress)

    # 1. Enrollment: the kiosk takes photos until one passes the quality check.
    niks: set[str] = set()
    people: list[_Passenger] = []
    refused: Counter[str] = Counter()
    for identity in show.track(chosen, "Enrolling passengers"):
        files = photos[identity][:]
        rng.shuffle(files)
        nik = _new_nik(rng, niks)
        passenger = None
        for index, photo in enumerate(files[:-1]):  # keep at least one photo for the gate
            try:
                person = enroll(app, nik, identity.replace("_", " "), [photo], operator=OPERATOR, consent=True)
            except DuplicateFace:
                refused["duplicate_face"] += 1
                break
            except FaceError as error:
                refused[error.code] += 1
                continue
            probe = rng.choice([f for f in files if f != photo])
            passenger = _Passenger(identity, nik, photo, probe, person_id=person.id)
            break
        if passenger:
            people.append(passenger)

    # 2. Departures and manifests: three trains boarding this morning, one that already left.
    trains = {}
    for number, hour in (("KA 1", 8), ("KA 3", 9), ("KA 5", 10), ("KA 7", 7)):
        trains[number] = add_departure(
            app, operator=OPERATOR, service_number=number, origin_site=SITE,
            scheduled_at=DAY.replace(hour=hour, minute=30), boarding_opens_minutes=60, boarding_closes_minutes=5,
        )
    open_trains = ["KA 1", "KA 3", "KA 5"]
    late = people[-10:]  # booked on KA 7, arrive after its boarding closed
    for index, person in enumerate(people):
        person.departure = "KA 7" if person in late else open_trains[index % 3]
    unenrolled = [_new_nik(rng, niks) for _ in range(max(10, passengers // 10))]
    rows = ["departure_id,booking_ref,nik,seat"]
    rows += [f"{trains[p.departure].id},R{i:05d},{p.nik},{i % 80 + 1}{'ABCD'[i % 4]}" for i, p in enumerate(people)]
    rows += [f"{trains[open_trains[i % 3]].id},U{i:05d},{nik},{i % 80 + 1}E" for i, nik in enumerate(unenrolled)]
    import_bookings(app, "\n".join(rows) + "\n")

    # 3. The gate: who walks up, and when.
    walk: list[tuple[str, _Passenger | None, Path, datetime]] = []
    for index, person in enumerate(people):
        train = trains[person.departure]
        if person in late:
            walk.append(("late", person, person.probe, train.boarding_closes_at + timedelta(minutes=3 + index % 5)))
        else:
            minute = rng.randrange(0, 50)
            walk.append(("genuine", person, person.probe, train.boarding_opens_at + timedelta(minutes=minute)))
    for index, identity in enumerate(strangers):
        train = trains[open_trains[index % 3]]
        walk.append(("impostor", None, photos[identity][0], train.boarding_opens_at + timedelta(minutes=rng.randrange(0, 50))))
    walk.sort(key=lambda item: item[3])

    decisions: list[tuple[str, _Passenger | None, GateDecision]] = []
    for kind, person, photo, at in show.track(walk, "Gate decisions"):
        decision = decide(app, photo, site=SITE, gate=f"GMR-{len(decisions) % 6 + 1}", at=at)
        decisions.append((kind, person, decision))
    # Someone who boarded tries again (their enrollment photo, e.g. a friend's phone).
    boarded = next((p for k, p, d in decisions if k == "genuine" and d.opened), None)
    if boarded is not None:
        at = trains[boarded.departure].boarding_closes_at - timedelta(minutes=1)
        decisions.append(("repeat", boarded, decide(app, boarded.enrolled_with, site=SITE, gate="GMR-1", at=at)))
    app.close()
    return _summary(people, refused, decisions, workdir if keep else None, passengers)


def _summary(people, refused, decisions, workdir, asked) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    def of(kind: str) -> list[tuple[_Passenger | None, GateDecision]]:
        return [(p, d) for k, p, d in decisions if k == kind]

    genuine, impostor, late, repeat = of("genuine"), of("impostor"), of("late"), of("repeat")
    accepted = [d for p, d in genuine if d.opened and d.person_id == p.person_id]
    wrong_person = [d for p, d in genuine if d.opened and d.person_id != p.person_id]
    impostor_opened = [d for _, d in impostor if d.opened]
    # A false match is recognising someone as an enrolled person they are not,
    # whether or not the gate then opened (it stays shut if that booking was used).
    impostor_matched = [d for _, d in impostor if d.person_id is not None]
    wrong_matched = [d for p, d in genuine if d.person_id is not None and d.person_id != p.person_id]
    latencies = np.array([d.latency_ms for _, _, d in decisions])
    return {
        "passengers_requested": asked,
        "enrolled": len(people),
        "not_enrolled": asked - len(people),
        "enrollment_photo_refusals": dict(refused),
        "genuine_attempts": len(genuine),
        "genuine_accept_rate": round(len(accepted) / max(1, len(genuine)), 4),
        "genuine_refusals": dict(Counter(d.reason for p, d in genuine if not (d.opened and d.person_id == p.person_id))),
        "impostor_attempts": len(impostor),
        "impostor_reject_rate": round(1 - len(impostor_opened) / max(1, len(impostor)), 4),
        "false_accepts": len(impostor_opened) + len(wrong_person),
        "false_matches": len(impostor_matched) + len(wrong_matched),
        "late_passengers": dict(Counter(d.reason for _, d in late)),
        "repeat_attempt": repeat[0][1].reason if repeat else None,
        "decisions": len(decisions),
        "decisions_by_reason": dict(Counter(d.reason for _, _, d in decisions)),
        "gallery_size_median": int(np.median([d.gallery_size for _, _, d in decisions])),
        "thresholds_used": sorted({d.operating_point + f" ({d.threshold})" for _, _, d in decisions}),
        "median_latency_ms": round(float(np.median(latencies)), 1),
        "p95_latency_ms": round(float(np.percentile(latencies, 95)), 1),
        "store": str(workdir) if workdir else None,
    }


def _new_nik(rng: random.Random, taken: set[str]) -> str:
    while True:
        nik = synthetic_nik(rng)
        if nik not in taken:
            taken.add(nik)
            return nik


class _Progress:
    """Rich progress bars on stderr, or nothing (JSON mode)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def track(self, items, description: str):  # type: ignore[no-untyped-def]
        if not self.enabled:
            return items
        from rich.progress import track

        return track(items, description=description, console=_stderr())


def _stderr():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)
