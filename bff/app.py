"""The app factory: routes and lifespan, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Route

from bff.channels.client import ChannelClient
from bff.channels.metrics import ChannelMetrics
from bff.channels.registry import load_registry
from bff.health import healthz, metrics, readyz
from bff.settings import Settings


def create_app(settings: Settings) -> Starlette:
    """Build the BFF from `settings`; connections open in the lifespan, not here."""
    registry = load_registry(settings.channels_file, settings.channel_endpoints)
    metrics_registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = aioredis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
        channels = ChannelClient(registry, metrics=ChannelMetrics(metrics_registry))
        await channels.start()
        app.state.redis = redis
        app.state.channels = channels
        try:
            yield
        finally:
            await channels.close()
            await redis.aclose()

    app = Starlette(
        debug=settings.development,
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics_registry = metrics_registry
    return app
