"""The load test's command line: `loadtests/run [options]`, or `bff loadtest [options]`."""

from __future__ import annotations

import argparse
import signal
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any, Final

from bff.loadtest.options import NOT_RUN, RunOptions

DEFAULT_SLO: Final = Path(__file__).resolve().parents[2] / "loadtests" / "slo.toml"
MAX_DURATION_S: Final = 600
MAX_USERS: Final = 500
MAX_WORKERS: Final = 8
DESCRIPTION: Final = (
    "Start Redis, the simulators and N BFF workers; run the locust scenarios headless for a bounded "
    "time; write locust's HTML report and CSV files; check the objectives per operation. Exit 0 when "
    "every objective is met, 1 on a breach, 2 when the run could not happen."
)


def add_parser(commands: Any) -> None:
    """Register `loadtest` on the `bff` command's subparsers."""
    add_arguments(commands.add_parser("loadtest", help="run the load test and check its objectives"))


def main(argv: list[str] | None = None) -> int:
    """`loadtests/run`: the same options as `bff loadtest`."""
    parser = argparse.ArgumentParser(prog="loadtests/run", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("--workers", type=_bounded(1, MAX_WORKERS), default=2, help="BFF worker processes")
    parser.add_argument(
        "--users", type=_bounded(1, MAX_USERS), default=60, help="virtual users, the partner included"
    )
    parser.add_argument("--spawn-rate", type=_rate, default=10.0, help="users started per second")
    parser.add_argument(
        "--duration",
        type=_bounded(5, MAX_DURATION_S),
        default=60,
        help=f"seconds of load (at most {MAX_DURATION_S})",
    )
    parser.add_argument(
        "--failover",
        action="store_true",
        help="take data centre A of every service hard down at the middle of the run; heal at the end",
    )
    parser.add_argument("--out", type=Path, help="output folder (default var/loadtest/<timestamp>)")
    parser.add_argument("--slo", type=Path, default=DEFAULT_SLO, help="the objectives file")
    parser.add_argument(
        "--apq",
        action="store_true",
        help="run the workers with automatic persisted queries instead of trusted documents only",
    )
    parser.add_argument(
        "--ux-admin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the UX admin who switches a segment's profile mid-run (default: on; --no-ux-admin: off)",
    )
    parser.add_argument(
        "--max-requests",
        type=_bounded(1, 2_000_000),
        default=500_000,
        help="stop the users once this many requests were made",
    )


def run(parsed: argparse.Namespace) -> int:
    out = parsed.out or Path("var/loadtest") / time.strftime("%Y%m%d-%H%M%S")
    options = RunOptions(
        workers=parsed.workers,
        users=parsed.users,
        spawn_rate=parsed.spawn_rate,
        duration_s=parsed.duration,
        failover=parsed.failover,
        out=out,
        slo_file=parsed.slo,
        trusted_documents=not parsed.apq,
        ux_admin=parsed.ux_admin,
        max_requests=parsed.max_requests,
    )
    # Imported here: `bff` parses its command line without loading the stack's modules.
    from bff.loadtest.run import run_loadtest

    _stop_cleanly_on_signals()
    try:
        return run_loadtest(options)
    except KeyboardInterrupt:
        # Every process the run started has been stopped on the way out.
        print("[loadtest] interrupted", flush=True)
        return 130
    except Exception:
        # Exit 1 means "an objective was breached"; a crash of the runner must not read as one.
        traceback.print_exc()
        return NOT_RUN


def _stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM end the run through its clean-up, even if started with SIGINT ignored (`cmd &`)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_USERS:
        raise argparse.ArgumentTypeError(f"expected more than 0 and at most {MAX_USERS}, got {value}")
    return value


def _bounded(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value

    return parse
