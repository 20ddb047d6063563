"""Home-screen query through one BFF process: requests/s, CPU-ms per request, and overhead.

Starts a private redis-server, the simulators (with `--latency-ms` added to
every downstream service) and one `bff serve` process, then sends the
home-screen query from this process. The BFF's own overhead per request is
end-to-end latency minus its slowest downstream call, which the BFF reports in
its Server-Timing header.

    .venv/bin/python benchmarks/home_screen.py [--requests 2000] [--concurrency 16] [--latency-ms 20] [--operation ServerDrivenHome]
        [--profile profile.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bff.auth.dev_issuer import DevIssuer
from bff.demo import start_simulators
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.store.private_server import free_port, start_private_redis

OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "schemas" / "app-operations"
# The app's classic home screen (`me` and its fields) and the server-driven one (`homeScreen`).
OPERATIONS = {"HomeScreen": "home_screen.graphql", "ServerDrivenHome": "server_driven_home.graphql"}
SERVER_TIMING = re.compile(r"downstream;dur=([0-9.]+)")
INSIDE_BFF = re.compile(r"bff;dur=([0-9.]+)")
SERVICES = ("core_banking", "cards", "loans", "wealth", "payments", "content", "messages", "crm")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_for(check: Any, what: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


async def load(
    url: str, token: str, requests: int, concurrency: int, operation: str
) -> tuple[list[float], list[float], list[float], int]:
    latencies: list[float] = []
    overheads: list[float] = []
    inside: list[float] = []
    errors = 0
    query = (OPERATIONS_DIR / OPERATIONS[operation]).read_text()
    variables = {"appVersion": "6.0.0"} if operation == "ServerDrivenHome" else {}
    body = json.dumps({"query": query, "operationName": operation, "variables": variables}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker(n: int) -> None:
            nonlocal errors
            for _ in range(n):
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                    timing = response.headers.get("Server-Timing", "")
                elapsed = time.perf_counter() - started
                if response.status != 200 or b'"errors"' in payload:
                    errors += 1
                latencies.append(elapsed * 1000)
                found = SERVER_TIMING.search(timing)
                handled = INSIDE_BFF.search(timing)
                if found and handled:
                    overheads.append(elapsed * 1000 - float(found.group(1)))
                    inside.append(float(handled.group(1)) - float(found.group(1)))

        await worker(20)  # warm up caches and pools
        latencies.clear()
        overheads.clear()
        inside.clear()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    return latencies, overheads, inside, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--operation", choices=sorted(OPERATIONS), default="HomeScreen")
    parser.add_argument(
        "--profile", metavar="FILE", help="run the BFF under pyinstrument and write its text profile to FILE"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis = start_private_redis(work / "redis")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        sims, topology_file = start_simulators(work)
        bff: subprocess.Popen[bytes] | None = None
        try:
            topology = json.loads(topology_file.read_text())
            for service in SERVICES:
                for dc in ("dc-a", "dc-b"):
                    httpx.put(
                        f"{topology['control_url']}/faults/{service}/{dc}",
                        json={"latency_ms": args.latency_ms},
                    )
            issuer = DevIssuer(work / "issuer")
            secrets_dir = work / "host-secrets"
            load_or_create_bridge_key(secrets_dir / "bridge-key.json")
            load_or_create_secret(secrets_dir / "pairwise-secret")
            port = free_port()
            bff_env = {
                **env,
                "BFF_PORT": str(port),
                "BFF_ENVIRONMENT": "production",
                "BFF_BRIDGE_SIGNING_KEY_FILE": str(secrets_dir / "bridge-key.json"),
                "BFF_PAIRWISE_SECRET_FILE": str(secrets_dir / "pairwise-secret"),
                "REDIS_URL": redis.url,
                "BFF_CHANNEL_ENDPOINTS": str(topology_file),
                "BFF_AUTH_JWKS_FILE": str(issuer.write_public_jwks(work / "jwks.json")),
                "BFF_LOG_LEVEL": "WARNING",
                "BFF_JOURNEYS_REQUIRE_DURABLE": "false",  # home screens write no journeys
            }
            serve = ["-m", "bff.cli", "serve"]
            if args.profile:
                serve = ["-m", "pyinstrument", "-r", "text", "-p", "flat", "-o", args.profile, *serve]
            bff = start([sys.executable, *serve], bff_env, work / "bff.log")
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, "bff")
            token = issuer.mint("RCB001-00042", "RCB001")
            cpu0, wall0 = cpu_seconds(bff.pid), time.perf_counter()
            latencies, overheads, inside, errors = asyncio.run(
                load(f"{base}/graphql", token, args.requests, args.concurrency, args.operation)
            )
            cpu, wall = cpu_seconds(bff.pid) - cpu0, time.perf_counter() - wall0
        finally:
            for process in (bff, sims):
                if process is not None:
                    if process.poll() is None:
                        # SIGINT: uvicorn re-raises it as KeyboardInterrupt, so pyinstrument writes its report.
                        process.send_signal(signal.SIGINT)
                    try:
                        process.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
            redis.stop()
    done = len(latencies)
    print(
        f"{args.operation}, 1 BFF process, {done} requests at concurrency {args.concurrency}, "
        f"{args.latency_ms:.0f} ms added to every downstream call, errors: {errors}\n"
    )
    print(
        "| concurrency | requests/s | BFF CPU-ms/request | latency p50 ms | latency p99 ms "
        "| overhead p50 ms | overhead p99 ms | inside-BFF overhead p50 ms |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.concurrency} | {done / wall:.0f} | {cpu * 1000 / done:.2f} | {statistics.median(latencies):.1f} | "
        f"{pct(latencies, 0.99):.1f} | {statistics.median(overheads):.2f} | {pct(overheads, 0.99):.2f} | "
        f"{statistics.median(inside):.2f} |"
    )


if __name__ == "__main__":
    main()
