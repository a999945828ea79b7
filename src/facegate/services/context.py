"""The running application: settings, store, face engine, operating points.

Entry points (CLI, later the API) build one :class:`Facegate` and pass it to
the use cases in this package. The face models load on first use.
"""

from __future__ import annotations

import copy
import getpass
import threading
from functools import cached_property

from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings, load_settings
from ..domain.access import Principal
from ..errors import ConfigurationError
from ..matching.operating_points import OperatingPoints

#: What a photo may arrive as: encoded bytes, a file path, or an RGB array.
ImageSource = bytes | str | PathLike[str] | np.ndarray

if TYPE_CHECKING:  # imported on first use: a command that needs no store does not pay for SQLAlchemy
    from ..store.unit_of_work import Store
    from ..vision.engine import FaceEngine
    from .galleries import GalleryCache

__all__ = ["Facegate"]


class Facegate:
    def __init__(self, settings: Settings | None = None, *, actor: str | None = None) -> None:
        self.settings = settings or load_settings()
        self.actor = actor or f"cli:{getpass.getuser()}"
        #: Who is asking: None is the local administrator (the CLI on the server), who may do everything.
        self.principal: Principal | None = None
        self._engine_lock = threading.Lock()
        self._engines: list[FaceEngine] = []  # shared by views

    def acting_as(self, principal: Principal) -> Facegate:
        """A view of this application for one API caller: same store, models and caches, scoped rights."""
        self.store, self.points, self.galleries  # noqa: B018 -- open shared resources before the copy shares them
        view = copy.copy(self)
        view.principal = principal
        view.actor = principal.actor
        return view

    @cached_property
    def store(self) -> Store:
        """The store, opened with the key it was written with (or a new key for a new store)."""
        from ..store.crypto import Keyring, new_secret, read_secret, write_key_file
        from ..store.unit_of_work import Store

        settings = self.settings
        key_file = settings.data_dir / "facegate.key"
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigurationError(f"Cannot use data directory {settings.data_dir}: {exc.strerror}.") from exc
        secret = read_secret(settings.secret_key, key_file)
        new_key = secret is None
        keys = Keyring(secret or new_secret())
        store = Store(settings.resolved_database_url, keys)
        written_with = store.key_fingerprint()
        if written_with is not None and written_with != keys.key_id:
            store.close()
            hint = f"the key file {key_file} is missing" if new_key else "the configured key is a different one"
            raise ConfigurationError(
                f"This database was written with key {written_with} but {hint} (key {keys.key_id}). "
                "Restore the key that belongs to this database (FACEGATE_SECRET_KEY or the key file)."
            )
        if not settings.database_url:  # the embedded SQLite file holds biometric data: owner only
            for path in settings.data_dir.glob("facegate.db*"):
                path.chmod(0o600)
        if new_key:
            write_key_file(key_file, keys.master_backup())
        if written_with is None:
            store.claim_key()
        return store

    @property
    def engine(self) -> FaceEngine:
        return self.shared_engine()

    def shared_engine(self, engine: FaceEngine | None = None) -> FaceEngine:
        """The face engine, loaded once and shared with every :meth:`acting_as` view (or set to ``engine``)."""
        with self._engine_lock:  # two threads must not both load the models
            if engine is not None:
                self._engines[:] = [engine]
            if not self._engines:
                from ..vision.engine import FaceEngine

                self._engines.append(FaceEngine(self.settings.model_dir))
            return self._engines[0]

    @property
    def engine_loaded(self) -> bool:
        return bool(self._engines)

    @cached_property
    def points(self) -> OperatingPoints:
        """FACEGATE_OPERATING_POINTS, else a calibration in the data dir, else the shipped LFW one."""
        calibrated = self.settings.data_dir / "operating_points.json"
        return OperatingPoints.load(self.settings.operating_points or (calibrated if calibrated.is_file() else None))

    @cached_property
    def galleries(self) -> GalleryCache:
        from .galleries import GalleryCache

        return GalleryCache()

    def load_image(self, source: ImageSource, max_pixels: int | None = None) -> np.ndarray:
        """An upright RGB image under this installation's size limits (see :mod:`facegate.imaging`)."""
        from ..imaging import load_image

        s = self.settings
        limit = min(max_pixels or s.max_image_pixels, s.max_image_pixels)
        return load_image(source, max_pixels=limit, max_bytes=s.max_image_bytes, max_side=s.working_max_side)

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
