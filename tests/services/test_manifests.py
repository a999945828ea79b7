"""Manifests from the ticketing system: all rows or none, and no row that could board a face twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facegate.errors import InvalidInput
from facegate.services.gate import decide
from facegate.services.manifests import add_departure, import_bookings

from scenario import DEPARTS, DURING, Station, nik, photo


@pytest.fixture
def station(app, lfw) -> Station:
    s = Station(app, lfw)
    s.enroll("Tony_Blair", 3)
    s.ka1 = s.departure("KA 1")  # type: ignore[attr-defined]
    return s


def csv(*rows: str) -> str:
    return "departure_id,booking_ref,nik,seat\n" + "\n".join(rows) + "\n"


def refused(app, text: str) -> str:
    with pytest.raises(InvalidInput) as error:
        import_bookings(app, text)
    assert error.value.code == "invalid_manifest"
    return error.value.message


def test_reimport_is_idempotent(station):
    rows = csv(f"{station.ka1},R1,{nik(1)},1A", f"{station.ka1},R2,{nik(2)},1B")
    assert import_bookings(station.app, rows) == {"created": 2, "updated": 0, "unchanged": 0}
    assert import_bookings(station.app, rows) == {"created": 0, "updated": 0, "unchanged": 2}


def test_one_passenger_cannot_hold_two_bookings_on_one_departure(station):
    blair = station.niks["Tony_Blair"]
    message = refused(station.app, csv(f"{station.ka1},R1,{blair},1A", f"{station.ka1},R2,{blair},1B"))
    assert "line 3" in message and "already has a booking" in message
    import_bookings(station.app, csv(f"{station.ka1},R1,{blair},1A"))
    assert "already has a booking" in refused(station.app, csv(f"{station.ka1},R9,{blair},9A"))


def test_a_boarded_booking_cannot_be_given_to_someone_else(station):
    import_bookings(station.app, csv(f"{station.ka1},R1,{station.niks['Tony_Blair']},1A"))
    assert decide(station.app, photo(station.lfw, "Tony_Blair", 2), site="GMR", at=DURING).opened
    assert "already boarded" in refused(station.app, csv(f"{station.ka1},R1,{nik(5)},1A"))


@pytest.mark.parametrize(
    "row, complaint",
    [
        ("{d},R1,{n},1A,extra", "more than the header"),
        ("{d},R 1,{n},1A", "booking_ref"),
        ("{d},=HYPERLINK(1),{n},1A", "booking_ref"),
        ("{d},R1,{n}," + "9" * 100, "seat"),
        ("nope,R1,{n},1A", "unknown departure_id"),
        ("{d},R1,1234,1A", "16 digits"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_imported(station, row, complaint):
    good = f"{station.ka1},R0,{nik(9)},2A"
    message = refused(station.app, csv(good, row.format(d=station.ka1, n=nik(1))))
    assert complaint in message and "line 3" in message
    assert import_bookings(station.app, csv(good))["created"] == 1  # the good row was not imported before


@pytest.mark.parametrize(
    "opens, closes", [(5, 10), (10, 10), (60, -30), (100_000_000, 5), (99999999999999999999, 5)]
)
def test_nonsense_boarding_windows_are_refused(app, opens, closes):
    with pytest.raises(InvalidInput):
        add_departure(app, operator="KAI", service_number="KA 1", origin_site="GMR", scheduled_at=DEPARTS,
                      boarding_opens_minutes=opens, boarding_closes_minutes=closes)


@pytest.mark.parametrize("site", ["G\nM", "", "GM R", "X" * 40, "G\x1b[2J"])
def test_site_codes_are_checked(app, site):
    with pytest.raises(InvalidInput):
        add_departure(app, operator="KAI", service_number="KA 1", origin_site=site, scheduled_at=DEPARTS)


def test_times_far_outside_service_years_are_refused(app):
    with pytest.raises(InvalidInput):
        add_departure(app, operator="KAI", service_number="KA 1", origin_site="GMR", scheduled_at=DEPARTS.replace(year=9999))
    with pytest.raises(InvalidInput):
        decide(app, b"", site="GMR", at=DEPARTS - timedelta(days=365 * 2000))
