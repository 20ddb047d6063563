"""benchmarks/operations.py, short: one worker, two operations, a few requests; every figure present and no failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT_S = 120


def run_benchmark(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the benchmark; past LIMIT_S, stop it (it then stops every process it started) and fail."""
    command = [sys.executable, str(REPO / "benchmarks" / "operations.py"), *arguments]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BFF_", "REDIS_URL"))}
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"the benchmark did not finish within {LIMIT_S} s:\n{stderr[-4000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


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
    run = run_benchmark(
        [
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
