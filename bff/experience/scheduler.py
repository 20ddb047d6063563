"""Applies scheduled experience changes once their time has passed, in every BFF process.

Each process runs a `ScheduleRunner`; the store takes a change off the due
set in the same atomic step that publishes it, so however many processes
look at once, each change becomes exactly one version.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from redis.exceptions import RedisError

from bff.experience.refusals import ExperienceRefused
from bff.experience.store import ExperienceStore
from bff.store.background import BackgroundTask

logger = logging.getLogger("bff.experience.scheduler")

DEFAULT_INTERVAL_S: Final = 0.5


class ScheduleRunner:
    def __init__(self, store: ExperienceStore, *, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self._store = store
        self._interval_s = interval_s
        self._background = BackgroundTask("experience-schedule", self._run)

    async def run_once(self) -> list[int]:
        """Apply what is due now; the versions this process made."""
        return await self._store.apply_due()

    async def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while not self._background.stopping:
            await asyncio.sleep(self._interval_s)
            try:
                await self.run_once()
            except (RedisError, OSError, ExperienceRefused) as exc:
                # Due changes stay due: the next round (here or in another process) applies them.
                logger.warning("scheduled experience changes not applied this round: %s", exc)
