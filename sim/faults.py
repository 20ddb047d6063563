"""Fault injection for one data centre of one simulated service.

Flipped at run time over the control API, so tests and load tests can take a
data centre down, slow it, or make it answer garbage while traffic flows.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class FaultSpecError(ValueError):
    """A fault setting is unknown or out of range; the message names it."""


@dataclass(slots=True)
class Faults:
    latency_ms: float = 0.0  # added before the handler runs
    jitter_ms: float = 0.0  # uniform extra latency in [0, jitter_ms]
    error_rate: float = 0.0  # share of requests answered 503 in the service's error shape
    down: bool = False  # listener closed: connections refused, open ones reset
    reset_rate: float = 0.0  # share of requests whose connection is reset, no answer
    malformed_rate: float = 0.0  # share answered 200 with a body that does not parse
    slow_body_ms: float = 0.0  # headers at once, body dribbled over this long

    @classmethod
    def from_json(cls, raw: Any) -> Faults:
        if not isinstance(raw, dict):
            raise FaultSpecError("faults: expected a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise FaultSpecError(f"faults: unknown setting(s) {unknown}; known: {sorted(known)}")
        faults = cls()
        for name, value in raw.items():
            if name == "down":
                if not isinstance(value, bool):
                    raise FaultSpecError("faults.down: expected true or false")
                faults.down = value
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise FaultSpecError(f"faults.{name}: expected a number >= 0")
            if name.endswith("_rate") and value > 1:
                raise FaultSpecError(f"faults.{name}: a rate is between 0 and 1")
            setattr(faults, name, float(value))
        return faults

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Counters:
    requests: int = 0
    injected_errors: int = 0
    resets: int = 0
    malformed: int = 0
    rejected_while_down: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class DataCentreState:
    service: str
    data_centre: str
    faults: Faults = field(default_factory=Faults)
    counters: Counters = field(default_factory=Counters)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate
