"""The one-command demo: Redis, the simulated bank services and the BFF together.

The simulators run as a separate process (`python -m sim`), exactly as real
downstream services would; the BFF only learns their URLs from the endpoints
file the simulators write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bff.app import create_app
from bff.auth.dev_issuer import DevIssuer
from bff.cli import run_server
from bff.logging_setup import configure_logging
from bff.settings import Settings
from bff.store.private_server import PrivateRedis, RedisUnavailable, start_private_redis


class DemoError(RuntimeError):
    """The demo cannot start; the message says what to do."""


def run_demo(settings: Settings, workdir: Path) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    private: PrivateRedis | None = None
    sims: subprocess.Popen[bytes] | None = None
    try:
        redis_url, private = _redis(settings, workdir)
        sims, endpoints = start_simulators(workdir)
        issuer = DevIssuer(workdir / "issuer", settings.auth_issuer, settings.auth_audience)
        jwks = issuer.write_public_jwks(workdir / "issuer" / "jwks.json")
        settings = settings.model_copy(
            update={"redis_url": redis_url, "channel_endpoints": endpoints, "auth_jwks_file": jwks}
        )
        _banner(settings, endpoints, workdir)
        configure_logging("WARNING")
        run_server(create_app(settings), settings)
        return 0
    except (DemoError, RedisUnavailable) as exc:
        print(f"bff demo: {exc}", file=sys.stderr)
        return 2
    finally:
        if sims is not None:
            sims.terminate()
            sims.wait(timeout=10)
        if private is not None:
            private.stop()


def _redis(settings: Settings, workdir: Path) -> tuple[str, PrivateRedis | None]:
    if settings.redis_url:
        print(f"[demo] using Redis at {settings.redis_url}", flush=True)
        return settings.redis_url, None
    print("[demo] no REDIS_URL given: starting a private redis-server", flush=True)
    private = start_private_redis(workdir / "redis")
    print(f"[demo] private Redis on {private.url}", flush=True)
    return private.url, private


def start_simulators(workdir: Path, timeout_s: float = 60.0) -> tuple[subprocess.Popen[bytes], Path]:
    """Run the simulators on free ports; return the process and its endpoints file."""
    endpoints = workdir / "sim-endpoints.json"
    endpoints.unlink(missing_ok=True)
    log = (workdir / "sim.log").open("wb")
    print("[demo] starting the simulated bank services (8 services x 2 data centres)", flush=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "--base-port", "0", "--topology-file", str(endpoints)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + timeout_s
    while not endpoints.exists():
        if process.poll() is not None:
            raise DemoError(f"the simulators exited with {process.returncode}; see {workdir / 'sim.log'}")
        if time.monotonic() > deadline:
            process.kill()
            raise DemoError(
                f"the simulators did not start within {timeout_s:.0f} s; see {workdir / 'sim.log'}"
            )
        time.sleep(0.1)
    return process, endpoints


FIRST_QUERY = (
    "{ me { profile { name } accounts { name balance { amount currency } } "
    "cards { maskedNumber } wealth { total { amount } } unreadMessageCount } "
    "contentFeed(first: 3) { nodes { title kind } } }"
)


def _banner(settings: Settings, endpoints: Path, workdir: Path) -> None:
    topology = json.loads(endpoints.read_text())
    base = f"http://{settings.host}:{settings.port}"
    query = json.dumps({"query": FIRST_QUERY})
    lines = [
        "",
        f"BFF on {base}  (Ctrl-C stops everything)",
        f"  GraphQL endpoint:        {base}/graphql  (GraphiQL in a browser, development only)",
        f"  a customer token:        TOKEN=$(.venv/bin/bff token --issuer-dir {workdir / 'issuer'})",
        "                           (--subject RCB002-00007 for another customer, --role employee ...)",
        "  a first query:           curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        f"                             -d '{query}' {base}/graphql",
        f"  readiness and breakers:  curl {base}/readyz",
        f"  Prometheus metrics:      curl {base}/metrics",
        f"simulator control API: {topology['control_url']}",
        f"  take cards dc-a down:    curl -X PUT -d '{{\"down\": true}}' {topology['control_url']}/faults/cards/dc-a",
        f"  clear every fault:       curl -X DELETE {topology['control_url']}/faults",
        f"  service URLs:            {endpoints}",
        "",
    ]
    print("\n".join(lines), flush=True)
