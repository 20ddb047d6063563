"""Service-level objectives per operation, checked against locust's statistics CSV.

The objectives file (loadtests/slo.toml) gives defaults and per-operation
overrides, keyed by locust's request name:

    [defaults]
    max_failure_ratio = 0.001   # failed / all requests, at most
    p99_ms = 1000               # 99th percentile of response time, at most

    [operations."graphql HomeScreen"]
    p99_ms = 400
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

AGGREGATED: Final = "Aggregated"


class ObjectivesFileError(ValueError):
    """The objectives file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Objective:
    max_failure_ratio: float
    p99_ms: float


@dataclass(frozen=True)
class Objectives:
    default: Objective
    operations: Mapping[str, Objective] = field(default_factory=dict)

    def for_operation(self, name: str) -> Objective:
        return self.operations.get(name, self.default)


@dataclass(frozen=True)
class OperationStats:
    """One row of locust's `<prefix>_stats.csv`."""

    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Verdict:
    stats: OperationStats
    objective: Objective

    @property
    def failures_ok(self) -> bool:
        return self.stats.failure_ratio <= self.objective.max_failure_ratio

    @property
    def latency_ok(self) -> bool:
        return self.stats.p99_ms <= self.objective.p99_ms

    @property
    def ok(self) -> bool:
        return self.failures_ok and self.latency_ok

    def breach(self) -> str | None:
        """What this operation missed, in words, or None."""
        missed = []
        if not self.failures_ok:
            missed.append(
                f"failure ratio {self.stats.failure_ratio:.4%} over {self.objective.max_failure_ratio:.2%}"
            )
        if not self.latency_ok:
            missed.append(f"p99 {self.stats.p99_ms:.0f} ms over {self.objective.p99_ms:.0f} ms")
        return f"{self.stats.name}: {'; '.join(missed)}" if missed else None


def load_objectives(path: Path) -> Objectives:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ObjectivesFileError(f"{path}: {exc}") from exc
    default = _objective(document.get("defaults"), None, f"{path} [defaults]")
    operations = document.get("operations", {})
    if not isinstance(operations, dict):
        raise ObjectivesFileError(f"{path}: [operations] must be a table of operation names")
    return Objectives(
        default,
        {
            name: _objective(spec, default, f'{path} [operations."{name}"]')
            for name, spec in operations.items()
        },
    )


def _objective(spec: Any, default: Objective | None, where: str) -> Objective:
    if not isinstance(spec, dict):
        raise ObjectivesFileError(f"{where}: expected a table with max_failure_ratio and p99_ms")
    unknown = set(spec) - {"max_failure_ratio", "p99_ms"}
    if unknown:
        raise ObjectivesFileError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, float] = {}
    for key in ("max_failure_ratio", "p99_ms"):
        value = spec.get(key, getattr(default, key) if default else None)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ObjectivesFileError(f"{where}: {key} must be a number of at least 0, got {value!r}")
        values[key] = float(value)
    if values["max_failure_ratio"] > 1:
        raise ObjectivesFileError(f"{where}: max_failure_ratio is a fraction (0.001 = 0.1 %)")
    return Objective(**values)


def read_stats(path: Path) -> tuple[list[OperationStats], OperationStats | None]:
    """The per-operation rows of locust's stats CSV, and its aggregated row."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [_row(row) for row in csv.DictReader(handle)]
    operations = [row for row in rows if row.name != AGGREGATED]
    aggregated = next((row for row in rows if row.name == AGGREGATED), None)
    return operations, aggregated


def _row(row: Mapping[str, str]) -> OperationStats:
    return OperationStats(
        name=row["Name"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=_number(row["Requests/s"]),
        p50_ms=_number(row["50%"]),
        p99_ms=_number(row["99%"]),
    )


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:  # "N/A": no requests
        return 0.0


def check(operations: Iterable[OperationStats], objectives: Objectives) -> list[Verdict]:
    return [Verdict(stats, objectives.for_operation(stats.name)) for stats in operations]


def render_table(verdicts: Sequence[Verdict], aggregated: OperationStats | None) -> str:
    """operation, requests, failures, ratio, p50, p99, bound, ok: one line each, then the total."""
    header = ("operation", "requests", "failures", "ratio", "req/s", "p50 ms", "p99 ms", "bound ms", "ok")
    lines = [_cells(v.stats, v.objective, "yes" if v.ok else "NO") for v in verdicts]
    if aggregated is not None:
        lines.append(_cells(aggregated, None, ""))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def render(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * width for width in widths)
    body = [render(row) for row in lines]
    if aggregated is not None:
        body.insert(len(body) - 1, rule)
    return "\n".join([render(header), rule, *body])


def _cells(stats: OperationStats, objective: Objective | None, ok: str) -> tuple[str, ...]:
    return (
        stats.name if stats.name != AGGREGATED else "all operations",
        str(stats.requests),
        str(stats.failures),
        f"{stats.failure_ratio:.3%}",
        f"{stats.rps:.1f}",
        f"{stats.p50_ms:.0f}",
        f"{stats.p99_ms:.0f}",
        f"{objective.p99_ms:.0f}" if objective else "",
        ok,
    )
