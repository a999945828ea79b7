"""Named thresholds, loaded from a versioned calibration file.

The numbers are measured, not chosen: ``facegate/matching/operating_points.json``
is written by :mod:`facegate.eval.calibration` from the LFW run documented in
docs/accuracy.md. Two kinds of point:

* **verify** (1:1): the cosine threshold whose measured false-match rate over
  all LFW impostor pairs is at most the target FMR;
* **gate** (1:N, open set): for a gallery of N people, the threshold whose
  measured false-positive identification rate (a never-enrolled face matching
  anyone in the gallery) is at most the target FPIR. Larger galleries need
  stricter thresholds; a gallery between two measured sizes uses the larger
  size's (stricter) threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["OperatingPoint", "OperatingPoints"]

DEFAULT_FILE = "operating_points.json"


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    name: str  # e.g. "verify@fmr=1e-4" or "gate@fpir=1e-3,n<=200"
    threshold: float
    version: str  # calibration file version

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "threshold": self.threshold, "version": self.version}


class OperatingPoints:
    def __init__(self, data: dict[str, Any]) -> None:
        try:
            self.version: str = data["version"]
            self.model: str = data["model"]
            self._verify = {str(k): float(v["threshold"]) for k, v in data["verify"].items()}
            self.gate_target: str = data["gate"]["target_fpir"]
            self._gate = sorted((int(row["gallery_size"]), float(row["threshold"])) for row in data["gate"]["table"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"Operating point file is malformed: {exc}") from exc
        self.data = data

    @classmethod
    def load(cls, path: Path | None = None) -> OperatingPoints:
        try:
            text = path.read_text() if path else (resources.files(__package__) / DEFAULT_FILE).read_text()
            return cls(json.loads(text))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"Cannot read operating points from {path or DEFAULT_FILE}: {exc}") from exc

    def verify(self, fmr: str = "1e-4") -> OperatingPoint:
        if fmr not in self._verify:
            raise ConfigurationError(f"No 1:1 operating point at FMR {fmr}; have {sorted(self._verify)}.")
        return OperatingPoint(f"verify@fmr={fmr}", self._verify[fmr], self.version)

    def gate(self, gallery_size: int) -> OperatingPoint:
        """The 1:N threshold for a gallery of ``gallery_size`` people."""
        for size, threshold in self._gate:
            if gallery_size <= size:
                return OperatingPoint(f"gate@fpir={self.gate_target},n<={size}", threshold, self.version)
        size, threshold = self._gate[-1]
        return OperatingPoint(f"gate@fpir={self.gate_target},n>{size}(extrapolated)", threshold, self.version)
