"""Liveness, readiness and Prometheus endpoints."""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bff.channels.breaker import BreakerState
from bff.channels.client import ChannelClient


async def healthz(_: Request) -> Response:
    """The process is up; says nothing about its dependencies."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when Redis answers and every service has a data centre whose breaker is not open."""
    redis_ok = await _redis_ok(request)
    channels: ChannelClient = request.app.state.channels
    services: dict[str, dict[str, str]] = {}
    for (service, dc), state in channels.breaker_states().items():
        services.setdefault(service, {})[dc] = state.value
    reachable = all(any(s != BreakerState.OPEN for s in dcs.values()) for dcs in services.values())
    ready = redis_ok and reachable
    body = {"ready": ready, "redis": "ok" if redis_ok else "unreachable", "breakers": services}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _redis_ok(request: Request) -> bool:
    try:
        async with asyncio.timeout(0.5):
            return bool(await request.app.state.redis.ping())
    except Exception:  # any failure to answer means not ready, whatever its type
        return False


async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
