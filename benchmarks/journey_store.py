"""Journey transitions per second and latency, by Redis persistence setting.

Each setting gets its own redis-server (in a fresh directory under --dir, which
must be on the disk production would use: on tmpfs fsync costs nothing).

1. Through the store: journeys of the loan-application definition, each advanced
   through `update-details` by one worker at 1 and 16 concurrent journeys, so
   every transition is a real one (head read + transition script). One Python
   process drives it, so at 16 it measures the client as much as Redis.
2. Redis alone, with redis-benchmark when it is installed: a Lua script doing a
   transition's writes (journey hash, stream entry, idempotency record, three
   EXPIREs, SPUBLISH) from 1, 16 and 50 connections: what fsync costs Redis.

Figures are the median round.

    .venv/bin/python benchmarks/journey_store.py [--transitions 2000] [--rounds 3] [--dir /var/tmp]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import redis

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.connection import journey_redis
from bff.journeys.definitions import load_definitions
from bff.journeys.records import JourneyEvent
from bff.journeys.store import JourneyStore
from bff.store.private_server import free_port

SETTINGS: dict[str, tuple[str, ...]] = {
    "no persistence": ("--appendonly", "no"),
    "AOF, appendfsync everysec": ("--appendonly", "yes", "--appendfsync", "everysec"),
    "AOF, appendfsync always": ("--appendonly", "yes", "--appendfsync", "always"),
}
ACTOR = Actor(Channel.APP, JourneyRole.CUSTOMER, "RCB001-00042")
LOAN = {"product": "personal", "amount": "50000.00", "termMonths": 12}


# A transition's writes, for redis-benchmark (standalone only: it touches undeclared keys).
TRANSITION_WRITES = (
    "local j = KEYS[1] "
    "redis.call('HSET', j, 'state', 'draft', 'version', ARGV[1], 'data:update-details', ARGV[2]) "
    "redis.call('XADD', j .. ':events', '*', 'version', ARGV[1], 'payload', ARGV[2]) "
    "redis.call('HSET', j .. ':idempotency', ARGV[1], ARGV[1]) "
    "for _, k in ipairs({j, j .. ':events', j .. ':idempotency'}) do redis.call('EXPIRE', k, 2592000) end "
    "redis.call('SPUBLISH', j .. ':updates', ARGV[1]) return 1"
)
PAYLOAD_JSON = '{"amount":"52000.00","purpose":"a greenhouse for the cooperative","termMonths":36}'


def start_redis(directory: Path, settings: tuple[str, ...]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""]
    process = subprocess.Popen([*command, *settings], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    client.close()
    return process, port


async def one_round(store: JourneyStore, transitions: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []

    async def worker(count: int) -> None:
        event: JourneyEvent = await store.start(
            "loan-application",
            member_bank="RCB001",
            customer=ACTOR.id,
            actor=ACTOR,
            payload=LOAN,
            idempotency_key=str(uuid.uuid4()),
        )
        for n in range(count):
            started = time.perf_counter()
            event = await store.advance(
                event.journey_id,
                "update-details",
                expected_version=event.version,
                actor=ACTOR,
                payload={"termMonths": 3 + n % 300},
                idempotency_key=str(uuid.uuid4()),
            )
            latencies.append(time.perf_counter() - started)

    wall = time.perf_counter()
    await asyncio.gather(*(worker(transitions // concurrency) for _ in range(concurrency)))
    wall = time.perf_counter() - wall
    latencies.sort()
    return {
        "per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def measure(port: int, transitions: int, concurrency: int, rounds: int) -> dict[str, float]:
    client = journey_redis(f"redis://127.0.0.1:{port}/0")
    store = JourneyStore(client, load_definitions(), timeout_s=10.0)
    await one_round(store, 100, concurrency)  # load scripts, fill the pool
    results = [await one_round(store, transitions, concurrency) for _ in range(rounds)]
    await client.aclose()
    return sorted(results, key=lambda r: r["per_s"])[len(results) // 2]


def redis_alone(port: int, connections: int, requests: int) -> str:
    """redis-benchmark's summary for TRANSITION_WRITES: requests per second and p50."""
    command = ["redis-benchmark", "-p", str(port), "-c", str(connections), "-n", str(requests), "-q"]
    command += ["-r", "1000000", "EVAL", TRANSITION_WRITES, "1", "bench:j:__rand_int__", "7", PAYLOAD_JSON]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = output.replace("\r", "\n").strip().splitlines()[-1]
    per_s = float(summary.split(": ", 1)[1].split(" requests per second")[0])
    p50 = summary.rsplit("p50=", 1)[1].split(" ")[0]
    return f"{per_s:.0f} | {p50}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transitions", type=int, default=2000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="report the median round")
    parser.add_argument("--dir", type=Path, default=None, help="where the servers keep their files")
    args = parser.parse_args()
    print("Through the store:\n")
    print("| persistence | concurrent journeys | transitions/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, settings in SETTINGS.items():
        with tempfile.TemporaryDirectory(dir=args.dir) as directory:
            process, port = start_redis(Path(directory), settings)
            try:
                for concurrency in (1, 16):
                    r = asyncio.run(measure(port, args.transitions, concurrency, args.rounds))
                    print(
                        f"| {name} | {concurrency} | {r['per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
                    )
            finally:
                process.terminate()
                process.wait()
    if shutil.which("redis-benchmark") is None:
        print("\n(redis-benchmark is not installed: no Redis-alone figures)")
        return
    print("\nRedis alone (redis-benchmark):\n")
    print("| persistence | connections | scripts/s | p50 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, settings in SETTINGS.items():
        with tempfile.TemporaryDirectory(dir=args.dir) as directory:
            process, port = start_redis(Path(directory), settings)
            try:
                for connections in (1, 16, 50):
                    print(f"| {name} | {connections} | {redis_alone(port, connections, 30_000)} |")
            finally:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
