"""The store as services use it: one transaction at a time, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, update
from sqlalchemy.exc import ArgumentError, DataError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..errors import ConfigurationError, InvalidInput, StoreUnavailable
from .crypto import Keyring
from .database import connect, migrate
from .events import EventRepository
from .manifests import ManifestRepository
from .persons import PersonRepository
from .tables import StoreState
from .tenancy import TenancyRepository

__all__ = ["Store", "UnitOfWork"]


class UnitOfWork:
    def __init__(self, session: Session, keys: Keyring) -> None:
        self.session = session
        self.persons = PersonRepository(session, keys)
        self.manifests = ManifestRepository(session)
        self.events = EventRepository(session)
        self.tenancy = TenancyRepository(session)


class Store:
    def __init__(self, url: str, keys: Keyring, *, run_migrations: bool = True) -> None:
        self.url = url
        self.keys = keys
        where = url.split("@")[-1]  # never show a password
        try:
            self.engine, self._sessions = connect(url)
            if run_migrations:
                migrate(self.engine)
        except (ArgumentError, ModuleNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"FACEGATE_DATABASE_URL is not usable ({exc}).") from exc
        except (SQLAlchemyError, OSError) as exc:
            detail = getattr(exc, "orig", None) or exc
            raise ConfigurationError(f"Cannot open or update the database at {where}: {detail}.") from exc

    def key_fingerprint(self) -> str | None:
        """Fingerprint of the key this database was written with (None: new database)."""
        with self.transaction() as uow:
            return uow.session.scalar(select(StoreState.key_id).where(StoreState.id == 1))

    def claim_key(self) -> None:
        with self.transaction() as uow:
            uow.session.execute(update(StoreState).where(StoreState.id == 1).values(key_id=self.keys.key_id))

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """Commit if the block succeeds, roll back everything if it raises."""
        try:
            with self._sessions() as session, session.begin():
                yield UnitOfWork(session, self.keys)
        except DataError as exc:  # a value the database cannot hold (e.g. NUL in PostgreSQL text); checks missed it
            raise InvalidInput("A value in the request cannot be stored or searched (out of range or invalid characters).") from exc
        except ProgrammingError as exc:  # e.g. tables dropped under a running server
            raise StoreUnavailable(
                "The database does not hold facegate's tables any more (dropped or replaced?); an administrator must "
                "restore it."
            ) from exc
        except OperationalError as exc:
            raise StoreUnavailable(
                f"The database is not available right now ({getattr(exc, 'orig', exc)}); try again."
            ) from exc

    def close(self) -> None:
        self.engine.dispose()
