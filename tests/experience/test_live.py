"""The live experience: seeded once, switched in every process within a second, read without Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis

from bff.experience.assignment import assign_profile
from bff.experience.live import LiveExperience
from bff.experience.loading import ExperienceSet
from bff.experience.store import ExperienceStore, parse_files
from bff.experience.store_records import Action
from bff.store.private_server import free_port
from tests.experience.documents import load_with
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 6


class CountingRedis(aioredis.Redis):
    """A client that counts the commands it sends (scripts included; pub/sub has its own connection)."""

    commands = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands += 1
        return await super().execute_command(*args, **options)


def db_url(server: RedisServer) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{DB}"


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture(scope="module")
def shipped_set() -> ExperienceSet:
    return load_with()


@asynccontextmanager
async def process(
    url: str, shipped: ExperienceSet, *, listen: bool = True, poll_interval_s: float = 0.5
) -> AsyncIterator[LiveExperience]:
    """One BFF process's live experience: its own connection pool, store, listener and poll."""
    client = aioredis.from_url(url)
    live = LiveExperience(
        ExperienceStore(client),
        client,
        shipped=lambda: shipped,
        listen=listen,
        poll_interval_s=poll_interval_s,
    )
    await live.start()
    try:
        yield live
    finally:
        await live.stop()
        await client.aclose()


async def switched(experience: ExperienceSet) -> ExperienceSet:
    return await parse_files(assign_profile(experience.files, "rural-app", "standard", None))


async def served_within(live: LiveExperience, version: int, published_at: float) -> float:
    """Seconds until `live` serves `version`, checked every 10 ms for at most a second."""
    while True:
        waited = time.monotonic() - published_at
        if live.current()[0] == version:
            return waited
        assert waited < 1.0, f"still serving version {live.current()[0]} after {waited:.2f}s"
        await asyncio.sleep(0.01)


async def test_two_processes_starting_on_an_empty_redis_seed_version_one_once(
    redis_client: aioredis.Redis, redis_server: RedisServer, shipped_set: ExperienceSet
) -> None:
    url = db_url(redis_server)
    async with process(url, shipped_set) as first, process(url, shipped_set) as second:
        assert first.current()[0] == second.current()[0] == 1
        assert first.current()[1].digest == shipped_set.digest
    history = await ExperienceStore(redis_client).history()
    assert [(meta.version, meta.action) for meta in history] == [(1, Action.SEED)]


@pytest.mark.parametrize("listen", [True, False], ids=["pubsub", "poll-only"])
async def test_a_publish_through_one_process_is_served_by_another_within_a_second(
    redis_client: aioredis.Redis, redis_server: RedisServer, shipped_set: ExperienceSet, listen: bool
) -> None:
    url = db_url(redis_server)
    store = ExperienceStore(redis_client)
    async with process(url, shipped_set) as first, process(url, shipped_set, listen=listen) as second:
        changed = await switched(first.current()[1])
        published = await store.publish(1, changed, "ux-admin")
        first.offer(published.stored)
        seen_after = await served_within(second, 2, published_at=time.monotonic())
        assert seen_after < 1.0
        assert second.current()[1].digest == changed.digest
        assert first.current()[0] == 2  # the publishing process serves its own change at once


async def test_current_reads_no_redis(
    redis_client: aioredis.Redis, redis_server: RedisServer, shipped_set: ExperienceSet
) -> None:
    client = CountingRedis.from_url(db_url(redis_server))
    # No listener, and a poll too slow to run during the test: any command would come from current().
    live = LiveExperience(
        ExperienceStore(client), client, shipped=lambda: shipped_set, listen=False, poll_interval_s=60
    )
    await live.start()
    try:
        before = client.commands
        assert before > 0, "the counter sees the commands start() sent"
        for _ in range(1000):
            version, experience = live.current()
            await asyncio.sleep(0)  # let anything that wanted to run, run
        assert client.commands == before
        assert (version, experience.digest) == (1, shipped_set.digest)
    finally:
        await live.stop()
        await client.aclose()


async def test_a_process_that_cannot_reach_redis_serves_the_shipped_files_as_version_zero(
    shipped_set: ExperienceSet,
) -> None:
    async with process(f"redis://127.0.0.1:{free_port()}/0", shipped_set, listen=False) as live:
        snapshot = live.snapshot()
        assert (snapshot.version, snapshot.experience.digest, snapshot.meta) == (0, shipped_set.digest, None)


async def test_a_late_message_never_switches_back_to_an_older_version(
    redis_client: aioredis.Redis, redis_server: RedisServer, shipped_set: ExperienceSet
) -> None:
    store = ExperienceStore(redis_client)
    async with process(db_url(redis_server), shipped_set) as live:
        published = await store.publish(1, await switched(shipped_set), "ux-admin")
        live.offer(published.stored)
        await redis_client.publish("bff:xp:changes", b'{"version": 1}')
        await live.refresh()
        assert live.current()[0] == 2
