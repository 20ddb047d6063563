"""locust, headless, as a child process: its command line, and its progress read from the history CSV."""

from __future__ import annotations

import csv
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

LOADTESTS: Final = Path(__file__).resolve().parents[2] / "loadtests"
LOCUSTFILE: Final = LOADTESTS / "locustfile.py"
CSV_PREFIX: Final = "locust"
REPORT: Final = "report.html"
# What the scenarios log for the operator (loadtests/locustfile.py's `note`), as locust formats it.
NOTE_MARK: Final = "/loadtests.note: "
# locust needs a few seconds after --run-time to stop its users and write the report.
STOP_TIMEOUT_S: Final = 10


@dataclass(frozen=True)
class LocustPlan:
    users: int
    spawn_rate: float
    duration_s: int
    user_classes: tuple[str, ...]


@dataclass(frozen=True)
class Progress:
    """The latest aggregated row of locust's history CSV (written every second)."""

    users: int
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p99_ms: float


def locust_installed() -> bool:
    return importlib.util.find_spec("locust") is not None


def locust_command(plan: LocustPlan, out: Path, host: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(plan.users),
        "--spawn-rate",
        str(plan.spawn_rate),
        "--run-time",
        f"{plan.duration_s}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--html",
        str(out / REPORT),
        "--csv",
        str(out / CSV_PREFIX),
        "--only-summary",
        # The objectives decide the verdict, not locust's "any failure" exit code.
        "--exit-code-on-error",
        "0",
        *plan.user_classes,
    ]


class LocustProcess:
    """A running locust; its console output goes to `out/locust.log`."""

    def __init__(self, plan: LocustPlan, out: Path, env: Mapping[str, str], host: str) -> None:
        for stale in (*out.glob(f"{CSV_PREFIX}_*.csv"), out / REPORT):
            stale.unlink(
                missing_ok=True
            )  # a rerun into the same folder must not be judged on the last run's files
        self.output = LocustOutput(out)
        self.started = time.monotonic()
        # Bounded whatever happens: the run time, locust's stop timeout, then some time to write files.
        self.deadline = self.started + plan.duration_s + STOP_TIMEOUT_S + 60
        with self.output.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                locust_command(plan, out, host),
                cwd=LOADTESTS.parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        return self.process.poll() is None

    def overdue(self) -> bool:
        return time.monotonic() > self.deadline

    def stop(self) -> int:
        """End locust if it still runs (SIGINT first: it writes its report on the way out)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S + 20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class LocustOutput:
    """What a running locust writes as it goes: its console log and its statistics history."""

    def __init__(self, out: Path) -> None:
        self.log_file = out / "locust.log"
        self.history = out / f"{CSV_PREFIX}_stats_history.csv"
        self._log_offset = 0

    def new_notes(self) -> list[str]:
        """The scenarios' notes logged since the last call (whole lines only)."""
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_offset)
                chunk = log.read()
        except FileNotFoundError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._log_offset += len(complete)
        lines = complete.decode("utf-8", errors="replace").splitlines()
        return [line.partition(NOTE_MARK)[2] for line in lines if NOTE_MARK in line]

    def progress(self) -> Progress | None:
        """The latest aggregated statistics, or None before the first row is written."""
        try:
            rows = read_csv(self.history)
        except FileNotFoundError:
            return None
        aggregated = [row for row in rows if row.get("Name") == "Aggregated"]
        if not aggregated:
            return None
        row = aggregated[-1]
        return Progress(
            users=int(_number(row.get("User Count"))),
            requests=int(_number(row.get("Total Request Count"))),
            failures=int(_number(row.get("Total Failure Count"))),
            rps=_number(row.get("Requests/s")),
            p50_ms=_number(row.get("50%")),
            p99_ms=_number(row.get("99%")),
        )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str | None) -> float:
    """locust writes "N/A" for a percentile of no requests."""
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


def describe(progress: Progress | None, elapsed_s: float, duration_s: int) -> str:
    """One progress line for the operator."""
    head = f"{min(elapsed_s, duration_s):4.0f}/{duration_s} s"
    if progress is None:
        return f"{head}  starting users"
    return (
        f"{head}  users {progress.users:3d}  {progress.rps:6.1f} req/s  requests {progress.requests:6d}  "
        f"failures {progress.failures:4d}  p50 {progress.p50_ms:5.0f} ms  p99 {progress.p99_ms:5.0f} ms"
    )


def user_classes(*, ux_admin: bool) -> Sequence[str]:
    """The locustfile's user classes to run; the UX admin's only when asked for."""
    classes = ["CustomerAppUser", "MiniProgramUser", "PartnerUser"]
    if ux_admin:
        classes.append("UxAdminUser")
    return classes
