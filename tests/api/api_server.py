"""A client helper for the live API the fixtures in conftest.py start."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn

from facegate.api import create_app
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


@contextmanager
def serve(app: Facegate, **options: int) -> Iterator[str]:
    """A live uvicorn server in a thread over ``create_app(app, **options)``; yields its URL."""
    port = free_port()
    config = uvicorn.Config(create_app(app, **options), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
