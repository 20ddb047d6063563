"""Start a real `bff serve` process, as an operator would, and talk to it over HTTP."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bff.loadtest.workers import Worker, spawn_worker, wait_ready
from tests.support.processes import free_port

BFF = [sys.executable, "-m", "bff.cli"]


# A test's BFF is the product's own worker process (bff/loadtest/workers.py).
BffServer = Worker


def start_bff(
    directory: Path, env: Mapping[str, str], ready_within_s: float = 30, port: int | None = None
) -> BffServer:
    """`bff serve` on `port` (default: a free one) with `env` added to ours; returns once /readyz is 200."""
    port = port or free_port()
    server = spawn_worker({**env, "BFF_PORT": str(port)}, port, directory / "bff.log")
    try:
        wait_ready(server, ready_within_s)
    except BaseException:
        server.stop()
        raise
    return server


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
