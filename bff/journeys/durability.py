"""Whether the Redis behind the journey store keeps acknowledged transitions through a crash.

Redis 7.0 acknowledges a write after it is on disk only with append-only
persistence and `appendfsync always` (the AOF is fsynced before replies are
sent). With `everysec` up to a second of acknowledged transitions can be lost
on a power failure or kernel crash. On Redis 7.2+ the alternative is WAITAOF
after each transition (see docs/journeys.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from bff.journeys.errors import JourneyStoreNotDurable
from bff.store.client import RedisClient, text


@dataclass(frozen=True, slots=True)
class NodeDurability:
    node: str
    appendonly: str
    appendfsync: str

    @property
    def durable(self) -> bool:
        return self.appendonly == "yes" and self.appendfsync == "always"


async def durability(redis: RedisClient) -> list[NodeDurability]:
    """The persistence settings of every primary (one for a standalone Redis)."""
    if isinstance(redis, RedisCluster):
        await redis.initialize()  # the primaries are known once the slot map has been read
        return [await _node(redis, node.name, node) for node in redis.get_primaries()]
    kwargs = redis.connection_pool.connection_kwargs
    return [await _node(redis, f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}", None)]


async def require_durable(redis: RedisClient) -> None:
    """Raise JourneyStoreNotDurable unless every primary has appendonly yes and appendfsync always."""
    weak = [node for node in await durability(redis) if not node.durable]
    if weak:
        described = ", ".join(
            f"{n.node} (appendonly {n.appendonly}, appendfsync {n.appendfsync})" for n in weak
        )
        raise JourneyStoreNotDurable(
            f"journeys need Redis with appendonly yes and appendfsync always; not so on {described}"
        )


async def _node(redis: RedisClient, name: str, target: Any) -> NodeDurability:
    try:
        if target is None:
            reply = await redis.execute_command("CONFIG GET", "append*")
        else:
            reply = await cast(RedisCluster, redis).execute_command(
                "CONFIG GET", "append*", target_nodes=target
            )
    except ResponseError:
        # Managed services often rename or forbid CONFIG: the setting cannot be confirmed.
        return NodeDurability(name, "unknown", "unknown")
    settings = {text(key): text(value) for key, value in dict(reply).items()}
    return NodeDurability(name, settings.get("appendonly", "unknown"), settings.get("appendfsync", "unknown"))
