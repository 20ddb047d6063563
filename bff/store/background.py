"""A component's long-running task (a Redis listener, a periodic flush): started in the lifespan, stopped for sure."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundTask:
    def __init__(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._body = body
        self._task: asyncio.Task[None] | None = None
        self.stopping = False  # the body's loops check this, so a swallowed cancel still ends them

    def start(self) -> None:
        if self._task is None:
            self.stopping = False
            self._task = asyncio.create_task(self._body(), name=self._name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self.stopping = True
        # A cancel landing inside redis-py can be swallowed (seen in tests: a listener went
        # back to reading after one cancel), so cancel until the task has really ended.
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        with contextlib.suppress(asyncio.CancelledError):
            await task
