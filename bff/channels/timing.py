"""Per-request record of downstream time, for the Server-Timing header and overhead figures.

The HTTP layer sets a fresh `DownstreamTiming` for each inbound request; the
channel client adds every attempt to it. The slowest call is the floor of the
request's latency, so end-to-end minus slowest is the BFF's own overhead.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class DownstreamTiming:
    calls: int = 0
    slowest_s: float = 0.0
    total_s: float = 0.0

    def observe(self, seconds: float) -> None:
        self.calls += 1
        self.total_s += seconds
        if seconds > self.slowest_s:
            self.slowest_s = seconds

    def server_timing(self, handled_s: float) -> str:
        """The Server-Timing header value (W3C Server Timing), durations in ms.

        `bff` is the whole request inside the BFF, `downstream` its slowest call.
        """
        return (
            f"bff;dur={handled_s * 1000:.2f}, "
            f'downstream;dur={self.slowest_s * 1000:.2f};desc="slowest of {self.calls} calls", '
            f"downstream-total;dur={self.total_s * 1000:.2f}"
        )


current_timing: ContextVar[DownstreamTiming | None] = ContextVar("current_timing", default=None)


# Monotonic time (time.monotonic) by which the inbound request must be answered;
# no downstream call waits past it, whatever its own deadline.
request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)
