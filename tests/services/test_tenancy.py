"""Operators, sites, gates and API keys, as the local administrator sets them up."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from facegate.domain.access import Principal, Role
from facegate.errors import Conflict, InvalidInput, NotAuthenticated, NotAuthorized, NotFound
from facegate.services.keys import authenticate, create_key, first_admin_key, list_keys, revoke_key
from facegate.services.manifests import add_departure
from facegate.services.tenancy import add_gate, add_operator, add_site, describe

from scenario import DEPARTS


def test_sites_belong_to_one_operator(app) -> None:
    add_operator(app, "kai", "PT Kereta Api Indonesia")
    add_site(app, "gmr", "KAI", "Gambir")
    add_gate(app, "GMR-1", "GMR")
    assert describe(app)["operators"] == [
        {"operator": "KAI", "name": "PT Kereta Api Indonesia", "sites": [{"site": "GMR", "name": "Gambir", "gates": ["GMR-1"]}]}
    ]
    add_operator(app, "AP2")
    with pytest.raises(Conflict, match="operator KAI"):
        add_site(app, "GMR", "AP2")
    with pytest.raises(Conflict):
        add_gate(app, "GMR-1", "GMR")
    with pytest.raises(NotFound):
        add_gate(app, "CGK-1", "CGK")
    with pytest.raises(Conflict, match="belongs to operator KAI"):  # the CLI cannot schedule AP2 at KAI's station
        add_departure(app, operator="AP2", service_number="GA 1", origin_site="GMR", scheduled_at=DEPARTS)


def test_first_departure_at_a_new_site_claims_it_for_the_operator(app) -> None:
    add_departure(app, operator="KAI", service_number="KA 1", origin_site="BD", scheduled_at=DEPARTS)
    assert describe(app)["operators"][0]["sites"][0]["site"] == "BD"


def test_keys_are_shown_once_and_resolve_to_their_operator_role_and_gate(app) -> None:
    add_operator(app, "KAI")
    add_site(app, "GMR", "KAI")
    add_gate(app, "GMR-1", "GMR")
    key = create_key(app, "KAI", "gate", "GMR-1", label="north gate")
    assert authenticate(app, key["api_key"]) == Principal(key["key_id"], "KAI", Role.GATE, "GMR-1")
    assert "api_key" not in list_keys(app)[0]
    with pytest.raises(InvalidInput):
        create_key(app, "KAI", "gate")  # a gate key needs its gate
    with pytest.raises(InvalidInput):
        create_key(app, "KAI", "root")
    with pytest.raises(NotFound):
        create_key(app, "AP2", "admin")
    revoke_key(app, key["key_id"])
    with pytest.raises(NotAuthenticated):
        authenticate(app, key["api_key"])
    with pytest.raises(NotAuthenticated):
        authenticate(app, key["api_key"][:-1] + ("A" if key["api_key"][-1] != "A" else "B"))


def test_first_admin_key_is_made_once(app) -> None:
    first = first_admin_key(app, "DEFAULT")
    assert first is not None and first["role"] == "admin"
    assert first_admin_key(app, "DEFAULT") is None


def test_an_api_caller_cannot_set_up_tenants_or_keys(app) -> None:
    add_operator(app, "KAI")
    caller = app.acting_as(Principal("0" * 12, "KAI", Role.ADMIN))
    with pytest.raises(NotAuthorized):
        add_site(caller, "GMR", "KAI")
    with pytest.raises(NotAuthorized):
        create_key(caller, "KAI", "admin")


def test_upgrade_from_0002_turns_operator_names_into_operators_and_sites(tmp_path) -> None:
    from alembic import command

    from facegate.store.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO departures (id, operator, service_number, origin_site, scheduled_at, boarding_opens_at, "
            "boarding_closes_at, cancelled) VALUES ('d1', 'KAI', 'KA 1', 'GMR', '2026-12-01 02:30:00', "
            "'2026-12-01 01:30:00', '2026-12-01 02:25:00', 0)"
        ))
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT code FROM operators")).scalars().all() == ["KAI"]
        assert conn.execute(sa.text("SELECT code, operator FROM sites")).all() == [("GMR", "KAI")]
