"""Errors as RFC 9457 problem details (``application/problem+json``).

Every response for a failed request carries the stable ``code`` of
:mod:`facegate.errors`, a status that says whose fault it is, and a message a
person understands; never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .. import errors

__all__ = ["problem", "problem_body", "install", "status_for", "PROBLEM_JSON"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("facegate.api")

#: The HTTP status of each error class; the most specific class wins.
_STATUS: list[tuple[type[errors.FacegateError], int]] = [
    (errors.ImageTooLarge, 413),
    (errors.UnsupportedFormat, 415),
    (errors.ImageError, 422),
    (errors.FaceError, 422),
    (errors.InvalidNik, 422),
    (errors.InvalidInput, 422),
    (errors.NoConsent, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.NotAuthenticated, 401),
    (errors.NotAuthorized, 403),
    (errors.StoreUnavailable, 503),
    (errors.ModelUnavailable, 503),
    (errors.ConfigurationError, 503),
]

_HTTP_CODES = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "not_authorized",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
}


def status_for(error: errors.FacegateError) -> int:
    return next((status for cls, status in _STATUS if isinstance(error, cls)), 400)


def problem_body(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "type": f"urn:facegate:problem:{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
    }


def problem(
    status: int, code: str, detail: str, instance: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = problem_body(status, code, detail)
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="facegate"'
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    fields = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        fields.append({"field": where, "message": str(error.get("msg", "is invalid"))})
    shown = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return f"The request is not valid: {shown}.", fields


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.FacegateError)
    async def _facegate_error(request: Request, exc: errors.FacegateError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, exc.code)
        return problem(status, exc.code, exc.message, request.url.path, details=exc.details or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem(400, "malformed_request", "The request body is not valid JSON.", request.url.path)
        detail, fields = _validation_detail(exc)
        return problem(422, "invalid_input", detail, request.url.path, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no {request.url.path} here; see /docs for the API."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem(exc.status_code, code, detail, request.url.path, headers=exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        log.info("client went away during %s %s", request.method, request.url.path)  # nobody is left to answer
        return problem(400, "malformed_request", "The client disconnected before sending the whole body.", request.url.path)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        response = problem(500, "internal_error", "Something went wrong on our side; it has been logged.", request.url.path)
        response.headers["Connection"] = "close"  # the server drops the connection after an unhandled error
        return response
