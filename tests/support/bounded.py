"""Running a long command from a test: bounded in time, and its processes stopped if it overruns."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


def clean_env() -> dict[str, str]:
    """This process's environment without BFF settings, so only the command's own flags configure it."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("BFF_", "REDIS_URL"))}


def run_bounded(command: list[str], cwd: Path, limit_s: float, what: str) -> subprocess.CompletedProcess[str]:
    """Run `command`; past `limit_s`, interrupt it (it then stops every process it started) and fail."""
    process = subprocess.Popen(
        command, env=clean_env(), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"{what} did not finish within {limit_s:.0f} s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
