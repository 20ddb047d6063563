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
import threading
import time
from pathlib import Path

import httpx

from bff.app import create_app
from bff.auth.dev_issuer import DevIssuer
from bff.cli import run_server
from bff.logging_setup import configure_logging
from bff.miniprograms.demo_samples import SamplesNotReleased, release_samples
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
        _banner(settings, endpoints, workdir, issuer)
        configure_logging("WARNING")
        threading.Thread(
            target=_release_samples_when_ready, args=(settings, issuer), name="demo-samples", daemon=True
        ).start()
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


# The repository's sample mini-programs, next to the package in a checkout.
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "miniprograms"


def _release_samples_when_ready(settings: Settings, issuer: DevIssuer, timeout_s: float = 60.0) -> None:
    """Once the BFF answers, release the sample mini-programs so the simulator page has something to run."""
    base = f"http://{settings.host}:{settings.port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        print("[demo] the BFF did not get ready; sample mini-programs not released", flush=True)
        return
    if not (SAMPLES_DIR / "demo-partner-key.json").exists():
        print(f"[demo] no sample mini-programs under {SAMPLES_DIR}; skipping them", flush=True)
        return
    try:
        release_samples(base, issuer, SAMPLES_DIR, say=lambda line: print(f"[demo] {line}", flush=True))
    except (SamplesNotReleased, httpx.HTTPError) as exc:
        print(f"[demo] sample mini-programs not released: {exc}", flush=True)


FIRST_QUERY = (
    "{ me { profile { name } accounts { name balance { amount currency } } "
    "cards { maskedNumber } wealth { total { amount } } unreadMessageCount } "
    "contentFeed(first: 3) { nodes { title kind } } }"
)


def _banner(settings: Settings, endpoints: Path, workdir: Path, issuer: DevIssuer) -> None:
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
        "mini-program simulator (the sample mini-programs are released a moment after start):",
        f"  {base}/miniprogram/simulator#token={issuer.mint('RCB001-00042', 'RCB001', ttl_s=8 * 3600)}",
        f"simulator control API: {topology['control_url']}",
        f"  take cards dc-a down:    curl -X PUT -d '{{\"down\": true}}' {topology['control_url']}/faults/cards/dc-a",
        f"  clear every fault:       curl -X DELETE {topology['control_url']}/faults",
        f"  service URLs:            {endpoints}",
        "",
    ]
    print("\n".join(lines), flush=True)
