"""The HTTP API (FastAPI): thin over :mod:`facegate.services`."""

from .app import create_app

__all__ = ["create_app"]
