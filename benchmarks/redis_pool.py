"""CPU per Redis command by connection pool: redis-py's plain and blocking pools, and ours (bff.store.pool).

Starts a private redis-server and sends `--commands` GETs, `--concurrency` at
a time, through one pool kind. Timed (the best of 5 rounds of this process's
CPU), or counted with callgrind, which does not move with the machine's load:

    .venv/bin/python benchmarks/redis_pool.py                    # every pool, timed
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/redis_pool.py --pool waiting --commands 2000 --rounds 1   # and --commands 0

(instructions per command = (first - second) / 2000).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis
import uvloop

from bff.store.pool import DEFAULT_MAX_CONNECTIONS, pooled_redis
from bff.store.private_server import start_private_redis

POOLS: dict[str, Callable[[str], aioredis.Redis]] = {
    "plain": lambda url: aioredis.from_url(url, max_connections=DEFAULT_MAX_CONNECTIONS),
    "blocking": lambda url: aioredis.Redis(
        connection_pool=aioredis.BlockingConnectionPool.from_url(url, max_connections=DEFAULT_MAX_CONNECTIONS)
    ),
    "waiting": lambda url: pooled_redis(url),
}


async def cpu_us_per_command(client: aioredis.Redis, commands: int, concurrency: int, rounds: int) -> float:
    await client.set("bench:key", "value")

    async def worker(count: int) -> None:
        for _ in range(count):
            await client.get("bench:key")

    await worker(50)  # warm: connections
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        await asyncio.gather(*(worker(commands // concurrency) for _ in range(concurrency)))
        best = min(best, (time.process_time() - started) / max(commands, 1) * 1e6)
    return best


async def run(url: str, pools: list[str], commands: int, concurrency: int, rounds: int) -> None:
    print(f"{commands} GETs at concurrency {concurrency}, best of {rounds} rounds\n")
    print("| pool | CPU us per command |")
    print("| --- | ---: |")
    for name in pools:
        client = POOLS[name](url)
        try:
            print(f"| {name} | {await cpu_us_per_command(client, commands, concurrency, rounds):.0f} |")
        finally:
            await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool", choices=sorted(POOLS), help="one pool (default: every pool)")
    parser.add_argument("--commands", type=int, default=8000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pools = [args.pool] if args.pool else list(POOLS)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_private_redis(Path(tmp))
        try:
            uvloop.run(run(server.url, pools, args.commands, args.concurrency, args.rounds))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
