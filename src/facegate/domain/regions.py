"""Indonesian province codes as used in the NIK (Kemendagri / Dukcapil).

The first two digits of a NIK are the province code from the Ministry of Home
Affairs (Kemendagri) region coding, Kepmendagri 100.1.1-6117/2022 and later.
Indonesia has 38 provinces; the four created in 2022 from Papua and Papua
Barat got codes 93-96. There is no province 97.

Note: BPS (Statistics Indonesia) numbers the Papua provinces differently
(e.g. BPS 94 is Papua, Kemendagri 94 is Papua Tengah). NIKs use the Kemendagri
codes. People registered before a split keep their NIK, so a resident of
Papua Selatan may well carry a NIK starting with 91.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["PROVINCES", "PROVINCE_CODES"]

#: province code -> province name (read-only).
PROVINCES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "11": "Aceh",
        "12": "Sumatera Utara",
        "13": "Sumatera Barat",
        "14": "Riau",
        "15": "Jambi",
        "16": "Sumatera Selatan",
        "17": "Bengkulu",
        "18": "Lampung",
        "19": "Kepulauan Bangka Belitung",
        "21": "Kepulauan Riau",
        "31": "DKI Jakarta",
        "32": "Jawa Barat",
        "33": "Jawa Tengah",
        "34": "DI Yogyakarta",
        "35": "Jawa Timur",
        "36": "Banten",
        "51": "Bali",
        "52": "Nusa Tenggara Barat",
        "53": "Nusa Tenggara Timur",
        "61": "Kalimantan Barat",
        "62": "Kalimantan Tengah",
        "63": "Kalimantan Selatan",
        "64": "Kalimantan Timur",
        "65": "Kalimantan Utara",
        "71": "Sulawesi Utara",
        "72": "Sulawesi Tengah",
        "73": "Sulawesi Selatan",
        "74": "Sulawesi Tenggara",
        "75": "Gorontalo",
        "76": "Sulawesi Barat",
        "81": "Maluku",
        "82": "Maluku Utara",
        "91": "Papua",
        "92": "Papua Barat",
        "93": "Papua Selatan",
        "94": "Papua Tengah",
        "95": "Papua Pegunungan",
        "96": "Papua Barat Daya",
    }
)

#: The 38 valid province codes.
PROVINCE_CODES: Final[frozenset[str]] = frozenset(PROVINCES)
