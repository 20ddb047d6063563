"""A journey's events as a live stream: first the ones after the subscriber's version, then each new one.

The store's transition script announces every new version on the journey's
shard channel. A follower subscribes first and replays from the stream
second, so nothing published in between is missed; on each notice it reads
the stream again from the last version it delivered, so a lost or repeated
notice never loses or repeats an event. A dropped connection ends the
stream with JourneyStoreUnavailable; the client reconnects with its last
version and gets the rest replayed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from bff.journeys.errors import JourneyStoreUnavailable
from bff.journeys.keys import updates_channel
from bff.journeys.records import JourneyEvent
from bff.journeys.store import JourneyStore
from bff.store.client import RedisClient


async def follow(
    redis: RedisClient, store: JourneyStore, journey_id: str, since_version: int
) -> AsyncIterator[JourneyEvent]:
    pubsub = redis.pubsub()
    try:
        await pubsub.ssubscribe(updates_channel(journey_id))
        last = since_version
        while True:
            for event in await store.events_after(journey_id, last):
                last = event.version
                yield event
            # No read timeout: see bff/miniprograms/release_cache.py on cancels inside redis-py.
            await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
    except (RedisError, OSError) as exc:
        raise JourneyStoreUnavailable(f"lost the journey's update stream: {exc}") from exc
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
