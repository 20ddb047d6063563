"""The load test's one command, short: real processes, a few users, data centre A taken down half way.

Bounded in time (10 s of load, the whole run killed after 150 s) and in
requests (--max-requests); every request must succeed, failover included.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bff.loadtest.slo import read_stats
from tests.support.bounded import run_bounded

MAX_REQUESTS = 3_000


@pytest.mark.slow
def test_a_short_run_with_failover_meets_every_objective_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "loadtest"
    command = [
        sys.executable,
        "-m",
        "bff.loadtest",
        "--workers",
        "2",
        "--users",
        "8",
        "--spawn-rate",
        "8",
        "--duration",
        "10",
        "--failover",
        "--max-requests",
        str(MAX_REQUESTS),
        "--out",
        "loadtest",
    ]
    # A relative output folder, as an operator types it.
    run = run_bounded(command, cwd=tmp_path, limit_s=150, what="the load test")
    stdout, returncode = run.stdout + run.stderr, run.returncode

    assert returncode == 0, stdout[-6000:]
    assert "failover: dc-a of 8 services is hard down" in stdout
    for name in (
        "report.html",
        "locust_stats.csv",
        "locust_stats_history.csv",
        "locust_failures.csv",
        "slo.txt",
    ):
        assert (out / name).is_file(), name
    operations, aggregated = read_stats(out / "locust_stats_final.csv")
    assert aggregated is not None
    assert 0 < aggregated.requests <= MAX_REQUESTS
    assert aggregated.failures == 0
    names = {operation.name for operation in operations}
    assert {"graphql Accounts", "partner POST /apps/{appId}/versions"} <= names
    assert names & {"graphql ServerDrivenHome", "graphql HomeScreen"}
    releases = next(o for o in operations if o.name == "partner POST /apps/{appId}/release")
    assert releases.requests == 2  # to 20 %, then to everyone
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] is True
    assert summary["timeline"]["failover_down_s"] is not None
    outage = summary["timeline"]["outage_served"]
    assert outage["dc-a"] == 0
    assert outage["dc-b"] > 0
