"""A background subscriber to one Redis pub/sub channel, which reconnects when it loses the connection.

Messages only nudge their listeners: whoever listens also polls, so what is
published while the subscriber is disconnected is caught by that poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from bff.store.background import BackgroundTask
from bff.store.client import RedisClient

RECONNECT_DELAY_S = 0.5


class ChannelSubscriber:
    def __init__(
        self,
        name: str,
        redis: RedisClient,
        channel: str,
        on_message: Callable[[bytes | str], Awaitable[None]],
        on_lost: Callable[[BaseException], None],
        lost_on: tuple[type[BaseException], ...] = (),
    ) -> None:
        """`on_lost` hears of each lost connection (RedisError, OSError, or any of `lost_on` from
        `on_message`) before the subscriber waits RECONNECT_DELAY_S and subscribes again."""
        self._redis = redis
        self._channel = channel
        self._on_message = on_message
        self._on_lost = on_lost
        self._lost_on: tuple[type[BaseException], ...] = (RedisError, OSError, *lost_on)
        self._task = BackgroundTask(name, self._listen)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _listen(self) -> None:
        while not self._task.stopping:
            try:
                await self._listen_once()
            except self._lost_on as exc:
                if self._task.stopping:
                    return
                self._on_lost(exc)
                await asyncio.sleep(RECONNECT_DELAY_S)

    async def _listen_once(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            while True:
                # No read timeout: on Python 3.11 a cancel racing asyncio.timeout inside redis-py
                # can be swallowed and leave stop() waiting forever; a plain blocking read
                # cancels cleanly, and the listener's poll covers a silently dead connection.
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                if message is not None and message.get("type") == "message":
                    await self._on_message(message["data"])
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
