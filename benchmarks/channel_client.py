"""CPU and latency per downstream call, by HTTP client stack, at 1 and 32 concurrent calls.

Every stack makes the same authenticated GET to the CRM simulator and decodes
the JSON body; the simulators run in a separate process, so the CPU time
measured here (time.process_time of this process) is the client's alone.

    .venv/bin/python benchmarks/channel_client.py [--calls 3000] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from bff.channels.call import Call
from bff.channels.client import ChannelClient
from bff.channels.registry import load_registry
from bff.demo import start_simulators

CUSTOMER = "RCB001-00042"
PATH = f"/v1/customers/{CUSTOMER}"

Caller = Callable[[], Awaitable[Any]]


ROUNDS = 3


async def measure(call: Caller, calls: int, concurrency: int) -> dict[str, float]:
    """The round with the median CPU cost, of ROUNDS rounds (the machine is shared and noisy)."""
    for _ in range(50):  # warm pools and caches
        await call()
    rounds = [await _round(call, calls, concurrency) for _ in range(ROUNDS)]
    return sorted(rounds, key=lambda r: r["cpu_us"])[len(rounds) // 2]


async def _round(call: Caller, calls: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []

    async def worker(n: int) -> None:
        for _ in range(n):
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    done = len(latencies)
    latencies.sort()
    return {
        "cpu_us": cpu / done * 1e6,
        "rps": done / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(done * 0.99) - 1] * 1000,
    }


async def token(url: str) -> str:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            url, data={"grant_type": "client_credentials"}, auth=("bff", "bff-dev-secret")
        )
        return str(answer.json()["access_token"])


async def run(
    topology: dict[str, Any], endpoints: Path, calls: int
) -> list[tuple[str, int, dict[str, float]]]:
    url = topology["services"]["crm"]["dc-a"] + PATH
    headers = {
        "Authorization": f"Bearer {await token(topology['oauth_token_url'])}",
        "X-Member-Bank": "RCB001",
    }
    results = []

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def raw_aiohttp() -> Any:
            async with session.get(url, headers=headers) as response:
                return orjson.loads(await response.read())

        results += [("raw aiohttp", c, await measure(raw_aiohttp, calls, c)) for c in (1, 32)]

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits) as plain:

        async def plain_httpx() -> Any:
            return orjson.loads((await plain.get(url, headers=headers)).content)

        results += [("httpx (plain)", c, await measure(plain_httpx, calls, c)) for c in (1, 32)]

    async with httpx.AsyncClient(transport=AiohttpTransport(limits=limits)) as bridged:

        async def httpx_on_aiohttp() -> Any:
            return orjson.loads((await bridged.get(url, headers=headers)).content)

        results += [("httpx + httpx-aiohttp", c, await measure(httpx_on_aiohttp, calls, c)) for c in (1, 32)]

    registry = load_registry(endpoints_file=endpoints)
    async with ChannelClient(registry) as channels:
        request = Call("GET", PATH, "crm.profile", True, headers={"X-Member-Bank": "RCB001"})

        async def channel_layer() -> Any:
            return await channels.call("crm", request, lambda reply: reply.json())

        results += [
            ("BFF channel layer (aiohttp)", c, await measure(channel_layer, calls, c)) for c in (1, 32)
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3200)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--rounds", type=int, default=3, help="report the median round")
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        process, endpoints = start_simulators(Path(tmp))
        try:
            topology = json.loads(endpoints.read_text())
            factory = None
            if args.loop == "uvloop":
                import uvloop

                factory = uvloop.new_event_loop
            with asyncio.Runner(loop_factory=factory) as runner:
                results = runner.run(run(topology, endpoints, args.calls))
        finally:
            process.terminate()
            process.wait()
    print(
        f"{args.calls} calls per row (median of {args.rounds} rounds), event loop {args.loop}, "
        "simulators in a separate process\n"
    )
    print("| client stack | concurrent calls | CPU us/call | calls/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, concurrency, r in results:
        print(
            f"| {name} | {concurrency} | {r['cpu_us']:.0f} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
