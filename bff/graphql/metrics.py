"""Prometheus metrics of GraphQL operations, registered in a registry the app owns."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
ANONYMOUS = "anonymous"
OTHER = "other"


class Outcome(StrEnum):
    OK = "ok"  # data and no errors
    PARTIAL = "partial"  # data with errors (a downstream failed, say)
    ERROR = "error"  # executed, but no data
    REJECTED = "rejected"  # refused before execution (HTTP, auth, document, limits)


class GraphQLMetrics:
    def __init__(self, registry: CollectorRegistry, max_operations: int = 500) -> None:
        self._requests = Counter(
            "bff_graphql_requests",
            "GraphQL operations by operation name and outcome.",
            ("operation", "outcome"),
            registry=registry,
        )
        self._seconds = Histogram(
            "bff_graphql_request_seconds",
            "Time from receiving a GraphQL request to having an operation's result.",
            ("operation",),
            buckets=_BUCKETS,
            registry=registry,
        )
        # Operation names come from clients: cap the label values so that
        # made-up names cannot grow the series without bound.
        self._max_operations = max_operations
        self._names: set[str] = set()
        self._counters: dict[tuple[str, Outcome], Counter] = {}
        self._histograms: dict[str, Histogram] = {}

    def observe(self, operation: str | None, outcome: Outcome, seconds: float) -> None:
        label = self._label(operation)
        key = (label, outcome)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self._requests.labels(label, outcome.value)
        counter.inc()
        histogram = self._histograms.get(label)
        if histogram is None:
            histogram = self._histograms[label] = self._seconds.labels(label)
        histogram.observe(seconds)

    def _label(self, operation: str | None) -> str:
        if not operation:
            return ANONYMOUS
        if operation in self._names:
            return operation
        if len(self._names) >= self._max_operations:
            return OTHER
        self._names.add(operation)
        return operation
