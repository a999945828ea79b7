"""A client helper for the live API the fixtures in conftest.py start."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import httpx

from facegate.services.context import Facegate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Api:
    url: str
    app: Facegate
    keys: dict[str, str] = field(default_factory=dict)  # "KAI:admin", "KAI:gate:GMR-1", ...

    def client(self, key: str | None = None, **kwargs: object) -> httpx.Client:
        """A client sending ``key`` (a name in ``keys``, or a raw token)."""
        token = self.keys.get(key, key) if key else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]
