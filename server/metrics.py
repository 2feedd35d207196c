"""Prometheus metrics, one registry per application (no module-level collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "plenaria_http_requests",
            "HTTP requests answered, by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_seconds = Histogram(
            "plenaria_http_request_seconds",
            "Time to answer an HTTP request, by route.",
            ["route"],
            registry=self.registry,
        )
        self.realtime_connections = Gauge(
            "plenaria_realtime_connections",
            "Open WebSocket connections.",
            registry=self.registry,
        )
        self.programme_sessions = Gauge(
            "plenaria_programme_sessions",
            "Sessions in the current programme.",
            registry=self.registry,
        )
