"""A circuit breaker per service and data centre.

Closed until `failure_threshold` consecutive failures, then open for
`open_ms`; then half-open, letting `half_open_probes` real calls through. A
probe that succeeds closes it, one that fails opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from bff.channels.registry import BreakerPolicy


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateListener = Callable[[BreakerState], None]


class Breaker:
    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_change: StateListener | None = None,
    ) -> None:
        self._threshold = policy.failure_threshold
        self._open_s = policy.open_ms / 1000
        self._probes = policy.half_open_probes
        self._clock = clock
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._open_s:
            self._set(BreakerState.HALF_OPEN)
            self._probes_in_flight = 0
        return self._state

    def available(self) -> bool:
        """Would `try_acquire` let a call through now?"""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        return state is BreakerState.HALF_OPEN and self._probes_in_flight < self._probes

    def try_acquire(self) -> bool:
        """Reserve the right to send one call; every True must end in on_success/on_failure."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes_in_flight < self._probes:
            self._probes_in_flight += 1
            return True
        return False

    def release(self) -> None:
        """Give back a reservation whose call ended without a verdict (cancelled)."""
        if self._probes_in_flight > 0:
            self._probes_in_flight -= 1

    def on_success(self) -> None:
        self._failures = 0
        if self._state is not BreakerState.CLOSED:
            self._probes_in_flight = 0
            self._set(BreakerState.CLOSED)

    def on_failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._trip()
            return
        self._failures += 1
        if self._state is BreakerState.CLOSED and self._failures >= self._threshold:
            self._trip()

    def _trip(self) -> None:
        self._opened_at = self._clock()
        self._probes_in_flight = 0
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)
