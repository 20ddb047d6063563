"""Registry variants for tests: one service with its policies tightened."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bff.channels.registry import BreakerPolicy, Registry, RetryPolicy


def tuned(
    registry: Registry,
    service: str,
    *,
    breaker: dict[str, Any] | None = None,
    retry: dict[str, Any] | None = None,
    only_dc: str | None = None,
    **fields: Any,
) -> Registry:
    spec = registry[service]
    if breaker:
        fields["breaker"] = replace(spec.breaker, **breaker) if spec.breaker else BreakerPolicy(**breaker)
    if retry:
        fields["retry"] = replace(spec.retry, **retry) if spec.retry else RetryPolicy(**retry)
    if only_dc:
        fields["data_centres"] = (spec.data_centre(only_dc),)
    return Registry({**registry.services, service: replace(spec, **fields)})


class FakeClock:
    """A monotonic clock tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
