"""Per-customer index of journeys and the messages customer and employee exchange on one journey.

    bff:jr:customer:{<member bank>:<customer>}   sorted set: journey id, scored by start time (ms)
    bff:jr:{<journey id>}:messages               stream: sender role, sender id, body (keys.py)

The index is written after the start script (another hash tag, so not inside
it on a cluster); `JourneyStore.start` is idempotent, so a retried start
repairs a missing entry. Expired journeys are dropped from the index on read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

from redis.exceptions import RedisError

from bff.journeys.errors import JourneyError, JourneyNotFound, JourneyStoreUnavailable
from bff.journeys.keys import journey_keys
from bff.journeys.records import Journey
from bff.journeys.store import JourneyStore
from bff.store.client import RedisClient, text
from bff.store.keys import tag

MAX_MESSAGE_CHARS: Final = 2000
MAX_MESSAGES: Final = 500
MESSAGES_TTL_S: Final = 90 * 24 * 3600


class MessageRefused(JourneyError):
    code = "INVALID_MESSAGE"


@dataclass(frozen=True, slots=True)
class JourneyMessage:
    id: str
    sender_role: str
    sender_id: str
    body: str
    at: datetime


def customer_index_key(member_bank: str, customer: str) -> str:
    return f"bff:jr:customer:{tag(member_bank, customer)}"


def messages_key(journey_id: str) -> str:
    return journey_keys(journey_id).messages


class CustomerJourneys:
    def __init__(self, redis: RedisClient, store: JourneyStore) -> None:
        self._redis = redis
        self._store = store

    async def remember(self, journey: Journey) -> None:
        key = customer_index_key(journey.member_bank, journey.customer)
        await self._guarded(
            self._redis.zadd(key, {journey.id: journey.created_at.timestamp() * 1000}, nx=True)
        )

    async def of_customer(self, member_bank: str, customer: str, limit: int = 50) -> list[Journey]:
        key = customer_index_key(member_bank, customer)
        ids = [text(i) for i in await self._guarded(self._redis.zrevrange(key, 0, limit - 1))]
        found: list[Journey] = []
        for journey_id in ids:
            try:
                found.append(await self._store.get(journey_id))
            except JourneyNotFound:
                await self._guarded(self._redis.zrem(key, journey_id))  # expired: abandoned or past retention
        return found

    async def send(self, journey_id: str, sender_role: str, sender_id: str, body: str) -> JourneyMessage:
        body = body.strip()
        if not body or len(body) > MAX_MESSAGE_CHARS:
            raise MessageRefused(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
        fields = {"role": sender_role, "sender": sender_id, "body": body, "at": str(int(time.time() * 1000))}
        key = messages_key(journey_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(key, cast(Any, fields), maxlen=MAX_MESSAGES, approximate=True)
            pipe.expire(key, MESSAGES_TTL_S)
            message_id, _ = await self._guarded(pipe.execute())
        return _message(text(message_id), fields)

    async def messages(self, journey_id: str, limit: int = 100) -> list[JourneyMessage]:
        entries = await self._guarded(self._redis.xrange(messages_key(journey_id), count=limit))
        return [
            _message(text(entry_id), {text(k): text(v) for k, v in fields.items()})
            for entry_id, fields in entries
        ]

    async def _guarded(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except (RedisError, OSError) as exc:
            raise JourneyStoreUnavailable(f"the journey store cannot be reached now: {exc}") from exc


def _message(message_id: str, fields: dict[str, str]) -> JourneyMessage:
    at = datetime.fromtimestamp(int(fields["at"]) / 1000, UTC)
    return JourneyMessage(message_id, fields["role"], fields["sender"], fields["body"], at)
