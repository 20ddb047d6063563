"""A concurrency limit per service, so one slow service cannot take every connection."""

from __future__ import annotations

import asyncio
from types import TracebackType


class BulkheadFull(Exception):
    """No slot freed within the queue timeout."""


class Bulkhead:
    def __init__(self, limit: int, queue_timeout_s: float) -> None:
        self.limit = limit
        self._queue_timeout_s = queue_timeout_s
        self._slots = asyncio.Semaphore(limit)

    @property
    def in_use(self) -> int:
        return self.limit - self._slots._value  # Semaphore keeps its count here

    async def __aenter__(self) -> None:
        if not self._slots.locked():
            # Fast path: a free slot; acquire() returns without suspending.
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(self._queue_timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            raise BulkheadFull from None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._slots.release()
