"""The objectives file, and the verdict on locust's statistics: per operation, with breaches named."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bff.loadtest.command import DEFAULT_SLO
from bff.loadtest.slo import (
    Objective,
    Objectives,
    ObjectivesFileError,
    OperationStats,
    check,
    load_objectives,
    render_table,
)
from bff.loadtest.verdict import judge

STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Requests/s", "50%", "99%"]


def write_stats(out: Path, rows: list[tuple[str, int, int, str]]) -> None:
    """A locust `_stats.csv` (the columns the checker reads): name, requests, failures, p99."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "locust_stats.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STATS_HEADER)
        for name, requests, failures, p99 in rows:
            writer.writerow(
                ["POST" if name != "Aggregated" else "", name, requests, failures, "1.5", "20", p99]
            )


def write_objectives(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_shipped_objectives_file_loads_with_the_issue_failure_ratio() -> None:
    objectives = load_objectives(DEFAULT_SLO)
    assert objectives.default.max_failure_ratio == 0.001
    assert all(o.max_failure_ratio <= 0.001 for o in objectives.operations.values())


def test_operations_inherit_what_they_do_not_override(tmp_path: Path) -> None:
    path = write_objectives(
        tmp_path / "slo.toml",
        '[defaults]\nmax_failure_ratio = 0.001\np99_ms = 900\n[operations."graphql HomeScreen"]\np99_ms = 300\n',
    )
    objectives = load_objectives(path)
    assert objectives.for_operation("graphql HomeScreen") == Objective(0.001, 300.0)
    assert objectives.for_operation("bridge user.info") == Objective(0.001, 900.0)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[defaults]\np99_ms = 100\n", "max_failure_ratio must be a number"),
        ("[defaults]\nmax_failure_ratio = 1.5\np99_ms = 100\n", "is a fraction"),
        ("[defaults]\nmax_failure_ratio = 0.001\np99_ms = 100\np95_ms = 50\n", "unknown keys ['p95_ms']"),
        (
            '[defaults]\nmax_failure_ratio = 0.001\np99_ms = 100\n[operations."x"]\np99_ms = "fast"\n',
            '[operations."x"]: p99_ms must be a number',
        ),
        ("[defaults\n", "slo.toml"),
    ],
)
def test_a_bad_objectives_file_is_refused_naming_the_key(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ObjectivesFileError) as refused:
        load_objectives(write_objectives(tmp_path / "slo.toml", text))
    assert complaint in str(refused.value)


def test_failure_ratio_and_p99_are_each_checked_against_the_operations_bound() -> None:
    objectives = Objectives(Objective(0.001, 500.0), {"graphql Slow": Objective(0.001, 2000.0)})
    stats = [
        OperationStats("graphql Fine", 10_000, 10, 30.0, 5.0, 400.0),
        OperationStats("graphql Failing", 1_000, 2, 3.0, 5.0, 100.0),
        OperationStats("graphql Slow", 100, 0, 1.0, 900.0, 1500.0),
        OperationStats("graphql Late", 100, 0, 1.0, 90.0, 510.0),
    ]

    verdicts = {v.stats.name: v for v in check(stats, objectives)}

    assert verdicts["graphql Fine"].ok  # 0.1 % exactly is at the bound
    assert verdicts["graphql Slow"].ok
    assert verdicts["graphql Failing"].breach() == "graphql Failing: failure ratio 0.2000% over 0.10%"
    assert verdicts["graphql Late"].breach() == "graphql Late: p99 510 ms over 500 ms"


def test_the_table_has_a_line_per_operation_and_the_total() -> None:
    objectives = Objectives(Objective(0.001, 500.0))
    verdicts = check([OperationStats("graphql Accounts", 200, 1, 3.3, 4.0, 40.0)], objectives)
    table = render_table(verdicts, OperationStats("Aggregated", 200, 1, 3.3, 4.0, 40.0)).splitlines()
    assert table[0].startswith("operation")
    assert table[0].endswith("p50 ms  p99 ms  bound ms  ok")
    assert table[2].split() == ["graphql", "Accounts", "200", "1", "0.500%", "3.3", "4", "40", "500", "NO"]
    assert table[-1].split()[:4] == ["all", "operations", "200", "1"]


def test_judge_passes_a_clean_run(tmp_path: Path) -> None:
    write_stats(tmp_path, [("graphql HomeScreen", 500, 0, "120"), ("Aggregated", 500, 0, "120")])

    judgement = judge(tmp_path, Objectives(Objective(0.001, 500.0)), locust_exit_code=0)

    assert judgement is not None
    assert judgement.ok, judgement.breaches


def test_judge_names_every_breach_including_exceptions_in_the_scenarios(tmp_path: Path) -> None:
    write_stats(tmp_path, [("graphql HomeScreen", 500, 5, "900"), ("Aggregated", 500, 5, "900")])
    (tmp_path / "locust_exceptions.csv").write_text('Count,Message,Traceback,Nodes\n3,"KeyError",tb,local\n')

    judgement = judge(tmp_path, Objectives(Objective(0.001, 500.0)), locust_exit_code=0)

    assert judgement is not None
    assert judgement.breaches == [
        "graphql HomeScreen: failure ratio 1.0000% over 0.10%; p99 900 ms over 500 ms",
        "the scenarios raised 3 exception(s); see locust_exceptions.csv",
    ]


def test_judge_refuses_a_run_without_requests_or_statistics(tmp_path: Path) -> None:
    assert judge(tmp_path, Objectives(Objective(0.001, 500.0)), locust_exit_code=1) is None
    write_stats(tmp_path, [("Aggregated", 0, 0, "N/A")])
    judgement = judge(tmp_path, Objectives(Objective(0.001, 500.0)), locust_exit_code=0)
    assert judgement is not None
    assert judgement.breaches == ["no requests were made"]
