"""The verdict on a finished run: its objectives checked against the files locust wrote."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bff.loadtest.locust_process import CSV_PREFIX, read_csv
from bff.loadtest.slo import Objectives, Verdict, check, read_stats, render_table


@dataclass(frozen=True)
class Judgement:
    table: str
    verdicts: list[Verdict]
    breaches: list[str]

    @property
    def ok(self) -> bool:
        return not self.breaches

    def operations_json(self) -> list[dict[str, Any]]:
        return [
            {
                **asdict(v.stats),
                "failure_ratio": v.stats.failure_ratio,
                "objective": asdict(v.objective),
                "ok": v.ok,
            }
            for v in self.verdicts
        ]


def judge(out: Path, objectives: Objectives, locust_exit_code: int | None) -> Judgement | None:
    """Check the run in `out`; None when locust wrote no statistics at all."""
    # The locustfile writes the complete figures at exit; locust's own file may miss the last second.
    stats_file = out / f"{CSV_PREFIX}_stats_final.csv"
    if not stats_file.exists():
        stats_file = out / f"{CSV_PREFIX}_stats.csv"
    if not stats_file.exists():
        return None
    operations, aggregated = read_stats(stats_file)
    verdicts = check(operations, objectives)
    breaches = [breach for verdict in verdicts if (breach := verdict.breach())]
    exceptions = user_exceptions(out)
    if exceptions:
        breaches.append(f"the scenarios raised {exceptions} exception(s); see {CSV_PREFIX}_exceptions.csv")
    if locust_exit_code not in (0, None):
        breaches.append(f"locust exited with {locust_exit_code}; see locust.log")
    if not operations:
        breaches.append("no requests were made")
    return Judgement(render_table(verdicts, aggregated), verdicts, breaches)


def user_exceptions(out: Path) -> int:
    """How many exceptions the scenarios' own code raised (locust counts them apart from failures)."""
    path = out / f"{CSV_PREFIX}_exceptions.csv"
    if not path.exists():
        return 0
    return sum(int(row.get("Count") or 0) for row in read_csv(path))
