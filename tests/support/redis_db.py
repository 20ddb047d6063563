"""A client on one numbered database of the test suite's private redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from tests.support.processes import RedisServer


@asynccontextmanager
async def redis_db(
    server: RedisServer, db: int, *, flush: bool = True, delete_prefixes: Sequence[str] = ()
) -> AsyncIterator[aioredis.Redis]:
    """Flush the database around the test (own db), or delete only its key prefixes (shared db)."""
    client = aioredis.from_url(server.url.rsplit("/", 1)[0] + f"/{db}")
    if flush:
        await client.flushdb()
    try:
        yield client
    finally:
        if flush:
            await client.flushdb()
        for prefix in delete_prefixes:
            keys = [key async for key in client.scan_iter(f"{prefix}*")]
            if keys:
                await client.delete(*keys)
        await client.aclose()
