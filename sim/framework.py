"""What every simulated service provides, and the middleware wrapped around it."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from sim.faults import DataCentreState
from sim.oauth import TokenStore

DC_STATE = web.AppKey("dc_state", DataCentreState)
TOKENS = web.AppKey("tokens", TokenStore)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SimService(Protocol):
    """A simulated back-office service; one instance is shared by both data centres."""

    name: str
    # OAuth scope a caller's bearer token must carry, or None for no auth.
    required_scope: str | None

    def add_routes(self, app: web.Application) -> None: ...

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        """An error in this service's own wire shape (XML, JSON, ...)."""
        ...


SERVICE: web.AppKey[SimService] = web.AppKey("service")


def reset_connection(request: web.Request) -> web.Response:
    """Drop the connection with a TCP RST, as a crashing peer or middlebox would.

    The returned response is never sent: aiohttp drops writes to a closed transport.
    """
    transport = request.transport
    if transport is None:
        return web.Response(status=499)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0 makes close() send RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return web.Response(status=499)


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[DC_STATE]
    service = request.app[SERVICE]
    faults = state.faults
    state.counters.requests += 1
    if faults.down:
        state.counters.rejected_while_down += 1
        return reset_connection(request)
    if state.roll(faults.reset_rate):
        state.counters.resets += 1
        return reset_connection(request)
    delay = faults.latency_ms + (state.rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0)
    if delay:
        await asyncio.sleep(delay / 1000)
    if state.roll(faults.error_rate):
        state.counters.injected_errors += 1
        return _tag(service.error_response(503, "SERVICE_UNAVAILABLE", "injected fault"), state, request)
    denied = _check_auth(request, service)
    if denied is not None:
        return _tag(denied, state, request)
    response = await handler(request)
    if state.roll(faults.malformed_rate) and isinstance(response, web.Response):
        state.counters.malformed += 1
        response = web.Response(status=200, body=b"\x00<<garbled", content_type=response.content_type)
    if faults.slow_body_ms and isinstance(response, web.Response):
        return await _dribble(request, response, state)
    return _tag(response, state, request)


def _check_auth(request: web.Request, service: SimService) -> web.Response | None:
    if service.required_scope is None or request.path == "/health":
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return service.error_response(401, "UNAUTHORIZED", "bearer token required")
    if not request.app[TOKENS].allows(token, service.required_scope):
        return service.error_response(401, "UNAUTHORIZED", "token invalid, expired or lacks scope")
    return None


def _tag(response: web.StreamResponse, state: DataCentreState, request: web.Request) -> web.StreamResponse:
    response.headers["X-Data-Centre"] = state.data_centre
    # Echo the caller's request id, as the bank's gateways do, so traces join up.
    request_id = request.headers.get("X-Request-ID")
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


async def _dribble(
    request: web.Request, response: web.Response, state: DataCentreState
) -> web.StreamResponse:
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_type = response.content_type
    stream.content_length = len(body)
    _tag(stream, state, request)
    await stream.prepare(request)
    chunks = max(1, min(10, len(body)))
    step = max(1, len(body) // chunks)
    for start in range(0, len(body), step):
        await asyncio.sleep(state.faults.slow_body_ms / 1000 / chunks)
        await stream.write(body[start : start + step])
    await stream.write_eof()
    return stream


def build_dc_app(service: SimService, state: DataCentreState, tokens: TokenStore) -> web.Application:
    """One data centre's HTTP app for `service`: its routes behind the fault middleware."""
    app = web.Application(middlewares=[fault_middleware])
    app[DC_STATE] = state
    app[SERVICE] = service
    app[TOKENS] = tokens
    service.add_routes(app)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "service": service.name})

    app.router.add_get("/health", health)
    return app
