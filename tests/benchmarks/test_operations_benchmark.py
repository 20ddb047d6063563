"""benchmarks/operations.py, short: one worker, two operations, a few requests; every figure present and no failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.bounded import run_bounded

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 120


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The markdown table's rows by operation, cells as text."""
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] not in ("operation", "---"):
            rows[cells[0]] = cells
    return rows


@pytest.mark.slow
def test_a_short_run_reports_throughput_and_cpu_per_operation_without_failures(tmp_path: Path) -> None:
    run = run_bounded(
        [
            sys.executable,
            str(REPO / "benchmarks" / "operations.py"),
            "--workers",
            "1",
            "--requests",
            "30",
            "--warmup",
            "10",
            "--concurrency",
            "4",
            "--operations",
            "HomeScreen,Transfer",
            "--max-seconds",
            "30",
        ],
        cwd=tmp_path,
        limit_s=LIMIT_S,
        what="the benchmark",
    )

    assert run.returncode == 0, run.stderr[-4000:]
    rows = table_rows(run.stdout)
    assert sorted(rows) == ["HomeScreen", "Transfer"], run.stdout
    for operation, (_, workers, per_s, cpu_ms, p50, p99, failures) in rows.items():
        assert workers == "1", operation
        assert float(per_s) > 0, operation
        assert float(cpu_ms) > 0, operation
        assert 0 < float(p50) <= float(p99), operation
        assert failures == "0", operation
