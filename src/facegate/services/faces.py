"""From a photo to one face template, under enrollment or gate rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FaceTooSmall, LowQuality, MultipleFaces, NoFace
from ..vision.engine import Face, FaceEngine, primary_face
from ..vision.quality import QualityLimits, QualityReport, assess

__all__ = ["Capture", "check_enrollment", "capture_for_enrollment", "capture_at_gate"]

#: A second face at least this large (relative eye distance) makes an enrollment photo ambiguous.
SECOND_FACE_RATIO = 0.6


@dataclass(frozen=True)
class Capture:
    face: Face
    vector: np.ndarray
    faces_detected: int
    quality: QualityReport | None = None

    @property
    def note(self) -> str | None:
        if self.faces_detected > 1:
            return f"{self.faces_detected} faces seen; decided for the largest, most central one."
        return None


def check_enrollment(
    engine: FaceEngine, image: np.ndarray, limits: QualityLimits = QualityLimits(), faces: list[Face] | None = None
) -> tuple[Face, np.ndarray, QualityReport]:
    """(face, aligned crop, quality) of the one usable face, or a FaceError saying what to fix.

    ``faces`` may hold this image's detections, to avoid detecting twice."""
    faces = engine.detect(image) if faces is None else faces
    if not faces:
        raise NoFace("No face found in the photo. Look straight at the camera with your whole face visible.")
    largest = max(faces, key=lambda f: f.eye_distance)
    if largest.eye_distance < limits.min_eye_distance:
        raise FaceTooSmall(
            f"The face is too small ({largest.eye_distance:.0f} px between the eyes, need "
            f"{limits.min_eye_distance:.0f}). Move closer to the camera.",
            eye_distance=round(largest.eye_distance, 1),
        )
    rivals = [f for f in faces if f is not largest and f.eye_distance >= SECOND_FACE_RATIO * largest.eye_distance]
    if rivals:
        raise MultipleFaces(
            f"{len(rivals) + 1} faces in the photo. Enrollment needs a photo of one person alone.",
            faces=len(rivals) + 1,
        )
    aligned = engine.align(image, largest)
    report = assess(largest, aligned, limits)
    if not report.ok:
        raise LowQuality(
            "The photo is not good enough: " + " ".join(report.hints),
            reasons=list(report.failures),
            hints=report.hints,
        )
    return largest, aligned, report


def capture_for_enrollment(engine: FaceEngine, image: np.ndarray, limits: QualityLimits = QualityLimits()) -> Capture:
    """The template of the one usable, good-quality face (see :func:`check_enrollment`)."""
    faces = engine.detect(image)
    face, aligned, report = check_enrollment(engine, image, limits, faces)
    return Capture(face, engine.embed_aligned(aligned), len(faces), report)


def capture_at_gate(engine: FaceEngine, image: np.ndarray, faces: list[Face] | None = None) -> Capture | None:
    """The face to decide for (largest, most central), or None if there is none."""
    faces = engine.detect(image) if faces is None else faces
    if not faces:
        return None
    face = primary_face(faces, image.shape)
    return Capture(face, engine.embed(image, face), len(faces))
