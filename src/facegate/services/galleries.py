"""Which templates a gate searches, cached until the data behind them changes.

A gate's gallery is the passengers booked on departures from its site whose
boarding window is open at ``at`` (or, with a horizon, within that much of it). Building it
means decrypting templates, so it is cached per (site, minute, store revision);
every change to persons, templates, departures or bookings bumps the revision,
so a deleted person is never matched from a stale cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from ..matching.gallery import Gallery
from ..store.unit_of_work import UnitOfWork

__all__ = ["GalleryCache"]


class GalleryCache:
    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, datetime, timedelta, int, str], Gallery[str]] = OrderedDict()
        self._lock = threading.Lock()

    def for_site(self, uow: UnitOfWork, site: str, at: datetime, horizon: timedelta, model: str) -> Gallery[str]:
        key = (site, at.replace(second=0, microsecond=0), horizon, uow.events.revision(), model)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        person_ids = uow.manifests.passengers_near(site, at, horizon)
        gallery: Gallery[str] = Gallery(uow.persons.templates(model, person_ids))
        with self._lock:
            self._items[key] = gallery
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return gallery
