"""Enrollment quality on real photos: a good frontal photo passes; spoiled copies fail for the right reason."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate.imaging import load_image
from facegate.vision.engine import Face, FaceEngine, primary_face
from facegate.vision.quality import HINTS, QualityReport, assess

CANDIDATES = [("George_W_Bush", 1), ("Colin_Powell", 2), ("Tony_Blair", 2), ("Gerhard_Schroeder", 1)]


def check(engine: FaceEngine, image: np.ndarray) -> QualityReport:
    """What enrollment does with a photo: detect, pick the face, align, assess."""
    faces = engine.detect(image)
    assert faces, "no face found"
    face = primary_face(faces, image.shape)
    return assess(face, engine.align(image, face))


def assert_fails_with_hint(report: QualityReport, reason: str) -> None:
    assert not report.ok
    assert reason in report.failures, (reason, report.failures, report.metrics)
    assert len(report.hints) == len(report.failures)
    for hint in report.hints:
        assert isinstance(hint, str) and hint.strip()
    assert HINTS[reason] in report.hints


@pytest.fixture(scope="module")
def good_photo(engine: FaceEngine, lfw: Path) -> np.ndarray:
    """The first of a few frontal LFW photos that passes every check."""
    for person, number in CANDIDATES:
        photo = load_image(lfw / person / f"{person}_{number:04d}.jpg")
        if check(engine, photo).ok:
            return photo
    pytest.fail(f"none of the frontal photos {CANDIDATES} passes assess()")


def test_the_good_photo_passes(engine: FaceEngine, good_photo: np.ndarray) -> None:
    report = check(engine, good_photo)
    assert report.ok
    assert report.failures == () and report.hints == []
    assert 0.0 < report.score <= 1.0
    assert report.metrics["eye_distance"] >= 24
    assert abs(report.metrics["roll"]) < 10


def test_a_very_dark_photo_is_too_dark(engine: FaceEngine, good_photo: np.ndarray) -> None:
    dark = (good_photo * 0.1).astype(np.uint8)
    assert_fails_with_hint(check(engine, dark), "too_dark")


def test_an_overexposed_photo_is_too_bright(engine: FaceEngine, good_photo: np.ndarray) -> None:
    bright = np.clip(good_photo.astype(np.float32) * 2.5, 0, 255).astype(np.uint8)
    report = check(engine, bright)
    assert_fails_with_hint(report, "too_bright")
    assert "too_dark" not in report.failures


def test_a_heavily_blurred_photo_is_blurry(engine: FaceEngine, good_photo: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(good_photo, (0, 0), sigmaX=5)
    assert_fails_with_hint(check(engine, blurred), "blurry")


def test_a_tiny_face_is_too_small(engine: FaceEngine, good_photo: np.ndarray) -> None:
    face = primary_face(engine.detect(good_photo), good_photo.shape)
    factor = 18 / face.eye_distance  # eyes 18 px apart, below the 24 px minimum
    small = cv2.resize(good_photo, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    canvas = np.full((250, 250, 3), 128, np.uint8)
    canvas[90 : 90 + small.shape[0], 90 : 90 + small.shape[1]] = small

    report = check(engine, canvas)
    assert_fails_with_hint(report, "face_too_small")
    assert report.metrics["eye_distance"] < 24


def _rotated(image: np.ndarray, degrees: float, centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``image`` on a black canvas twice its size, turned by ``degrees`` (counter-clockwise
    on screen) around ``centre``; also returns the 2x3 matrix mapping old to new points."""
    h, w = image.shape[:2]
    canvas = np.zeros((2 * h, 2 * w, 3), np.uint8)
    canvas[h // 2 : h // 2 + h, w // 2 : w // 2 + w] = image
    cx, cy = centre[0] + w // 2, centre[1] + h // 2
    rotation = cv2.getRotationMatrix2D((float(cx), float(cy)), degrees, 1.0)
    matrix = rotation.copy()
    matrix[:, 2] += rotation[:, :2] @ [w // 2, h // 2]  # compose with the paste offset
    return cv2.warpAffine(canvas, rotation, (2 * w, 2 * h)), matrix


@pytest.mark.parametrize("degrees", [40, -40])
def test_a_head_tilted_by_40_degrees_is_flagged(
    engine: FaceEngine, good_photo: np.ndarray, degrees: float
) -> None:
    """assess() on the true landmarks of a 40-degree tilt: the photo is turned and the
    landmarks found on the upright photo are turned with it."""
    upright = primary_face(engine.detect(good_photo), good_photo.shape)
    eyes = upright.landmarks[:2].mean(axis=0)
    tilted, matrix = _rotated(good_photo, degrees, (float(eyes[0]), float(eyes[1])))
    landmarks = (np.c_[upright.landmarks, np.ones(5)] @ matrix.T).astype(np.float32)
    cx, cy = matrix @ [*upright.center, 1.0]
    w, h = upright.box[2:]
    face = Face((cx - w / 2, cy - h / 2, w, h), landmarks, upright.score)

    aligned = engine.align(tilted, face)
    report = assess(face, aligned)

    assert_fails_with_hint(report, "head_tilted")
    assert report.metrics["roll"] == pytest.approx(-degrees, abs=3)
    # the aligned crop itself is upright, so only the tilt is reported
    assert report.failures == ("head_tilted",)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "YuNet's landmarks follow an in-plane rotation only partly: a 40-degree tilt reads as "
        "roughly 15-25 degrees of roll, below max_roll_degrees=25, so assess() does not flag it"
    ),
)
@pytest.mark.parametrize("degrees", [40, -40])
def test_a_photo_rotated_by_40_degrees_is_flagged_end_to_end(
    engine: FaceEngine, good_photo: np.ndarray, degrees: float
) -> None:
    h, w = good_photo.shape[:2]
    tilted, _ = _rotated(good_photo, degrees, (w / 2, h / 2))
    assert_fails_with_hint(check(engine, tilted), "head_tilted")


def test_every_reason_has_a_hint() -> None:
    for reason, hint in HINTS.items():
        assert hint.strip().endswith("."), reason


def test_ordinary_lfw_photos_mostly_pass(engine: FaceEngine, lfw: Path) -> None:
    """The limits reject unusable faces, not ordinary press photos."""
    photos = sorted(lfw.glob("*/*.jpg"))
    sample = random.Random(20240601).sample(photos, 300)
    passed, no_face = 0, 0
    reasons: Counter[str] = Counter()
    for path in sample:
        image = load_image(path)
        faces = engine.detect(image)
        if not faces:
            no_face += 1
            continue
        face = primary_face(faces, image.shape)
        report = assess(face, engine.align(image, face))
        passed += report.ok
        reasons.update(report.failures)
    rate = passed / len(sample)
    print(
        f"\nassess() pass rate on {len(sample)} random LFW photos: {rate:.1%} "
        f"({passed} passed, {no_face} without a face; failures: {dict(reasons.most_common())})"
    )
    assert rate >= 0.60
