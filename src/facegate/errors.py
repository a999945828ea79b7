"""Every error facegate raises on purpose, in one hierarchy.

Each error carries a stable ``code`` (part of the public contract: CLI JSON,
later the REST API) and a message a person understands. Entry points turn a
:class:`FacegateError` into exit status 2 / a problem response; anything else
is a bug.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FacegateError",
    "ImageError",
    "UnsupportedFormat",
    "CorruptImage",
    "ImageTooLarge",
    "FaceError",
    "NoFace",
    "MultipleFaces",
    "FaceTooSmall",
    "LowQuality",
    "FaceMismatch",
    "InvalidNik",
    "InvalidInput",
    "NotFound",
    "Conflict",
    "DuplicateNik",
    "DuplicateFace",
    "NoConsent",
    "NotAuthenticated",
    "NotAuthorized",
    "ModelUnavailable",
    "ConfigurationError",
    "StoreUnavailable",
]


class FacegateError(Exception):
    """Base class. ``code`` is stable; ``message`` is for people."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


# --- images -----------------------------------------------------------------


class ImageError(FacegateError):
    code = "corrupt_image"


class UnsupportedFormat(ImageError):
    code = "unsupported_format"


class CorruptImage(ImageError):
    code = "corrupt_image"


class ImageTooLarge(ImageError):
    code = "image_too_large"


# --- faces ------------------------------------------------------------------


class FaceError(FacegateError):
    code = "no_face"


class NoFace(FaceError):
    code = "no_face"


class MultipleFaces(FaceError):
    code = "multiple_faces"


class FaceTooSmall(FaceError):
    code = "face_too_small"


class LowQuality(FaceError):
    code = "low_quality"


class FaceMismatch(FaceError):
    """Photos that should show one person do not (e.g. a photo added to someone else's enrollment)."""

    code = "face_mismatch"


# --- records ----------------------------------------------------------------


class InvalidNik(FacegateError):
    code = "invalid_nik"


class InvalidInput(FacegateError):
    code = "invalid_input"


class NotFound(FacegateError):
    code = "not_found"


class Conflict(FacegateError):
    code = "conflict"


class DuplicateNik(Conflict):
    code = "duplicate_nik"


class DuplicateFace(Conflict):
    code = "duplicate_face"


class NoConsent(FacegateError):
    code = "no_consent"


class NotAuthenticated(FacegateError):
    """No API key, or one that is unknown, malformed or revoked."""

    code = "not_authenticated"


class NotAuthorized(FacegateError):
    """A known caller asking for something its role or gate does not allow."""

    code = "not_authorized"


# --- installation -----------------------------------------------------------


class ModelUnavailable(FacegateError):
    code = "model_unavailable"


class ConfigurationError(FacegateError):
    code = "configuration_error"


class StoreUnavailable(FacegateError):
    """The database is busy (locked by a long write) or cannot be reached; try again."""

    code = "store_unavailable"
