"""Run every simulated service as two data centres, plus OAuth and a control API.

Port layout from a base port B: control on B, OAuth on B+1, then service i's
dc-a on B+2+2i and dc-b on B+3+2i. With B = 0 every port is ephemeral and the
topology file says where each one landed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from sim.faults import DataCentreState, Faults, FaultSpecError
from sim.framework import SimService, build_dc_app
from sim.oauth import TokenStore, build_oauth_app
from sim.population import Population
from sim.services import build_services

DATA_CENTRES = ("dc-a", "dc-b")


@dataclass
class DataCentreServer:
    state: DataCentreState
    runner: web.AppRunner
    host: str
    port: int
    site: web.SockSite | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        sock = listen_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        site = web.SockSite(self.runner, sock)
        await site.start()
        self.site = site

    async def stop_listening(self) -> None:
        if self.site is not None:
            await self.site.stop()
            self.site = None


@dataclass
class Simulator:
    host: str
    base_port: int
    population: Population
    tokens: TokenStore = field(default_factory=TokenStore)
    servers: dict[tuple[str, str], DataCentreServer] = field(default_factory=dict)
    services: list[SimService] = field(default_factory=list)
    _runners: list[web.AppRunner] = field(default_factory=list)
    control_port: int = 0
    oauth_port: int = 0

    def _port(self, offset: int) -> int:
        return 0 if self.base_port == 0 else self.base_port + offset

    async def start(self) -> None:
        self.services = build_services(self.population)
        self.control_port = await self._serve(build_control_app(self), self._port(0))
        self.oauth_port = await self._serve(build_oauth_app(self.tokens), self._port(1))
        for i, service in enumerate(self.services):
            for j, dc in enumerate(DATA_CENTRES):
                state = DataCentreState(service.name, dc)
                runner = web.AppRunner(build_dc_app(service, state, self.tokens), access_log=None)
                await runner.setup()
                self._runners.append(runner)
                server = DataCentreServer(state, runner, self.host, self._port(2 + 2 * i + j))
                await server.start()
                self.servers[(service.name, dc)] = server

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runners.append(runner)
        sock = listen_socket(self.host, port)
        await web.SockSite(runner, sock).start()
        bound: int = sock.getsockname()[1]
        return bound

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()

    async def set_faults(self, service: str, dc: str, faults: Faults) -> None:
        server = self.servers[(service, dc)]
        server.state.faults = faults
        if faults.down and server.site is not None:
            await server.stop_listening()
        elif not faults.down and server.site is None:
            await server.start()

    def topology(self) -> dict[str, Any]:
        services: dict[str, dict[str, str]] = {}
        for (name, dc), server in self.servers.items():
            services.setdefault(name, {})[dc] = server.url
        return {
            "control_url": f"http://{self.host}:{self.control_port}",
            "oauth_token_url": f"http://{self.host}:{self.oauth_port}/oauth/token",
            "services": services,
            "member_banks": sorted(self.population.banks),
            "customers_per_bank": self.population.customers_per_bank,
            "seed": self.population.seed,
        }


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one. SO_REUSEADDR lets a healed DC rebind."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def build_control_app(sim: Simulator) -> web.Application:
    """The control API: faults, counters and topology, over plain JSON."""

    def locate(request: web.Request) -> tuple[str, str] | web.Response:
        key = (request.match_info["service"], request.match_info["dc"])
        if key not in sim.servers:
            known = sorted({name for name, _ in sim.servers})
            return web.json_response(
                {"error": f"unknown service/data centre {key}; services: {known}, dcs: {list(DATA_CENTRES)}"},
                status=404,
            )
        return key

    async def get_faults(_: web.Request) -> web.Response:
        return web.json_response(
            {f"{name}/{dc}": s.state.faults.to_json() for (name, dc), s in sim.servers.items()}
        )

    async def put_faults(request: web.Request) -> web.Response:
        key = locate(request)
        if isinstance(key, web.Response):
            return key
        try:
            faults = Faults.from_json(await request.json())
        except (FaultSpecError, json.JSONDecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        await sim.set_faults(*key, faults)
        return web.json_response(faults.to_json())

    async def clear_faults(_: web.Request) -> web.Response:
        for name, dc in list(sim.servers):
            await sim.set_faults(name, dc, Faults())
        return web.json_response({"cleared": len(sim.servers)})

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(
            {f"{name}/{dc}": s.state.counters.to_json() for (name, dc), s in sim.servers.items()}
            | {"oauth": {"tokens_issued": sim.tokens.issued}}
        )

    async def clear_stats(_: web.Request) -> web.Response:
        for server in sim.servers.values():
            server.state.counters = type(server.state.counters)()
        return web.json_response({"cleared": True})

    async def revoke_tokens(_: web.Request) -> web.Response:
        sim.tokens.revoke_all()
        return web.json_response({"revoked": True})

    async def topology(_: web.Request) -> web.Response:
        return web.json_response(sim.topology())

    app = web.Application()
    app.router.add_get("/faults", get_faults)
    app.router.add_put("/faults/{service}/{dc}", put_faults)
    app.router.add_delete("/faults", clear_faults)
    app.router.add_get("/stats", get_stats)
    app.router.add_delete("/stats", clear_stats)
    app.router.add_post("/oauth/revoke-all", revoke_tokens)
    app.router.add_get("/topology", topology)
    return app


async def serve(host: str, base_port: int, seed: int, topology_file: Path | None) -> None:
    sim = Simulator(host=host, base_port=base_port, population=Population(seed=seed))
    await sim.start()
    topology = sim.topology()
    if topology_file is not None:
        # Write then rename so a reader polling for the file never sees half of it.
        tmp = topology_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(topology, indent=2))
        os.replace(tmp, topology_file)
    print(
        f"simulators ready: {len(sim.servers)} servers ({len(sim.services)} services x 2 data centres), "
        f"control {topology['control_url']}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="bff sim", description="Run the simulated bank services.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base-port", type=int, default=18700, help="0 picks free ports")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--topology-file", type=Path, help="write service URLs here once ready")
    args = parser.parse_args(argv)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(serve(args.host, args.base_port, args.seed, args.topology_file))
    except OSError as exc:
        print(f"bff sim: cannot listen: {exc}. Pick another --base-port (0 = free ports).", file=sys.stderr)
        return 2
    return 0
