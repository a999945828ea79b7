"""The HTTP API: a FastAPI app over the same services as the CLI.

``create_app`` wires routers, problem responses, the body-size limit and
metrics around one :class:`~facegate.services.context.Facegate`. Nothing here
decides anything: routes parse, call a service, serialise.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import FacegateError
from ..services.context import Facegate
from . import problems
from .limits import BodyLimit
from .metrics import CONTENT_TYPE_LATEST, Metrics, RequestMetrics
from .routes import gates, manifests, persons, recognition
from .schemas import Problem

__all__ = ["create_app"]

log = logging.getLogger("facegate.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {problems.PROBLEM_JSON: {}}, "description": what}
    for status, what in {
        400: "Malformed request", 401: "No valid API key", 403: "The key's role or gate does not allow this",
        404: "Not found (or another operator's)", 409: "Conflict", 413: "Too large", 415: "Unsupported media type",
        422: "Invalid input", 503: "Database or models unavailable",
    }.items()
}


def create_app(facegate: Facegate | None = None, *, max_body_bytes: int | None = None) -> FastAPI:
    root = facegate or Facegate(actor="api")
    limit = max_body_bytes or root.settings.max_request_bytes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_warm_up, root)
        yield
        root.close()

    app = FastAPI(
        title="facegate",
        version=__version__,
        summary="Face-recognition identity checks for public transport boarding.",
        description=(
            "Every request but the health checks needs an API key (`Authorization: Bearer fgk_...`), created with "
            "`facegate keys create`. Errors are RFC 9457 problem details with a stable `code`."
        ),
        lifespan=lifespan,
        responses=_ERRORS,
        docs_url=None,  # served below from local files: no CDN on an operator's closed network
        redoc_url=None,
    )
    app.state.facegate = root
    app.state.max_body_bytes = limit
    app.state.metrics = Metrics()
    problems.install(app)
    for router in (persons.router, manifests.router, gates.router, recognition.router):
        app.include_router(router)
    _health(app, root)
    _docs(app)
    app.add_middleware(BodyLimit, max_bytes=limit)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    return app


def _warm_up(root: Facegate) -> None:
    """Open the store and load the models before the first request, so that a gate never waits for them."""
    try:
        root.store, root.points, root.galleries  # noqa: B018
        root.engine  # noqa: B018
    except FacegateError as error:
        log.error("facegate cannot start: %s", error.message)
        raise


def _health(app: FastAPI, root: Facegate) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Models loaded and database reachable")
    def readyz() -> JSONResponse:
        checks = {"models": root.engine_loaded, "database": _database_ok(root)}
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", response_class=Response)
    def metrics(request: Request) -> Response:
        return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def _docs(app: FastAPI) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="facegate API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def _database_ok(root: Facegate) -> bool:
    try:
        with root.store.transaction() as uow:
            uow.events.revision()  # a real table: a database without facegate's schema is not ready
        return True
    except Exception:  # any failure here means "not ready", which is the answer
        return False
