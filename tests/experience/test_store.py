"""The experience store over a real Redis: versions with optimistic concurrency, rollback, history, schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from bff.experience.assignment import assign_profile
from bff.experience.loading import ExperienceSet
from bff.experience.refusals import ExperienceRefused, RefusalCode
from bff.experience.scheduler import ScheduleRunner
from bff.experience.store import DUE_KEY, ExperienceStore, parse_files
from bff.experience.store_records import Action, ScheduledAssignment, ScheduleState
from tests.experience.documents import files_with, load_with, shipped
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 6
ADMIN = "ux-admin"
T0 = 1_900_000_000.0


class Clock:
    """A settable clock, shared by the "processes" of a test."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
async def second_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """Another connection pool to the same database: a second BFF process."""
    client = aioredis.from_url(redis_server.url.rsplit("/", 1)[0] + f"/{DB}")
    yield client
    await client.aclose()


@pytest.fixture
async def store(redis_client: aioredis.Redis) -> ExperienceStore:
    """A seeded store whose clock stands an hour after T0."""
    store = ExperienceStore(redis_client, Clock(T0 + 3600))
    await store.seed(load_with(), "seed")
    return store


async def assigned(
    experience: ExperienceSet, rule_id: str, profile: str, percent: str | None = None
) -> ExperienceSet:
    rollout = Decimal(percent) if percent is not None else None
    return await parse_files(assign_profile(experience.files, rule_id, profile, rollout))


# --- seeding and publishing ---------------------------------------------------------


async def test_two_processes_seeding_an_empty_redis_at_once_make_one_version(
    redis_client: aioredis.Redis, second_client: aioredis.Redis
) -> None:
    shipped_set = load_with()
    first, second = ExperienceStore(redis_client), ExperienceStore(second_client)
    versions = await asyncio.gather(first.seed(shipped_set, "a"), second.seed(shipped_set, "b"))
    assert versions == [1, 1]
    history = await first.history()
    assert [(meta.version, meta.action) for meta in history] == [(1, Action.SEED)]
    assert (await second.current()).experience.digest == shipped_set.digest


async def test_publish_with_the_current_version_makes_the_next_version(store: ExperienceStore) -> None:
    changed = await assigned((await store.current()).experience, "rural-app", "standard")
    published = await store.publish(1, changed, ADMIN, note="rural customers get standard")
    assert published.stored.version == 2
    assert await store.current_version() == 2
    current = await store.current()
    assert (current.meta.actor, current.meta.note, current.experience.digest) == (
        ADMIN,
        "rural customers get standard",
        changed.digest,
    )
    assert [str(change) for change in published.diff.segments] == [
        "rule 'rural-app': profile rural -> profile standard"
    ]


async def test_publish_against_a_stale_version_is_refused_naming_the_current_version(
    store: ExperienceStore,
) -> None:
    changed = await assigned((await store.current()).experience, "rural-app", "standard")
    await store.publish(1, changed, ADMIN)
    with pytest.raises(ExperienceRefused) as refused:
        await store.publish(1, load_with(), ADMIN)
    assert (refused.value.code, refused.value.current_version) == (RefusalCode.VERSION_CONFLICT, 2)
    assert "the current version is 2" in refused.value.message
    assert await store.current_version() == 2


async def test_of_two_racing_publishes_on_the_same_version_exactly_one_lands(
    store: ExperienceStore, second_client: aioredis.Redis
) -> None:
    base = (await store.current()).experience
    to_standard, to_youth = await asyncio.gather(
        assigned(base, "rural-app", "standard"), assigned(base, "rural-app", "youth")
    )
    other = ExperienceStore(second_client)
    results = await asyncio.gather(
        store.publish(1, to_standard, "a"), other.publish(1, to_youth, "b"), return_exceptions=True
    )
    refusals = [result for result in results if isinstance(result, ExperienceRefused)]
    assert len(refusals) == 1
    assert refusals[0].code is RefusalCode.VERSION_CONFLICT
    assert await store.current_version() == 2


