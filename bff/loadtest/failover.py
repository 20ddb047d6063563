"""The failover drill: data centre A of every downstream service hard down, then healed.

"Hard down" is the simulators' `{"down": true}` fault: the listener closes,
new connections are refused and open ones reset, as when a data centre's
network is cut. The BFF must carry on from data centre B. The simulators'
request counters, read when the drill starts and ends, show where the
traffic went meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import httpx

DOWN_DC: Final = "dc-a"


@dataclass(frozen=True)
class Outage:
    """Requests each data centre's servers answered while the drill's data centre was down."""

    down_dc: str
    served: dict[str, int]

    def describe(self) -> str:
        counts = ", ".join(f"{dc} {count}" for dc, count in sorted(self.served.items()))
        return f"requests answered by the simulators while {self.down_dc} was down: {counts}"


@dataclass
class FailoverDrill:
    control_url: str
    services: Sequence[str]
    dc: str = DOWN_DC
    down: bool = field(default=False, init=False)
    _before: dict[str, int] = field(default_factory=dict, init=False)

    def take_down(self) -> None:
        with httpx.Client(base_url=self.control_url, timeout=5) as control:
            for service in self.services:
                control.put(f"/faults/{service}/{self.dc}", json={"down": True}).raise_for_status()
            # Counted once all are down: a request that arrived before counts as before.
            self._before = _served(control)
        self.down = True

    def heal(self) -> Outage | None:
        """Clear every fault (safe when nothing is down); the outage's traffic if the drill had started."""
        with httpx.Client(base_url=self.control_url, timeout=5) as control:
            after = _served(control) if self.down else {}
            control.delete("/faults").raise_for_status()
        was_down, self.down = self.down, False
        if not was_down:
            return None
        return Outage(self.dc, {dc: count - self._before.get(dc, 0) for dc, count in after.items()})


def _served(control: httpx.Client) -> dict[str, int]:
    """Requests answered so far (not reset for being down), per data centre, over every service."""
    answer = control.get("/stats")
    answer.raise_for_status()
    served: dict[str, int] = {}
    for key, counters in answer.json().items():
        _service, slash, dc = key.partition("/")
        if slash:
            answered = int(counters["requests"]) - int(counters["rejected_while_down"])
            served[dc] = served.get(dc, 0) + answered
    return served
