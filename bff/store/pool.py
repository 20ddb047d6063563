"""Redis clients whose pool waits for a free connection instead of failing at once.

redis-py's asyncio default pool raises "Too many connections" the moment its
100 connections are busy, which under load turns a short queue into failed
requests (found by loadtests/run at 400 users). A blocking pool of a set size
makes callers wait up to `wait_s` for a connection, and only then fail.
"""

from __future__ import annotations

from typing import Any, Final

import redis.asyncio as aioredis

DEFAULT_MAX_CONNECTIONS: Final = 200
DEFAULT_WAIT_S: Final = 2.0


def pooled_redis(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    wait_s: float = DEFAULT_WAIT_S,
    **options: Any,
) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_s, **options
    )
    return aioredis.Redis(connection_pool=pool)
