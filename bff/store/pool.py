"""Redis clients whose pool waits for a free connection instead of failing at once.

redis-py's asyncio default pool raises "Too many connections" the moment its
100 connections are busy, which under load turns a short queue into failed
requests (found by loadtests/run at 400 users). So callers wait up to `wait_s`
for a connection of a pool of a set size, and only then fail.

redis-py's own BlockingConnectionPool waits too, but takes a Condition, starts
a timeout and runs its observability hooks on every checkout: about a third
more CPU per command than the plain pool (docs/performance.md). Here a
semaphore in front of the plain pool does the waiting; while connections are
free it costs next to nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

DEFAULT_MAX_CONNECTIONS: Final = 200
DEFAULT_WAIT_S: Final = 2.0


class WaitingConnectionPool(aioredis.ConnectionPool):
    """At most `max_connections` connections; a caller past them waits up to `wait_s`, then fails."""

    def __init__(self, *, wait_s: float = DEFAULT_WAIT_S, **options: Any) -> None:
        super().__init__(**options)
        self._wait_s = wait_s
        self._slots = asyncio.Semaphore(self.max_connections)
        # Connections handed out through a slot: only their release frees one.
        self._holding: set[AbstractConnection] = set()

    def reset(self) -> None:
        super().reset()  # type: ignore[no-untyped-call]
        self._slots = asyncio.Semaphore(self.max_connections)
        self._holding = set()

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        slots = self._slots
        if slots.locked():
            try:
                async with asyncio.timeout(self._wait_s):
                    await slots.acquire()
            except TimeoutError:
                raise RedisConnectionError(
                    f"no Redis connection free within {self._wait_s:g} s: all {self.max_connections} "
                    "are busy (raise BFF_REDIS_MAX_CONNECTIONS, or find what holds them)"
                ) from None
        else:
            await slots.acquire()  # a free slot: returns without suspending
        try:
            # If this fails after taking a connection, the base class gives it back through
            # release() before the connection is in _holding, so the slot is freed here only.
            connection: AbstractConnection = await super().get_connection(*args, **kwargs)  # type: ignore[no-untyped-call]
        except BaseException:
            slots.release()
            raise
        self._holding.add(connection)
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        try:
            await super().release(connection)
        finally:
            if connection in self._holding:
                self._holding.discard(connection)
                self._slots.release()


def pooled_redis(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    wait_s: float = DEFAULT_WAIT_S,
    **options: Any,
) -> aioredis.Redis:
    pool = WaitingConnectionPool.from_url(url, max_connections=max_connections, wait_s=wait_s, **options)
    return aioredis.Redis(connection_pool=pool)
