"""A live facegate API over real HTTP (uvicorn in a thread), on SQLite and on PostgreSQL.

``tenants`` sets up two operators the way an installation would (CLI
services as the local administrator): KAI runs the station GMR with gates
GMR-1 and GMR-2; AP2 runs the airport CGK with gate CGK-1. Each has a key of
every role.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_server import Api, serve

from facegate.services.context import Facegate
from facegate.services.keys import create_key
from facegate.services.tenancy import add_gate, add_operator, add_site


@pytest.fixture
def api(app: Facegate) -> Iterator[Api]:
    with serve(app) as url:
        yield Api(url=url, app=app)


@pytest.fixture
def tenants(api: Api) -> Api:
    app = api.app
    for operator, site, gates in (("KAI", "GMR", ("GMR-1", "GMR-2")), ("AP2", "CGK", ("CGK-1",))):
        add_operator(app, operator)
        add_site(app, site, operator)
        for gate in gates:
            add_gate(app, gate, site)
            api.keys[f"{operator}:gate:{gate}"] = create_key(app, operator, "gate", gate)["api_key"]
        for role in ("admin", "enroll", "manifest", "audit"):
            api.keys[f"{operator}:{role}"] = create_key(app, operator, role)["api_key"]
    return api
