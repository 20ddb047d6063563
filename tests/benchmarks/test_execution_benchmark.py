"""benchmarks/execution.py, short: both executors run the page without errors and report a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_both_executors_report_a_time_per_execution_and_per_field() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "execution.py"),
            "--items",
            "5",
            "--runs",
            "5",
            "--rounds",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [
        line
        for line in done.stdout.splitlines()
        if line.startswith("| ") and "executor" not in line and "---" not in line
    ]
    assert [row.split("|")[1].strip() for row in rows] == [
        "strawberry's execution context",
        "with the leaf fast path",
    ]
    for row in rows:
        per_execution, per_field = (float(cell) for cell in row.split("|")[2:4])
        assert per_execution > 0
        assert per_field > 0
