"""Operator tools: compare two photos (1:1) and identify a photo (1:N)."""

from __future__ import annotations

from typing import Any

from ..domain.access import Permission
from ..errors import NoFace
from ..matching.gallery import Gallery, cosine
from .access import authorize
from .context import Facegate
from .faces import Capture, capture_at_gate

__all__ = ["compare", "identify"]


def _capture(app: Facegate, photo: object) -> Capture:
    capture = capture_at_gate(app.engine, app.load_image(photo))
    if capture is None:
        raise NoFace("No face found in the photo.")
    return capture


def compare(app: Facegate, first: object, second: object, fmr: str = "1e-4") -> dict[str, Any]:
    """Are the two photos the same person? At the calibrated 1:1 threshold."""
    authorize(app, Permission.RECOGNISE)
    score = cosine(_capture(app, first).vector, _capture(app, second).vector)
    point = app.points.verify(fmr)
    return {
        "score": round(score, 4),
        "threshold": point.threshold,
        "match": score >= point.threshold,
        "operating_point": f"{point.name}@{point.version}",
    }


def identify(app: Facegate, photo: object, top_k: int = 5) -> dict[str, Any]:
    """Search enrolled persons (an operator: those who consented to it); below the threshold
    for that many people the answer is 'unknown'."""
    operator = authorize(app, Permission.RECOGNISE)
    capture = _capture(app, photo)
    vector = capture.vector
    with app.store.transaction() as uow:
        scope = uow.persons.consented_to(operator) if operator is not None else None
        gallery: Gallery[str] = Gallery(uow.persons.templates(app.engine.template_model, scope))
        point = app.points.gate(len(gallery))
        # Only people above the threshold are named: a list of the "closest
        # strangers" would disclose who is enrolled without identifying anyone.
        candidates = [c for c in gallery.search(vector, max(1, top_k)) if c.score >= point.threshold]
        results = []
        for candidate in candidates:
            person = uow.persons.get(candidate.key)
            results.append(
                {
                    "person_id": person.id,
                    "nik": person.nik.masked(),
                    "name": person.name,
                    "score": round(candidate.score, 4),
                }
            )
        best = results[0] if results else None
        uow.events.audit(app.actor, "person.identify", best["person_id"] if best else None, gallery=len(gallery))
    return {
        "identified": best is not None,
        "person_id": best["person_id"] if best else None,
        "threshold": point.threshold,
        "operating_point": f"{point.name}@{point.version}",
        "gallery_size": len(gallery),
        "candidates": results,
        "faces_detected": capture.faces_detected,
        "note": capture.note,
    }
