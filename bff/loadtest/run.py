"""One load test: start the stack, drive it with locust, drill failover if asked, check the objectives."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Final

import httpx

from bff.demo import DemoError
from bff.loadtest.failover import FailoverDrill
from bff.loadtest.locust_process import (
    REPORT,
    LocustPlan,
    LocustProcess,
    describe,
    locust_installed,
    user_classes,
)
from bff.loadtest.options import BREACHED, MET, NOT_RUN, RunOptions
from bff.loadtest.slo import Objectives, ObjectivesFileError, load_objectives
from bff.loadtest.stack import Stack, StackOptions, running_stack
from bff.loadtest.verdict import Judgement, judge
from bff.loadtest.workers import WorkerFailed
from bff.miniprograms.demo_samples import SamplesNotReleased
from bff.store.private_server import RedisUnavailable

PROGRESS_EVERY_S: Final = 5.0

Say = Callable[[str], None]


@dataclass
class Timeline:
    """When things happened, in seconds since locust's first statistics row."""

    failover_down_s: float | None = None
    failover_healed_s: float | None = None
    outage_served: dict[str, int] | None = None
    locust_exit_code: int | None = None
    notes: list[str] = field(default_factory=list)


def say_line(line: str) -> None:
    print(f"[loadtest] {line}", flush=True)


def run_loadtest(options: RunOptions, say: Say = say_line) -> int:
    """Run one load test; MET, BREACHED or NOT_RUN. Files land in `options.out`."""
    # Absolute: redis-server, the workers and locust each resolve paths from their own directory.
    options = replace(options, out=options.out.resolve(), slo_file=options.slo_file.resolve())
    try:
        objectives = load_objectives(options.slo_file)
    except ObjectivesFileError as exc:
        say(f"objectives file: {exc}")
        return NOT_RUN
    if not locust_installed():
        say(
            "locust is not installed: run loadtests/run (it installs the test extra) or pip install -e '.[test]'"
        )
        return NOT_RUN
    options.out.mkdir(parents=True, exist_ok=True)
    say(f"writing the report and logs to {options.out}")
    try:
        with running_stack(
            StackOptions(options.workers, options.trusted_documents), options.out / "stack", say
        ) as stack:
            timeline = _drive(options, stack, say)
    except (RedisUnavailable, DemoError, WorkerFailed, SamplesNotReleased, httpx.HTTPError) as exc:
        say(f"could not run: {exc}")
        return NOT_RUN
    return _verdict(options, objectives, timeline, say)


def _drive(options: RunOptions, stack: Stack, say: Say) -> Timeline:
    plan = LocustPlan(
        users=options.users,
        spawn_rate=options.spawn_rate,
        duration_s=options.duration_s,
        user_classes=tuple(user_classes(ux_admin=options.ux_admin)),
    )
    drill = FailoverDrill(stack.control_url, stack.services) if options.failover else None
    failover = f"; {drill.dc} of every service goes down at {plan.duration_s / 2:.0f} s" if drill else ""
    say(
        f"locust: {plan.users} users ({', '.join(plan.user_classes)}), spawn rate {plan.spawn_rate}/s, "
        f"{plan.duration_s} s over {len(stack.workers)} worker(s){failover}"
    )
    locust = LocustProcess(plan, options.out, _locust_env(options, stack), stack.worker_urls[0])
    conductor = Conductor(locust, plan, drill, say)
    try:
        while locust.running() and not conductor.overran():
            time.sleep(0.5)
            conductor.tick()
    finally:
        conductor.finish()
    return conductor.timeline


@dataclass
class Conductor:
    """Follows a running locust: progress lines, the failover drill at half time, the scenarios' notes."""

    locust: LocustProcess
    plan: LocustPlan
    drill: FailoverDrill | None
    say: Say
    timeline: Timeline = field(default_factory=Timeline)
    first_row: float | None = None
    next_report: float = 0.0

    def elapsed(self) -> float:
        """Seconds since locust's first statistics row, the start of its run time."""
        return time.monotonic() - self.first_row if self.first_row is not None else 0.0

    def tick(self) -> None:
        progress = self.locust.output.progress()
        if progress is not None and self.first_row is None:
            self.first_row = time.monotonic()
        drill, elapsed = self.drill, self.elapsed()
        if drill and self.timeline.failover_down_s is None and elapsed >= self.plan.duration_s / 2:
            drill.take_down()
            self.timeline.failover_down_s = elapsed
            self.say(f"failover: {drill.dc} of {len(drill.services)} services is hard down from now on")
        if time.monotonic() >= self.next_report:
            self.say(describe(progress, elapsed, self.plan.duration_s))
            self.next_report = time.monotonic() + PROGRESS_EVERY_S
        self.relay_notes()

    def overran(self) -> bool:
        if self.locust.overdue():
            self.say("locust overran its time bound; stopping it")
            return True
        return False

    def finish(self) -> None:
        """Stop locust (if it still runs) and heal the drill's data centre."""
        self.timeline.locust_exit_code = self.locust.stop()
        self.relay_notes()
        if self.drill is None:
            return
        outage = self.drill.heal()
        if outage is not None:
            self.timeline.failover_healed_s = self.elapsed()
            self.timeline.outage_served = outage.served
            self.say(f"failover: healed {self.drill.dc} of every service; {outage.describe()}")

    def relay_notes(self) -> None:
        for line in self.locust.output.new_notes():
            self.timeline.notes.append(line)
            self.say(f"scenario: {line}")


def _locust_env(options: RunOptions, stack: Stack) -> dict[str, str]:
    """How the locustfile learns where the workers are and whose tokens they trust."""
    return {
        "LOADTEST_BFF_URLS": ",".join(stack.worker_urls),
        "LOADTEST_ISSUER_DIR": str(stack.issuer_dir),
        "LOADTEST_DURATION_S": str(options.duration_s),
        "LOADTEST_MAX_REQUESTS": str(options.max_requests),
    }


def _verdict(options: RunOptions, objectives: Objectives, timeline: Timeline, say: Say) -> int:
    judgement = judge(options.out, objectives, timeline.locust_exit_code)
    if judgement is None:
        say(
            f"locust wrote no statistics (exit {timeline.locust_exit_code}); see {options.out / 'locust.log'}"
        )
        return NOT_RUN
    breaches = "".join(f"BREACH {breach}\n" for breach in judgement.breaches)
    (options.out / "slo.txt").write_text(judgement.table + "\n" + breaches)
    _write_summary(options, timeline, judgement)
    print(judgement.table, flush=True)
    say(f"report: {options.out / REPORT}")
    for breach in judgement.breaches:
        say(f"BREACH {breach}")
    if not judgement.ok:
        say(f"objectives breached ({len(judgement.breaches)}); exit {BREACHED}")
        return BREACHED
    say(f"every objective met ({len(judgement.verdicts)} operations)")
    return MET


def _write_summary(options: RunOptions, timeline: Timeline, judgement: Judgement) -> None:
    summary = {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "timeline": asdict(timeline),
        "operations": judgement.operations_json(),
        "breaches": judgement.breaches,
        "ok": judgement.ok,
    }
    (options.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
