"""The store as services use it: one transaction at a time, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from .crypto import Keyring
from .database import connect, migrate
from .events import EventRepository
from .manifests import ManifestRepository
from .persons import PersonRepository

__all__ = ["Store", "UnitOfWork"]


class UnitOfWork:
    def __init__(self, session: Session, keys: Keyring) -> None:
        self.session = session
        self.persons = PersonRepository(session, keys)
        self.manifests = ManifestRepository(session)
        self.events = EventRepository(session)


class Store:
    def __init__(self, url: str, keys: Keyring, *, run_migrations: bool = True) -> None:
        self.url = url
        self.keys = keys
        self.engine, self._sessions = connect(url)
        if run_migrations:
            migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """Commit if the block succeeds, roll back everything if it raises."""
        with self._sessions() as session, session.begin():
            yield UnitOfWork(session, self.keys)

    def close(self) -> None:
        self.engine.dispose()
