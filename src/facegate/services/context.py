"""The running application: settings, store, face engine, operating points.

Entry points (CLI, later the API) build one :class:`Facegate` and pass it to
the use cases in this package. The face models load on first use.
"""

from __future__ import annotations

import getpass
import threading
from functools import cached_property

from typing import TYPE_CHECKING

from ..config import Settings
from ..matching.operating_points import OperatingPoints

if TYPE_CHECKING:  # imported on first use: a command that needs no store does not pay for SQLAlchemy
    from ..store.unit_of_work import Store
    from ..vision.engine import FaceEngine
    from .galleries import GalleryCache

__all__ = ["Facegate"]


class Facegate:
    def __init__(self, settings: Settings | None = None, *, actor: str | None = None) -> None:
        self.settings = settings or Settings()
        self.actor = actor or f"cli:{getpass.getuser()}"
        self._engine_lock = threading.Lock()

    @cached_property
    def store(self) -> Store:
        from ..store.crypto import Keyring, load_or_create_secret
        from ..store.unit_of_work import Store

        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = load_or_create_secret(settings.secret_key, settings.data_dir / "facegate.key")
        return Store(settings.resolved_database_url, Keyring(secret))

    @property
    def engine(self) -> FaceEngine:
        with self._engine_lock:  # two threads must not both load the models
            if "_engine" not in self.__dict__:
                from ..vision.engine import FaceEngine

                self.__dict__["_engine"] = FaceEngine(self.settings.model_dir)
            return self.__dict__["_engine"]

    @cached_property
    def points(self) -> OperatingPoints:
        return OperatingPoints.load(self.settings.operating_points)

    @cached_property
    def galleries(self) -> GalleryCache:
        from .galleries import GalleryCache

        return GalleryCache()

    def load_image(self, source: object):  # type: ignore[no-untyped-def]
        from ..imaging import load_image

        s = self.settings
        return load_image(source, max_pixels=s.max_image_pixels, max_bytes=s.max_image_bytes, max_side=s.working_max_side)  # type: ignore[arg-type]

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
