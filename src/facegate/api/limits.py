"""Refuse request bodies that are too large (before reading them) or of a type an endpoint does not take."""

from __future__ import annotations

import json

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import PROBLEM_JSON, problem_body

__all__ = ["BodyLimit", "require_json"]


def require_json(request: Request) -> None:
    """Dependency of JSON-only endpoints: another media type is 415, not a confusing validation error."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(415, "Send a JSON body (Content-Type: application/json).")


class _TooLarge(HTTPException):
    """Raised from ``receive`` mid-body; the app's HTTP error handler turns it into a 413 problem."""


class BodyLimit:
    """ASGI middleware: 413 as soon as Content-Length, or the bytes received so far, exceed ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await self._refuse(send, 400, "malformed_request", "The Content-Length header is not a number.")
                return
            if too_large:
                await self._refuse(send, 413, "request_too_large", self._message())
                return
        received = 0
        started = exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge(413, self._message())
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:  # the rest of the body is never read: the connection cannot be reused
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, 413, "request_too_large", self._message())

    def _message(self) -> str:
        size = f"{self.max_bytes / 2**20:g} MB" if self.max_bytes >= 2**20 else f"{self.max_bytes:,} bytes"
        return f"The request body is larger than the limit of {size}."

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
        body = json.dumps(problem_body(status, code, detail)).encode()
        await send({
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": body})
