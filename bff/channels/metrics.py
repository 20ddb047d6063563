"""Prometheus metrics of downstream calls, registered in a registry the app owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bff.channels.breaker import BreakerState

_BREAKER_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ChannelMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._calls = Counter(
            "bff_downstream_requests",
            "Downstream HTTP attempts by service, data centre and outcome.",
            ("service", "data_centre", "outcome"),
            registry=registry,
        )
        self._latency = Histogram(
            "bff_downstream_request_seconds",
            "Latency of downstream HTTP attempts.",
            ("service", "data_centre"),
            buckets=_BUCKETS,
            registry=registry,
        )
        self._retries = Counter(
            "bff_downstream_retries",
            "Retries of idempotent downstream calls.",
            ("service",),
            registry=registry,
        )
        self._breaker = Gauge(
            "bff_downstream_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ("service", "data_centre"),
            registry=registry,
        )
        # labels() costs a dict lookup plus a lock; cache the children we touch.
        self._call_children: dict[tuple[str, str, str], Counter] = {}
        self._latency_children: dict[tuple[str, str], Histogram] = {}

    def attempt(self, service: str, data_centre: str, outcome: str, seconds: float) -> None:
        key = (service, data_centre, outcome)
        counter = self._call_children.get(key)
        if counter is None:
            counter = self._call_children[key] = self._calls.labels(*key)
        counter.inc()
        hist = self._latency_children.get(key[:2])
        if hist is None:
            hist = self._latency_children[key[:2]] = self._latency.labels(service, data_centre)
        hist.observe(seconds)

    def retry(self, service: str) -> None:
        self._retries.labels(service).inc()

    def breaker(self, service: str, data_centre: str, state: BreakerState) -> None:
        self._breaker.labels(service, data_centre).set(_BREAKER_VALUE[state])
