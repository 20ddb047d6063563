"""BFF worker processes: N `bff serve` processes on N loopback ports, one Redis behind them all.

`bff serve` runs one uvicorn process; a load balancer in front of several is
what production has, so the load test spreads its virtual users over the
workers' URLs instead (each user keeps one worker, as a sticky connection
would).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bff.store.private_server import free_port


class WorkerFailed(RuntimeError):
    """A worker exited or did not get ready; the message names its log."""


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path
    profiled: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            # uvicorn re-raises SIGTERM after shutting down, which would end pyinstrument
            # before it writes; SIGINT comes back as KeyboardInterrupt, which it survives.
            self.process.send_signal(signal.SIGINT if self.profiled else signal.SIGTERM)
            try:
                # Rendering a profile of a long run takes a while.
                self.process.wait(timeout=60 if self.profiled else 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_workers(
    count: int,
    env: Mapping[str, str],
    log_dir: Path,
    ready_within_s: float = 60,
    profile_dir: Path | None = None,
) -> list[Worker]:
    """Start `count` workers with `env` (plus each one's port and public URL); return once all are ready.

    With `profile_dir`, each worker runs under pyinstrument and writes its
    flat profile there (`bff-N.txt`) when it stops.
    """
    ports = [free_port() for _ in range(count)]
    origins = [f"http://127.0.0.1:{port}" for port in ports]
    shared = {**env, "BFF_MINIPROGRAM_HOST_ORIGINS": json.dumps(origins)}
    workers: list[Worker] = []
    try:
        for number, (port, origin) in enumerate(zip(ports, origins, strict=True), start=1):
            own = {**shared, "BFF_PORT": str(port), "BFF_PUBLIC_URL": origin}
            profile = profile_dir / f"bff-{number}.txt" if profile_dir is not None else None
            workers.append(spawn_worker(own, port, log_dir / f"bff-{number}.log", profile))
        for worker in workers:
            wait_ready(worker, ready_within_s)
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers: Sequence[Worker]) -> None:
    for worker in workers:
        worker.stop()


def spawn_worker(env: Mapping[str, str], port: int, log_file: Path, profile: Path | None = None) -> Worker:
    """`bff serve` configured by `env` only (it must name the port); returns at once, not yet ready."""
    command = [sys.executable, "-m", "bff.cli", "serve"]
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
        command[1:1] = ["-m", "pyinstrument", "-r", "text", "-p", "flat", "-o", str(profile)]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # Only `env` configures a worker: BFF_* settings of the operator's shell must not leak in.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("BFF_", "REDIS_URL"))}
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command,
            env={**inherited, "PYTHONUNBUFFERED": "1", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, port, log_file, profiled=profile is not None)


def wait_ready(worker: Worker, limit_s: float) -> None:
    """Return once the worker's /readyz answers 200; WorkerFailed if it exits or the time runs out."""
    deadline = time.monotonic() + limit_s
    last = "no answer"
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise WorkerFailed(
                f"bff serve exited with {worker.process.returncode} before it was ready; see {worker.log_file}"
            )
        try:
            answer = httpx.get(f"{worker.url}/readyz", timeout=1)
        except httpx.TransportError as exc:
            last = str(exc)
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        time.sleep(0.1)
    raise WorkerFailed(
        f"bff serve on port {worker.port} not ready within {limit_s:.0f} s (last /readyz: {last}); "
        f"see {worker.log_file}"
    )
