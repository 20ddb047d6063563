"""HomeScreen through our BFF and through a graphql-js server: CPU-ms per request, side by side.

Starts a private redis-server (for the BFF only), the simulators with
`--latency-ms` added to every downstream service, one production `bff serve`
and one `node benchmarks/graphqljs/server.mjs` (graphql-js over node:http and
fetch, the same aggregation over the same simulators). Checks first that both
answer the same data for a few customers, then drives each in turn with the
same load as benchmarks/home_screen.py (same query, concurrency and request
count, aiohttp client) and reads each server's CPU time from /proc/<pid>/stat.

    cd benchmarks/graphqljs && npm install   # once
    .venv/bin/python benchmarks/compare_graphqljs.py [--requests 2000] [--concurrency 16] [--latency-ms 20] [--rounds 1] [--node-clients fetch,http]

What the graphql-js server leaves out (so its figure is a lower bound for a
Node BFF doing all of ours): dc-b and failover, retries and their budget,
circuit breakers, bulkheads, deadlines beyond a per-call timeout, metrics,
structured logs, trusted-document enforcement, depth/complexity limits,
request-id/context plumbing beyond one header, Decimal money (it formats JSON
numbers with toFixed(2)). Both verify the ES256 bearer token once and cache
the verdict; both parse and validate the document once and cache it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Run as a script, benchmarks/ is sys.path[0] already; imported (e.g. by a test), it may not be.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import home_screen

from bff.auth.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
from bff.demo import start_simulators
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.store.private_server import free_port, start_private_redis

NODE_DIR = Path(__file__).resolve().parent / "graphqljs"
OPERATION = "HomeScreen"
LOAD_CUSTOMER = ("RCB001-00042", "RCB001")  # the customer home_screen.py loads
# Customers whose answers must match before any timing: several banks and shapes.
CHECK_CUSTOMERS = (LOAD_CUSTOMER, ("RCB001-00007", "RCB001"), ("RCB002-00013", "RCB002"))


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str


@dataclass(frozen=True, slots=True)
class Result:
    server: str
    round: int
    requests: int
    wall_s: float
    cpu_s: float
    latencies: list[float]
    overheads: list[float]
    errors: int


def start_bff(work: Path, redis_url: str, topology_file: Path, jwks: Path) -> Server:
    """One production `bff serve`, configured as benchmarks/home_screen.py does."""
    secrets_dir = work / "host-secrets"
    load_or_create_bridge_key(secrets_dir / "bridge-key.json")
    load_or_create_secret(secrets_dir / "pairwise-secret")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "BFF_PORT": str(port),
        "BFF_ENVIRONMENT": "production",
        "BFF_BRIDGE_SIGNING_KEY_FILE": str(secrets_dir / "bridge-key.json"),
        "BFF_PAIRWISE_SECRET_FILE": str(secrets_dir / "pairwise-secret"),
        "REDIS_URL": redis_url,
        "BFF_CHANNEL_ENDPOINTS": str(topology_file),
        "BFF_AUTH_JWKS_FILE": str(jwks),
        "BFF_LOG_LEVEL": "WARNING",
        "BFF_JOURNEYS_REQUIRE_DURABLE": "false",
    }
    process = home_screen.start([sys.executable, "-m", "bff.cli", "serve"], env, work / "bff.log")
    return Server("bff (strawberry)", process, f"http://127.0.0.1:{port}")


def start_node(work: Path, node: str, client: str, topology_file: Path, jwks: Path) -> Server:
    """server.mjs calling the services with `client`: fetch (undici) or http (node:http keep-alive Agent)."""
    port = free_port()
    cmd = [
        node,
        str(NODE_DIR / "server.mjs"),
        f"--topology={topology_file}",
        f"--jwks={jwks}",
        f"--issuer={DEV_ISSUER}",
        f"--audience={DEV_AUDIENCE}",
        f"--port={port}",
        f"--client={client}",
    ]
    process = home_screen.start(cmd, dict(os.environ), work / f"node-{client}.log")
    return Server(f"graphql-js ({client})", process, f"http://127.0.0.1:{port}")


def home_screen_data(server: Server, token: str) -> dict[str, Any]:
    query = (home_screen.OPERATIONS_DIR / home_screen.OPERATIONS[OPERATION]).read_text()
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "operationName": OPERATION, "variables": {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{server.name}: HTTP {response.status_code} {body.get('errors')}")
    data: dict[str, Any] = body["data"]
    return data


def differences(ours: Any, theirs: Any, path: str = "data") -> list[str]:
    """Every leaf where the two answers differ, as `path: ours != theirs`."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        keys = list(dict.fromkeys([*ours, *theirs]))
        return [d for k in keys for d in differences(ours.get(k), theirs.get(k), f"{path}.{k}")]
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [
            d
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def check_equivalent(servers: list[Server], issuer: DevIssuer) -> int:
    """Compare every field of the HomeScreen answer of each server with the BFF's; return mismatches."""
    mismatches = 0
    for customer, bank in CHECK_CUSTOMERS:
        token = issuer.mint(customer, bank)
        reference, *others = (home_screen_data(server, token) for server in servers)
        for server, data in zip(servers[1:], others, strict=True):
            found = differences(reference, data)
            mismatches += len(found)
            for line in found:
                print(f"MISMATCH {customer} {servers[0].name} vs {server.name}: {line}")
        me = reference["me"]
        print(
            f"checked {customer}: {len(me['accounts'])} accounts, {len(me['cards'])} cards, "
            f"{me['loans']['totalCount']} loans, wealth {me['wealth']['total']['amount']}, "
            f"{len(reference['contentFeed']['nodes'])} feed items"
        )
    return mismatches


def measure(server: Server, token: str, requests: int, concurrency: int, round_: int) -> Result:
    cpu0, wall0 = home_screen.cpu_seconds(server.process.pid), time.perf_counter()
    latencies, overheads, _, errors = asyncio.run(
        home_screen.load(f"{server.url}/graphql", token, requests, concurrency, OPERATION)
    )
    cpu, wall = home_screen.cpu_seconds(server.process.pid) - cpu0, time.perf_counter() - wall0
    return Result(server.name, round_, len(latencies), wall, cpu, latencies, overheads, errors)


def set_latency(topology: dict[str, Any], latency_ms: float) -> None:
    for service in home_screen.SERVICES:
        for dc in ("dc-a", "dc-b"):
            httpx.put(f"{topology['control_url']}/faults/{service}/{dc}", json={"latency_ms": latency_ms})


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def print_table(results: list[Result], args: argparse.Namespace, node_version: str) -> None:
    print(
        f"\n{OPERATION}, one process per server, {args.requests} requests at concurrency {args.concurrency}, "
        f"{args.latency_ms:.0f} ms added to every downstream call; node {node_version}, "
        f"python {sys.version.split()[0]}\n"
    )
    print(
        "| server | round | requests/s | CPU-ms/request | CPU cores used | latency p50 ms | latency p99 ms "
        "| overhead p50 ms | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        overhead = f"{statistics.median(r.overheads):.2f}" if r.overheads else "-"
        print(
            f"| {r.server} | {r.round} | {r.requests / r.wall_s:.0f} | {r.cpu_s * 1000 / r.requests:.2f} | "
            f"{r.cpu_s / r.wall_s:.2f} | {statistics.median(r.latencies):.1f} | "
            f"{home_screen.pct(r.latencies, 0.99):.1f} | {overhead} | {r.errors} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure each server this many times, alternating"
    )
    parser.add_argument("--node", default=shutil.which("node") or "node", help="the node binary")
    parser.add_argument(
        "--node-clients",
        default="fetch,http",
        help="comma-separated downstream clients of the graphql-js server, one server each: fetch, http",
    )
    args = parser.parse_args()
    if not (NODE_DIR / "node_modules" / "graphql").is_dir():
        raise SystemExit(f"graphql-js is not installed: cd {NODE_DIR} && npm install")
    node_version = subprocess.run([args.node, "--version"], capture_output=True, text=True, check=True).stdout
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis = start_private_redis(work / "redis")
        sims, topology_file = start_simulators(work)
        servers: list[Server] = []
        try:
            set_latency(json.loads(topology_file.read_text()), args.latency_ms)
            issuer = DevIssuer(work / "issuer")
            jwks = issuer.write_public_jwks(work / "jwks.json")
            servers.append(start_bff(work, redis.url, topology_file, jwks))
            for client in args.node_clients.split(","):
                servers.append(start_node(work, args.node, client.strip(), topology_file, jwks))
            for server in servers:
                home_screen.wait_for(
                    lambda s=server: httpx.get(f"{s.url}/readyz").status_code == 200,
                    server.name,
                )
            mismatches = check_equivalent(servers, issuer)
            print(f"equivalence check: {mismatches} mismatching fields")
            token = issuer.mint(*LOAD_CUSTOMER)
            for round_ in range(1, args.rounds + 1):
                order = servers if round_ % 2 else servers[::-1]  # neither always runs first
                for server in order:
                    results.append(measure(server, token, args.requests, args.concurrency, round_))
        finally:
            for server in servers:
                stop(server.process)
            stop(sims)
            redis.stop()
    print_table(results, args, node_version.strip())


if __name__ == "__main__":
    main()
