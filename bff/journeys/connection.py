"""The Redis client the journey store should be given: one that gives up in milliseconds.

redis-py's default retries a refused connection ten times with backoff (about
4 s in all), so every journey mutation would hang that long while Redis is
down. Journeys want the opposite: fail at once with JOURNEY_STORE_UNAVAILABLE
and let the customer's device retry with the same idempotency key. A retry
here is safe for the same reason: every script is idempotent by its key.
"""

from __future__ import annotations

from typing import Final

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from bff.store.client import RedisClient
from bff.store.pool import pooled_redis

CONNECT_TIMEOUT_S: Final = 0.25
# Only a backstop: the store bounds every step by its own, shorter, timeout.
SOCKET_TIMEOUT_S: Final = 5.0


def fail_fast_retry() -> Retry:
    """Two quick retries (a dropped pooled connection is replaced at once), then the error."""
    return Retry(ExponentialWithJitterBackoff(cap=0.05, base=0.005), retries=2)


def journey_redis(url: str, *, cluster: bool = False) -> RedisClient:
    """A client for `url` (a Redis Cluster node's URL when `cluster`); does no I/O until first used."""
    if cluster:
        return RedisCluster.from_url(
            url,
            retry=fail_fast_retry(),
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
        )
    return pooled_redis(
        url,
        retry=fail_fast_retry(),
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
    )
