"""Start a real `bff serve` process, as an operator would, and talk to it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import free_port

BFF = [sys.executable, "-m", "bff.cli"]


@dataclass
class BffServer:
    process: subprocess.Popen[bytes]
    port: int
    log_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_bff(
    directory: Path, env: Mapping[str, str], ready_within_s: float = 30, port: int | None = None
) -> BffServer:
    """`bff serve` on `port` (default: a free one) with `env` added to ours; returns once /readyz is 200."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_file = directory / "bff.log"
    # Only `env` configures it: settings of the shell running the tests must not leak in.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("BFF_", "REDIS_URL"))}
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [*BFF, "serve"],
            env={**inherited, "PYTHONUNBUFFERED": "1", **env, "BFF_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = BffServer(process, port, log_file)
    try:
        _wait_ready(server, ready_within_s)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: BffServer, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    last: Any = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"bff serve exited with {server.process.returncode} before it was ready; "
                f"see {server.log_file}"
            )
        try:
            answer = httpx.get(f"{server.url}/readyz", timeout=1)
        except httpx.TransportError as exc:
            last = exc
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text}"
        time.sleep(0.1)
    raise TimeoutError(
        f"bff serve on port {server.port} not ready within {limit_s}s (last /readyz: {last}); "
        f"see {server.log_file}"
    )


def breaker_states(client: httpx.Client) -> dict[str, dict[str, str]]:
    """Breaker state per service and data centre, as /readyz reports it."""
    states: dict[str, dict[str, str]] = client.get("/readyz").json()["breakers"]
    return states


def wait_for_closed_breakers(
    client: httpx.Client, drive: Any, services: tuple[str, ...], limit_s: float = 10
) -> None:
    """Call `drive()` (a query touching `services`) until every breaker of those services is closed.

    An open breaker turns half-open after `open_ms` but closes only when a real
    call succeeds through it, so traffic has to flow for the BFF to heal.
    """
    deadline = time.monotonic() + limit_s
    while True:
        states = breaker_states(client)
        not_closed = {
            f"{service}/{dc}": state
            for service in services
            for dc, state in states[service].items()
            if state != "closed"
        }
        if not not_closed:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"breakers still not closed after {limit_s}s: {not_closed}")
        drive()
        time.sleep(0.05)
