"""Builds the experience's parts from settings: the store, the live experience, the schedule and the admin API.

The app factory calls `build_experience` and, in the lifespan,
`start()`/`stop()`; `live.current()` is what the home screen resolves against.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from starlette.routing import BaseRoute

from bff.auth.validator import TokenValidator
from bff.experience.admin_api import PreviewSource, experience_admin_routes
from bff.experience.live import LiveExperience
from bff.experience.loading import EXPERIENCE_DIRECTORY, ExperienceSet, load_experience_set
from bff.experience.scheduler import ScheduleRunner
from bff.experience.store import ExperienceStore
from bff.settings import Settings
from bff.store.client import RedisClient


@dataclass(frozen=True, slots=True)
class ExperienceParts:
    live: LiveExperience
    routes: list[BaseRoute]
    store: ExperienceStore
    scheduler: ScheduleRunner

    async def start(self) -> None:
        """Load the current version (seeding version 1 if Redis has none), then follow changes and the schedule."""
        await self.live.start()
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.live.stop()


def build_experience(
    settings: Settings, redis: RedisClient, validator: TokenValidator, preview: PreviewSource
) -> ExperienceParts:
    """The experience's store, live state, schedule runner and admin routes over one Redis."""
    directory = settings.experience_dir or EXPERIENCE_DIRECTORY

    # Read only when needed (seeding, or Redis unreachable at start), and then once.
    @functools.cache
    def shipped() -> ExperienceSet:
        return load_experience_set(directory)

    store = ExperienceStore(redis)
    live = LiveExperience(store, redis, shipped=shipped)
    routes = experience_admin_routes(store, live, validator, preview)
    return ExperienceParts(live, routes, store, ScheduleRunner(store))
