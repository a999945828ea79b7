"""Checks for the small text and time fields people and ticketing systems send.

Every value that ends up on a screen, in a CSV or in a log is checked here:
no control or bidirectional-override characters (they can rewrite a
terminal or reorder text), sensible lengths, and codes in a fixed alphabet.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from ..errors import InvalidInput

__all__ = ["person_name", "code", "free_text", "moment", "record_id", "CODE"]

#: Site codes, gate ids, booking references, seats: letters, digits and . _ / -
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_EARLIEST, _LATEST = 2000, 2100
_RECORD_ID = re.compile(r"[0-9a-f]{32}")


def _visible(value: str, what: str) -> str:
    value = unicodedata.normalize("NFC", value)
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != " ":
            raise InvalidInput(f"{what} contains an invisible or control character (U+{ord(ch):04X}).")
    return " ".join(value.split())


def person_name(value: str) -> str:
    name = _visible(value, "The name")
    if not 1 <= len(name) <= 200:
        raise InvalidInput("The name must have 1 to 200 characters.")
    return name


def free_text(value: str, what: str, max_length: int = 64) -> str:
    """Short human text such as an operator name or a train number ("KA 7")."""
    text = _visible(value, what)
    if not 1 <= len(text) <= max_length:
        raise InvalidInput(f"{what} must have 1 to {max_length} characters.")
    return text


def code(value: str, what: str, max_length: int = 32, upper: bool = False) -> str:
    """A code such as a station (GMR), a gate (GMR-3), a booking ref or a seat (12A)."""
    text = value.strip()
    if not (1 <= len(text) <= max_length and CODE.fullmatch(text)):
        raise InvalidInput(
            f"{what} must be 1 to {max_length} letters, digits or . _ / - (starting with a letter or digit); got {text[:40]!r}."
        )
    return text.upper() if upper else text


def moment(value: datetime, what: str = "The time") -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{what} needs a time zone.")
    if not _EARLIEST <= value.year < _LATEST:
        raise InvalidInput(f"{what} must fall between the years {_EARLIEST} and {_LATEST}.")
    return value


def record_id(value: str) -> bool:
    """Whether ``value`` has the shape of a facegate record id (32 lowercase hex digits)."""
    return bool(_RECORD_ID.fullmatch(value))
