"""Gate decisions on real photos: who gets through, who does not, and why."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from facegate.services.gate import decide
from facegate.services.persons import erase
from facegate.store.tables import BookingRow, GateEvent

from scenario import DEPARTS, DURING, Station, photo


@pytest.fixture
def station(app, lfw) -> Station:
    s = Station(app, lfw)
    for name, number in (("Colin_Powell", 2), ("Tony_Blair", 3), ("Gerhard_Schroeder", 1)):
        s.enroll(name, number)
    s.ka1 = s.departure("KA 1")  # type: ignore[attr-defined]
    s.book(s.ka1, "Colin_Powell", "Tony_Blair", "Gerhard_Schroeder")  # type: ignore[attr-defined]
    return s


def at_gate(station: Station, name: str, number: int, at=DURING, gate: str = "G1", **kw):
    return decide(station.app, photo(station.lfw, name, number), site=station.site, gate=gate, at=at, **kw)


def test_booked_passenger_boards_with_another_photo(station):
    d = at_gate(station, "Colin_Powell", 4)
    assert (d.outcome, d.reason) == ("open", "valid_booking")
    assert d.person_id == station.person_ids["Colin_Powell"]
    assert d.service_number == "KA 1" and d.seat == "0A"
    assert d.score >= d.threshold and d.operating_point.startswith("gate@fpir=1e-3")


def test_second_attempt_is_refused_as_already_boarded(station):
    assert at_gate(station, "Tony_Blair", 2).opened
    again = at_gate(station, "Tony_Blair", 5, gate="G2")
    assert (again.outcome, again.reason) == ("refuse", "already_boarded")


def test_stranger_is_not_recognised(station):
    d = at_gate(station, "George_W_Bush", 1)
    assert (d.outcome, d.reason, d.person_id) == ("refuse", "no_match", None)


def test_frame_without_a_face(station, tmp_path):
    from PIL import Image

    blank = tmp_path / "wall.jpg"
    Image.new("RGB", (640, 480), (120, 120, 120)).save(blank)
    d = decide(station.app, blank, site="GMR", at=DURING)
    assert (d.reason, d.faces_detected) == ("no_face", 0)


def test_too_early_and_too_late_are_told_apart_from_strangers(station):
    early = at_gate(station, "Colin_Powell", 4, at=DEPARTS - timedelta(minutes=75))
    late = at_gate(station, "Colin_Powell", 3, at=DEPARTS - timedelta(minutes=2))
    assert (early.outcome, early.reason) == ("refuse", "outside_boarding_window")
    assert (late.outcome, late.reason) == ("refuse", "outside_boarding_window")


def test_booking_at_another_station_does_not_open_here(app, lfw):
    s = Station(app, lfw)
    s.enroll("Colin_Powell", 2)
    s.book(s.departure("KA 9", site="BD"), "Colin_Powell")
    d = at_gate(s, "Colin_Powell", 4)
    assert d.reason == "no_match" and not d.opened  # not in this site's gallery at all


def test_earliest_of_two_open_departures_is_boarded(app, lfw):
    s = Station(app, lfw)
    s.enroll("Colin_Powell", 2)
    later = s.departure("KA 3", at=DEPARTS + timedelta(minutes=20))
    earlier = s.departure("KA 1")
    s.book(later, "Colin_Powell")
    s.book(earlier, "Colin_Powell")
    first = at_gate(s, "Colin_Powell", 4, at=DEPARTS - timedelta(minutes=20))
    second = at_gate(s, "Colin_Powell", 3, at=DEPARTS - timedelta(minutes=19))
    assert (first.service_number, second.service_number) == ("KA 1", "KA 3")
    assert first.opened and second.opened


def test_cancelled_booking_does_not_board(station):
    with station.app.store.transaction() as uow:
        uow.session.execute(BookingRow.__table__.update().where(BookingRow.seat == "0A").values(status="cancelled"))
        uow.events.bump_revision()
    d = at_gate(station, "Colin_Powell", 4)
    assert not d.opened and d.reason == "no_match"  # cancelled passengers leave the gallery


def test_erased_person_is_never_matched_again(station):
    assert at_gate(station, "Gerhard_Schroeder", 2).reason == "valid_booking"  # warms the gallery cache
    erase(station.app, station.person_ids["Gerhard_Schroeder"])
    d = at_gate(station, "Gerhard_Schroeder", 3)
    assert d.reason == "no_match" and d.person_id is None


def test_one_to_one_mode_with_the_scanned_booking(station):
    with station.app.store.transaction() as uow:
        rows = {r.seat: r.id for r in uow.session.scalars(select(BookingRow))}
    powell_booking, blair_booking = rows["0A"], rows["1A"]
    wrong = at_gate(station, "Colin_Powell", 4, booking_id=blair_booking)
    assert (wrong.mode, wrong.reason) == ("1:1", "no_match")
    right = at_gate(station, "Colin_Powell", 4, booking_id=powell_booking)
    assert (right.mode, right.reason, right.booking_id) == ("1:1", "valid_booking", powell_booking)
    assert right.operating_point.startswith("verify@fmr=1e-4")


def test_group_frame_decides_for_the_largest_central_face(app, lfw, datasets):
    s = Station(app, lfw)
    s.ka1 = s.departure("KA 1")  # type: ignore[attr-defined]
    group = datasets / "group-photos" / "images" / "face_recognition_obama_and_biden.jpg"
    d = decide(app, group, site="GMR", at=DURING)
    assert d.faces_detected >= 2
    assert "largest, most central" in (d.note or "")


def test_two_gates_at_once_board_one_booking_once(station):
    """Two threads decide for the same passenger at the same moment: exactly one opens."""
    barrier = threading.Barrier(2)
    results = []

    def gate(name: str, number: int) -> None:
        barrier.wait()
        results.append(at_gate(station, "Colin_Powell", number, gate=name))

    threads = [threading.Thread(target=gate, args=(f"G{i}", i + 2)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.reason for r in results) == ["already_boarded", "valid_booking"]
    with station.app.store.transaction() as uow:
        events = list(uow.session.scalars(select(GateEvent)))
        boarded = [r for r in uow.session.scalars(select(BookingRow)) if r.status == "boarded"]
    assert len(events) == 2 and len(boarded) == 1


def test_staff_see_recent_decisions_and_the_audit_chain_holds(station):
    from facegate.services.audit import recent_decisions, verify_audit

    at_gate(station, "Colin_Powell", 4)
    at_gate(station, "George_W_Bush", 1)
    events = recent_decisions(station.app, "gmr", 10)
    assert [e["reason"] for e in events] == ["no_match", "valid_booking"]
    assert verify_audit(station.app)["intact"] is True


def test_a_worker_with_a_cached_gallery_never_matches_a_person_another_worker_erased(station, settings, engine):
    """Two API workers are two processes with their own caches over one store."""
    from facegate.services.context import Facegate

    other_worker = Facegate(settings, actor="worker-2")
    other_worker.shared_engine(engine)
    try:
        assert at_gate(station, "Colin_Powell", 4, at=DURING + timedelta(minutes=1)).reason == "valid_booking"  # caches
        erase(other_worker, station.person_ids["Tony_Blair"])
        d = at_gate(station, "Tony_Blair", 5, at=DURING + timedelta(minutes=1))  # same minute: same cache key but for the revision
        assert d.reason == "no_match" and d.person_id is None
    finally:
        other_worker.close()


def test_one_to_one_mode_with_the_ticket_reference(station):
    ref = f"{station.ka1[:6]}-Colin_Powell"  # as Station.book writes it
    wrong_face = at_gate(station, "Tony_Blair", 2, booking_ref=ref)
    assert (wrong_face.mode, wrong_face.reason) == ("1:1", "no_match")
    unknown = at_gate(station, "Colin_Powell", 4, booking_ref="NOPE-1")
    assert (unknown.outcome, unknown.reason) == ("refuse", "no_booking")
    right = at_gate(station, "Colin_Powell", 4, booking_ref=ref)
    assert (right.mode, right.reason, right.seat) == ("1:1", "valid_booking", "0A")


def test_a_ticket_reference_used_on_two_departures_names_the_scanned_passengers_booking(station):
    from facegate.services.manifests import import_bookings

    ka2 = station.departure("KA 2")
    shared = f"{station.ka1[:6]}-Colin_Powell"  # Colin's reference on KA 1, reused on KA 2 for Tony
    import_bookings(station.app, f"departure_id,booking_ref,nik,seat\n{ka2},{shared},{station.niks['Tony_Blair']},9C\n")
    tony = at_gate(station, "Tony_Blair", 2, booking_ref=shared)
    assert (tony.mode, tony.reason, tony.service_number, tony.seat) == ("1:1", "valid_booking", "KA 2", "9C")
    colin = at_gate(station, "Colin_Powell", 4, booking_ref=shared)
    assert (colin.reason, colin.service_number, colin.seat) == ("valid_booking", "KA 1", "0A")


def test_the_cli_cannot_decide_at_a_registered_gate_of_another_site(station):
    from facegate.errors import InvalidInput
    from facegate.services.tenancy import add_gate, add_operator, add_site

    add_operator(station.app, "AP2")
    add_site(station.app, "CGK", "AP2")
    add_gate(station.app, "CGK-1", "CGK")
    with pytest.raises(InvalidInput, match="at site CGK"):
        at_gate(station, "Colin_Powell", 4, gate="CGK-1")
