"""Enrollment quality: is this face good enough to become a template?

Measured on the detection (landmarks) and on the aligned 112x112 crop the
embedder sees. Each failed check has a stable ``reason`` and a short hint a
kiosk can show. The limits are deliberately lenient and were checked against
LFW (see docs/accuracy.md): they reject faces that are clearly unusable, not
ordinary photos.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .engine import Face

__all__ = ["QualityLimits", "QualityReport", "assess"]


@dataclass(frozen=True)
class QualityLimits:
    min_eye_distance: float = 24.0  # pixels between the eye centres
    min_detection_score: float = 0.80
    min_brightness: float = 45.0  # mean grey level of the aligned crop, 0..255
    max_brightness: float = 215.0
    min_contrast: float = 14.0  # std of grey levels
    min_sharpness: float = 15.0  # variance of the Laplacian of the aligned crop
    max_yaw: float = 0.15  # nose offset from the eye midpoint / eye distance
    max_roll_degrees: float = 25.0
    pitch_range: tuple[float, float] = (0.25, 0.80)  # (nose - eyes) / (mouth - eyes), vertical


HINTS = {
    "face_too_small": "Move closer to the camera.",
    "not_clear": "Make sure your whole face is visible and not covered.",
    "too_dark": "It is too dark: find more light on your face.",
    "too_bright": "Too much light: avoid direct light or glare on your face.",
    "low_contrast": "The face is washed out: find even, brighter light.",
    "blurry": "The photo is blurry: hold still and keep the lens clean.",
    "head_turned": "Look straight at the camera.",
    "head_tilted": "Keep your head upright.",
    "head_up_down": "Look straight at the camera, chin level.",
}


@dataclass(frozen=True)
class QualityReport:
    metrics: dict[str, float]
    failures: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def hints(self) -> list[str]:
        return [HINTS[f] for f in self.failures]

    @property
    def score(self) -> float:
        """A 0..1 summary for ranking several photos of one person."""
        m = self.metrics
        parts = [
            min(1.0, m["eye_distance"] / 60.0),
            min(1.0, m["sharpness"] / 150.0),
            1.0 - min(1.0, abs(m["yaw"]) / 0.5),
            m["detection_score"],
        ]
        return float(np.clip(np.mean(parts), 0.0, 1.0))


def _pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    right_eye, left_eye, nose, right_mouth, left_mouth = landmarks
    eyes_mid = (right_eye + left_eye) / 2
    mouth_mid = (right_mouth + left_mouth) / 2
    eye_vec = left_eye - right_eye
    eye_dist = float(np.linalg.norm(eye_vec)) or 1.0
    roll = float(np.degrees(np.arctan2(eye_vec[1], eye_vec[0])))
    # Work in the face's own frame so roll does not read as yaw.
    ux = eye_vec / eye_dist
    uy = np.array([-ux[1], ux[0]])
    yaw = float(np.dot(nose - eyes_mid, ux)) / eye_dist
    vertical = float(np.dot(mouth_mid - eyes_mid, uy)) or 1.0
    pitch = float(np.dot(nose - eyes_mid, uy)) / vertical
    return yaw, roll, pitch


def assess(face: Face, aligned_rgb: np.ndarray, limits: QualityLimits = QualityLimits()) -> QualityReport:
    """Quality of ``face``; ``aligned_rgb`` is its 112x112 aligned crop."""
    grey = cv2.cvtColor(aligned_rgb, cv2.COLOR_RGB2GRAY)
    inner = grey[16:96, 16:96]  # the face itself, without the crop's corners
    yaw, roll, pitch = _pose(face.landmarks)
    metrics = {
        "eye_distance": face.eye_distance,
        "detection_score": face.score,
        "brightness": float(inner.mean()),
        "contrast": float(inner.std()),
        "sharpness": float(cv2.Laplacian(inner, cv2.CV_64F).var()),
        "yaw": yaw,
        "roll": roll,
        "pitch": pitch,
    }
    checks = [
        ("face_too_small", metrics["eye_distance"] < limits.min_eye_distance),
        ("not_clear", metrics["detection_score"] < limits.min_detection_score),
        ("too_dark", metrics["brightness"] < limits.min_brightness),
        ("too_bright", metrics["brightness"] > limits.max_brightness),
        ("low_contrast", metrics["contrast"] < limits.min_contrast),
        ("blurry", metrics["sharpness"] < limits.min_sharpness),
        ("head_turned", abs(yaw) > limits.max_yaw),
        ("head_tilted", abs(roll) > limits.max_roll_degrees),
        ("head_up_down", not limits.pitch_range[0] <= pitch <= limits.pitch_range[1]),
    ]
    return QualityReport(metrics, tuple(name for name, failed in checks if failed))
