"""The Indonesian NIK (Nomor Induk Kependudukan), parsed and checked.

A NIK is 16 ASCII digits, ``PP KK CC DDMMYY SSSS``:

=========  ==========================================================
``PP``     province code (Kemendagri), one of :data:`PROVINCE_CODES`
``KK``     regency (kabupaten, 01-79) or city (kota, 71-99); not 00
``CC``     district (kecamatan); not 00
``DDMMYY`` date of birth; women have 40 added to the day (41-71)
``SSSS``   serial number; not 0000
=========  ==========================================================

People type NIKs with spaces, dots or hyphens ("3174 0157 0890 0001",
"31.74.01.570890.0001"); those and surrounding whitespace are ignored.
Anything else that is not an ASCII digit 0-9 is refused, including other
scripts' digits (``str.isdigit`` accepts '٣' and '３'; we do not).

**Century rule.** The year has two digits. It is read as 20YY when that date
is not after ``today``, otherwise as 19YY. So on 2024-06-01, ``YY=24`` with
a birth date of 2024-06-01 is 2024 and ``YY=25`` is 1925. The rule only picks
the century; it does not judge whether someone is implausibly old (a 19YY
reading over 120 years ago is still accepted). With a real ``today`` the
19YY reading is always in the past, so ``future_birth_date`` only happens
when ``today`` is set before it (e.g. in tests), or for 29-02-00 before
2000-02-29 (29 Feb 1900 does not exist).

A NIK is personal data. :class:`Nik` therefore never shows the full number in
``str``/``repr``/f-strings, and no error message quotes the full input: use
``nik.value`` explicitly where the full number is really needed.

Every refusal raises :class:`~facegate.errors.InvalidNik` (code
``invalid_nik``) with a message for people and a stable ``reason`` detail:
``not_digits``, ``length``, ``province``, ``regency``, ``district``,
``birth_date``, ``future_birth_date`` or ``serial``.
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from facegate.domain.regions import PROVINCE_CODES, PROVINCES
from facegate.errors import InvalidNik

__all__ = [
    "NIK_LENGTH",
    "PROVINCES",
    "PROVINCE_CODES",
    "REASONS",
    "Nik",
    "parse_nik",
    "synthetic_nik",
]

NIK_LENGTH: Final = 16

#: Every ``reason`` an :class:`InvalidNik` raised here can carry.
REASONS: Final[frozenset[str]] = frozenset(
    {
        "not_digits",
        "length",
        "province",
        "regency",
        "district",
        "birth_date",
        "future_birth_date",
        "serial",
    }
)

_ASCII_DIGITS: Final = frozenset("0123456789")
_DROP_SEPARATORS: Final = str.maketrans("", "", " .-")
_FEMALE_DAY_OFFSET: Final = 40
_SORTED_PROVINCE_CODES: Final = tuple(sorted(PROVINCE_CODES))  # stable order for rng.choice

Sex = Literal["F", "M"]


@dataclass(frozen=True, slots=True, repr=False)
class Nik:
    """A valid NIK and what it says. Build it with :meth:`parse`."""

    value: str  #: the 16 digits, no separators
    province_code: str
    regency_code: str
    district_code: str
    birth_date: date
    sex: Sex
    serial: str

    @classmethod
    def parse(cls, raw: str, *, today: date | None = None) -> Nik:
        """Parse and check ``raw``; raise :class:`InvalidNik` if it is not a valid NIK.

        ``today`` (default: the local date) only decides the century of the
        birth year, see the module docstring.
        """
        if not isinstance(raw, str):
            raise TypeError(f"NIK must be given as str, not {type(raw).__name__}")
        digits = raw.strip().translate(_DROP_SEPARATORS)

        bad = next((ch for ch in digits if ch not in _ASCII_DIGITS), None)
        if bad is not None:
            raise InvalidNik(
                f"NIK may contain only the digits 0-9 (spaces, dots and hyphens are "
                f"ignored), found {_describe_char(bad)}",
                reason="not_digits",
            )
        if len(digits) != NIK_LENGTH:
            raise InvalidNik(
                f"NIK must have {NIK_LENGTH} digits, got {len(digits)}", reason="length"
            )

        province, regency, district = digits[0:2], digits[2:4], digits[4:6]
        dd, mm, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
        serial = digits[12:16]

        if province not in PROVINCE_CODES:
            raise InvalidNik(
                f"province code {province} does not exist (the first 2 digits of a NIK "
                f"are the province, e.g. 31 for DKI Jakarta)",
                reason="province",
            )
        if regency == "00":
            raise InvalidNik(
                f"regency/city code 00 does not exist in province {province} "
                f"({PROVINCES[province]}); digits 3-4 of a NIK must be 01-99",
                reason="regency",
            )
        if district == "00":
            raise InvalidNik(
                "district (kecamatan) code 00 does not exist; digits 5-6 of a NIK "
                "must be 01-99",
                reason="district",
            )
        sex, birth_date = _birth(dd, mm, yy, today=_resolve_today(today))
        if serial == "0000":
            raise InvalidNik(
                "serial number 0000 is not valid; the last 4 digits of a NIK start at 0001",
                reason="serial",
            )
        return cls(digits, province, regency, district, birth_date, sex, serial)

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province_code]

    def masked(self) -> str:
        """The NIK with all but the first 4 and last 4 digits hidden: ``3174********0001``."""
        return self.value[:4] + "*" * (NIK_LENGTH - 8) + self.value[-4:]

    def __str__(self) -> str:
        return self.masked()

    def __repr__(self) -> str:
        return f"<Nik {self.masked()}>"


def parse_nik(raw: str, *, today: date | None = None) -> Nik:
    """Same as :meth:`Nik.parse`."""
    return Nik.parse(raw, today=today)


def synthetic_nik(
    rng: random.Random,
    *,
    sex: Sex | None = None,
    birth_year_range: tuple[int, int] = (1950, 2005),
    today: date | None = None,
) -> str:
    """A random, valid NIK (16 digits) for demos and tests; deterministic for a seeded ``rng``.

    The birth date is drawn from ``birth_year_range`` (inclusive), limited to
    dates the century rule reads back as themselves on ``today`` (not in the
    future, not 100 or more years ago). ``ValueError`` if no such date is left.

    The result is well-formed, not real: it may still coincide with some
    person's actual NIK, so keep it to test data.
    """
    if sex not in (None, "F", "M"):
        raise ValueError(f"sex must be 'F', 'M' or None, not {sex!r}")
    today = _resolve_today(today)
    lo_year, hi_year = birth_year_range
    first = max(date(max(lo_year, 1900), 1, 1), _earliest_unambiguous_birth_date(today))
    last = min(date(min(max(hi_year, 1), 2099), 12, 31), today)
    if lo_year > hi_year or first > last:
        raise ValueError(
            f"birth_year_range {birth_year_range} contains no birth date a NIK can "
            f"express on {today.isoformat()}"
        )

    birth = date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))
    chosen_sex = sex or rng.choice(("F", "M"))
    day = birth.day + (_FEMALE_DAY_OFFSET if chosen_sex == "F" else 0)
    province = rng.choice(_SORTED_PROVINCE_CODES)
    regency = rng.randint(1, 29) if rng.random() < 0.8 else rng.randint(71, 79)
    district = rng.randint(1, 30)
    serial = rng.randint(1, 9999)
    return (
        f"{province}{regency:02d}{district:02d}"
        f"{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
    )


# --- helpers ----------------------------------------------------------------


def _birth(dd: int, mm: int, yy: int, *, today: date) -> tuple[Sex, date]:
    sex: Sex
    if 1 <= dd <= 31:
        sex, day = "M", dd
    elif 1 + _FEMALE_DAY_OFFSET <= dd <= 31 + _FEMALE_DAY_OFFSET:
        sex, day = "F", dd - _FEMALE_DAY_OFFSET
    else:
        raise InvalidNik(
            f"birth day {dd:02d} is not valid; digits 7-8 of a NIK must be 01-31, "
            f"or 41-71 for women",
            reason="birth_date",
        )
    if not 1 <= mm <= 12:
        raise InvalidNik(
            f"birth month {mm:02d} is not valid; digits 9-10 of a NIK must be 01-12",
            reason="birth_date",
        )
    candidates = (_date_or_none(2000 + yy, mm, day), _date_or_none(1900 + yy, mm, day))
    readings = [d for d in candidates if d is not None]
    if not readings:
        raise InvalidNik(
            f"birth date {day:02d}-{mm:02d}-{yy:02d} (day-month-year) does not exist",
            reason="birth_date",
        )
    for birth_date in readings:  # 20YY first: the century rule
        if birth_date <= today:
            return sex, birth_date
    raise InvalidNik(
        f"birth date {day:02d}-{mm:02d}-{yy:02d} (day-month-year) is in the future",
        reason="future_birth_date",
    )


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_today(today: date | None) -> date:
    if today is None:
        return date.today()
    if isinstance(today, _dt.datetime):
        return today.date()
    return today


def _earliest_unambiguous_birth_date(today: date) -> date:
    """First 19YY date whose 20YY twin is after ``today`` (so it reads back as 19YY)."""
    if today.year <= 1900:
        return date(1900, 1, 1)
    try:
        hundred_years_ago = today.replace(year=today.year - 100)
    except ValueError:  # today is 29 Feb and that century year is no leap year
        hundred_years_ago = date(today.year - 100, 2, 28)
    return max(hundred_years_ago + _dt.timedelta(days=1), date(1900, 1, 1))


def _describe_char(ch: str) -> str:
    if ch.isdigit():
        return f"the non-ASCII digit {ch!r} (U+{ord(ch):04X}); please type it as 0-9"
    if ch.isprintable():
        return f"{ch!r}"
    return f"the invisible character U+{ord(ch):04X}"
