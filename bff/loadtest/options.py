"""What one load test run is asked to do (from `loadtests/run`'s or `bff loadtest`'s options)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

# Exit statuses: every objective met, an objective breached, the run itself could not happen.
MET: Final = 0
BREACHED: Final = 1
NOT_RUN: Final = 2


@dataclass(frozen=True)
class RunOptions:
    workers: int
    users: int
    spawn_rate: float
    duration_s: int
    failover: bool
    out: Path
    slo_file: Path
    trusted_documents: bool
    ux_admin: bool
    max_requests: int