# --- rollback and history -----------------------------------------------------------


async def test_rollback_republishes_an_earlier_version_with_its_exact_files_and_digest(
    store: ExperienceStore, second_client: aioredis.Redis
) -> None:
    first = await store.current()
    await store.publish(1, await assigned(first.experience, "rural-app", "standard"), ADMIN)
    await store.publish(2, await assigned(first.experience, "youth-video", "standard"), ADMIN)
    rolled = await store.rollback(3, 1, ADMIN)
    assert rolled.stored.version == 4
    fresh = await ExperienceStore(second_client).version(4)  # read back from Redis, not a cache
    assert dict(fresh.experience.files) == dict(first.experience.files)
    assert fresh.experience.digest == first.experience.digest
    assert (fresh.meta.action, fresh.meta.note) == (Action.ROLLBACK, "rollback to version 1")


async def test_rollback_to_a_missing_or_not_earlier_version_is_refused(store: ExperienceStore) -> None:
    await store.publish(1, await assigned(load_with(), "rural-app", "standard"), ADMIN)
    with pytest.raises(ExperienceRefused) as missing:
        await store.rollback(2, 7, ADMIN)
    assert missing.value.code is RefusalCode.ROLLBACK_NOT_EARLIER
    with pytest.raises(ExperienceRefused) as current:
        await store.rollback(2, 2, ADMIN)
    assert current.value.code is RefusalCode.ROLLBACK_NOT_EARLIER
    with pytest.raises(ExperienceRefused) as stale:
        await store.rollback(1, 1, ADMIN)
    assert (stale.value.code, stale.value.current_version) == (RefusalCode.VERSION_CONFLICT, 2)


async def test_a_version_that_never_existed_is_not_found(store: ExperienceStore) -> None:
    with pytest.raises(ExperienceRefused) as refused:
        await store.version(99)
    assert refused.value.code is RefusalCode.VERSION_NOT_FOUND


async def test_history_only_grows_and_records_who_when_what_and_before_after(store: ExperienceStore) -> None:
    base = (await store.current()).experience
    seen = await store.history()
    await store.publish(1, await assigned(base, "rural-app", "standard"), "alice", action=Action.ASSIGN)
    after_assign = await store.history()
    await store.rollback(2, 1, "bob", "undo")
    after_rollback = await store.history()

    assert after_assign[1:] == seen
    assert after_rollback[1:] == after_assign
    newest = after_rollback[0]
    assert (newest.version, newest.action, newest.actor, newest.note) == (3, Action.ROLLBACK, "bob", "undo")
    assert newest.at > 0
    assert newest.summary["fromVersion"] == 2
    assert newest.summary["fromDigest"] == after_assign[0].digest
    assert newest.summary["changes"] == ["rule 'rural-app': profile standard -> profile rural"]
    assign = after_rollback[1]
    assert (assign.version, assign.action, assign.actor) == (2, Action.ASSIGN, "alice")
    assert assign.summary["changes"] == ["rule 'rural-app': profile rural -> profile standard"]


# --- scheduled changes --------------------------------------------------------------


async def test_a_scheduled_change_is_applied_once_by_one_of_two_competing_processes_after_its_time(
    redis_client: aioredis.Redis, second_client: aioredis.Redis
) -> None:
    clock = Clock()
    first, second = ExperienceStore(redis_client, clock), ExperienceStore(second_client, clock)
    runners = [ScheduleRunner(first), ScheduleRunner(second)]
    await first.seed(load_with(), "seed")
    change = await first.schedule(
        T0 + 60, ADMIN, assign=ScheduledAssignment("rural-app", "standard"), note="switch at nine"
    )

    assert await asyncio.gather(*(runner.run_once() for runner in runners)) == [[], []]
    assert await first.current_version() == 1

    clock.now = T0 + 61
    made = await asyncio.gather(*(runner.run_once() for runner in runners * 2))
    assert sorted(version for versions in made for version in versions) == [2]
    history = await first.history()
    assert [(meta.version, meta.action, meta.actor, meta.note) for meta in history] == [
        (2, Action.SCHEDULED, ADMIN, "switch at nine"),
        (1, Action.SEED, "seed", "seeded from the shipped experience/ directory"),
    ]
    record = await second.scheduled_change(change.id)
    assert (record.state, record.version) == (ScheduleState.APPLIED, 2)
    assert await redis_client.zcard(DUE_KEY) == 0


