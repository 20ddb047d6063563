"""The Redis client type the domains accept."""

from __future__ import annotations

import redis.asyncio as aioredis

# Standalone and Sentinel (a Redis) or Redis Cluster. Code taking a RedisClient
# keeps every script and transaction within one slot (one hash tag).
RedisClient = aioredis.Redis | aioredis.RedisCluster


def text(value: bytes | str) -> str:
    """A reply as text, whether or not the client was made with decode_responses."""
    return value.decode() if isinstance(value, bytes) else value
