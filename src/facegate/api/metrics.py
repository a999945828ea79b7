"""Prometheus metrics: requests by route and status, decision latency, decisions by reason.

Labels use the route template (``/v1/persons/{person_id}``), never the raw
path, so no identifier ends up in a metric. With several worker processes,
each reports its own counts (set PROMETHEUS_MULTIPROC_DIR to aggregate).
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "RequestMetrics", "CONTENT_TYPE_LATEST"]

disable_created_metrics()  # the *_created series only add noise here


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "facegate_http_requests", "HTTP requests by method, route and status.", ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "facegate_http_request_seconds", "HTTP request duration by route.", ["route"], registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "facegate_decision_seconds", "Gate decision latency (face detection to recorded decision).",
            buckets=(0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.decisions = Counter(
            "facegate_decisions", "Gate decisions by outcome and reason.", ["outcome", "reason"], registry=self.registry,
        )

    def observe_decision(self, outcome: str, reason: str, latency_ms: float) -> None:
        self.decisions.labels(outcome, reason).inc()
        self.decision_seconds.observe(latency_ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware counting every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = self._route(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(time.perf_counter() - started)

    @staticmethod
    def _route(scope: Scope) -> str:
        """The matched route's template; the router sets ``scope["route"]`` once it matched."""
        return getattr(scope.get("route"), "path", "unmatched")
