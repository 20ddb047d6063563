"""Channel calls for an instruction count: `--calls` calls through the channel layer, 8 at a time.

Each iteration asks the CRM for a profile (OAuth, JSON) and core banking for
the accounts (XML), through the adapters and the shared `ChannelClient`, to
the simulators (started here, in their own process). Timings on a shared VM
move by 30 %; callgrind's instruction counts do not, so compare two versions
of the channel layer with:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python benchmarks/channel_instructions.py --calls 400
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python benchmarks/channel_instructions.py --calls 0

and take (first - second) / 400 as the instructions per call. Timeouts are
raised far above the registry's, because everything runs about 50x slower
under valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import tempfile
from dataclasses import replace
from pathlib import Path

import uvloop

from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.channels.models import CustomerScope
from bff.channels.registry import Registry, load_registry
from bff.demo import start_simulators

SCOPE = CustomerScope("RCB001-00042", "RCB001")
CONCURRENCY = 8


def patient(registry: Registry) -> Registry:
    """The registry with timeouts no call under valgrind reaches."""
    return Registry(
        {
            name: replace(spec, timeout_ms=120_000, deadline_ms=240_000, queue_timeout_ms=60_000)
            for name, spec in registry.services.items()
        }
    )


async def run(endpoints: Path, calls: int) -> None:
    async with ChannelClient(patient(load_registry(endpoints_file=endpoints))) as client:
        channels = Channels.over(client)

        async def pairs(count: int) -> None:
            for _ in range(count):
                await channels.crm.profile(SCOPE)
                await channels.core_banking.accounts(SCOPE)

        await pairs(10)  # warm: tokens, connections
        await asyncio.gather(*(pairs(calls // 2 // CONCURRENCY) for _ in range(CONCURRENCY)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--calls", type=int, default=400, help="a multiple of 16: half CRM, half core banking"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            simulators, endpoints = start_simulators(Path(tmp))
        try:
            uvloop.run(run(endpoints, args.calls))
        finally:
            simulators.terminate()
            simulators.wait()


if __name__ == "__main__":
    main()