async def test_running_schedule_runners_apply_a_due_change_once(
    redis_client: aioredis.Redis, second_client: aioredis.Redis
) -> None:
    clock = Clock()
    first, second = ExperienceStore(redis_client, clock), ExperienceStore(second_client, clock)
    await first.seed(load_with(), "seed")
    await first.schedule(T0 + 60, ADMIN, assign=ScheduledAssignment("rural-app", "standard"))
    runners = [ScheduleRunner(first, interval_s=0.01), ScheduleRunner(second, interval_s=0.01)]
    for runner in runners:
        await runner.start()
    try:
        await asyncio.sleep(0.1)
        assert await first.current_version() == 1
        clock.now = T0 + 60
        for _ in range(200):
            if await first.current_version() == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # more rounds: the change must not be applied again
    finally:
        for runner in runners:
            await runner.stop()
    assert [meta.action for meta in await first.history()] == [Action.SCHEDULED, Action.SEED]


async def test_many_scheduled_changes_raced_by_two_processes_each_become_one_version(
    redis_client: aioredis.Redis, second_client: aioredis.Redis
) -> None:
    clock = Clock()
    first, second = ExperienceStore(redis_client, clock), ExperienceStore(second_client, clock)
    await first.seed(load_with(), "seed")
    percents = ["10", "20", "30", "40", "50"]
    for offset, percent in enumerate(percents):
        assign = ScheduledAssignment("urban-31-40-trial", "youth", Decimal(percent))
        await first.schedule(T0 + offset, ADMIN, assign=assign)
    clock.now = T0 + 100
    await asyncio.gather(first.apply_due(), second.apply_due())
    history = await first.history()
    assert [meta.version for meta in history] == [6, 5, 4, 3, 2, 1]
    assert {change.state for change in await first.scheduled()} == {ScheduleState.APPLIED}


async def test_scheduled_whole_files_are_published_as_they_were_sent(store: ExperienceStore) -> None:
    files = files_with(segments={**shipped("segments.json"), "description": "Spring campaign."})
    await store.schedule(T0, ADMIN, files=files)
    assert await store.apply_due() == [2]
    assert dict((await store.current()).experience.files) == files


async def test_a_scheduled_change_that_no_longer_applies_fails_with_its_reason(
    store: ExperienceStore,
) -> None:
    change = await store.schedule(T0, ADMIN, assign=ScheduledAssignment("no-such-rule", "standard"))
    assert await store.apply_due() == []
    failed = await store.scheduled_change(change.id)
    assert failed.state is ScheduleState.FAILED
    assert "no segment rule 'no-such-rule'" in (failed.error or "")
    assert await store.current_version() == 1


async def test_a_cancelled_change_is_never_applied_and_cannot_be_cancelled_again(
    store: ExperienceStore,
) -> None:
    change = await store.schedule(T0, ADMIN, assign=ScheduledAssignment("rural-app", "standard"))
    cancelled = await store.cancel(change.id, "bob")
    assert (cancelled.state, cancelled.finished_by) == (ScheduleState.CANCELLED, "bob")
    assert await store.apply_due() == []
    assert await store.current_version() == 1
    with pytest.raises(ExperienceRefused) as again:
        await store.cancel(change.id, "bob")
    assert again.value.code is RefusalCode.SCHEDULE_NOT_PENDING
    with pytest.raises(ExperienceRefused) as unknown:
        await store.cancel("nope", "bob")
    assert unknown.value.code is RefusalCode.SCHEDULE_NOT_FOUND
