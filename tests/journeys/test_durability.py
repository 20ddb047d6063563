"""Acknowledged transitions survive a killed Redis; while Redis is down the store fails fast and recovers."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bff.journeys.connection import journey_redis
from bff.journeys.definitions import Definitions
from bff.journeys.durability import durability, require_durable
from bff.journeys.errors import JourneyStoreNotDurable, JourneyStoreUnavailable
from bff.journeys.records import JourneyEvent
from bff.journeys.store import JourneyStore
from tests.journeys.backends import Backend
from tests.journeys.redis_servers import RedisProcess, start_durable_redis
from tests.journeys.scenario import APP, CUSTOMER, LOAN, new_key

# "Fail fast": an answer a person does not wait for, far from redis-py's default ~4 s of retries.
FAST_S = 0.5


async def start_loan(store: JourneyStore, member_bank: str) -> JourneyEvent:
    return await store.start(
        "loan-application",
        member_bank=member_bank,
        customer=CUSTOMER,
        actor=APP,
        payload=LOAN,
        idempotency_key=new_key(),
    )


async def update(store: JourneyStore, event: JourneyEvent) -> JourneyEvent:
    payload = {"termMonths": 3 + event.version % 300}
    return await store.advance(
        event.journey_id,
        "update-details",
        expected_version=event.version,
        actor=APP,
        payload=payload,
        idempotency_key=new_key(),
    )


async def test_sigkill_loses_no_acknowledged_transition(
    killable_redis: RedisProcess, definitions: Definitions, member_bank: str
) -> None:
    redis = journey_redis(killable_redis.url)
    store = JourneyStore(redis, definitions)
    acknowledged = [await start_loan(store, member_bank) for _ in range(8)]

    async def keep_advancing(event: JourneyEvent) -> None:
        while True:
            try:
                event = await update(store, event)
            except JourneyStoreUnavailable:
                return  # Redis is gone; what was acknowledged so far must survive
            acknowledged.append(event)

    writers = [asyncio.create_task(keep_advancing(event)) for event in list(acknowledged)]
    await asyncio.sleep(0.4)
    killable_redis.kill()  # mid-flight: some transitions are sent but not yet answered
    await asyncio.gather(*writers)
    assert len(acknowledged) > 100, len(acknowledged)

    killable_redis.start()  # same directory: Redis replays its append-only file
    for journey_id in {event.journey_id for event in acknowledged}:
        stored = {event.version: event for event in await store.events_after(journey_id, 0)}
        mine = [event for event in acknowledged if event.journey_id == journey_id]
        assert all(stored.get(event.version) == event for event in mine)
        assert (await store.get(journey_id)).version >= max(event.version for event in mine)
    await redis.aclose()


async def test_store_fails_fast_while_redis_is_down_and_recovers_by_itself(
    killable_redis: RedisProcess, definitions: Definitions, member_bank: str
) -> None:
    redis = journey_redis(killable_redis.url)
    store = JourneyStore(redis, definitions)
    started = await start_loan(store, member_bank)

    killable_redis.kill()
    for operation in (lambda: start_loan(store, member_bank), lambda: update(store, started)):
        refused = await _fails_fast(operation)
        assert refused.code == "JOURNEY_STORE_UNAVAILABLE"
        assert "retry with the same idempotency key" in str(refused)
    await _fails_fast(lambda: store.get(started.journey_id))

    killable_redis.start()
    moved = await update(store, started)  # the same store object, no restart
    assert moved.version == 2
    assert (await store.get(started.journey_id)).version == 2
    await redis.aclose()


async def test_store_fails_within_its_timeout_when_redis_hangs(
    killable_redis: RedisProcess, definitions: Definitions, member_bank: str
) -> None:
    redis = journey_redis(killable_redis.url)
    store = JourneyStore(redis, definitions, timeout_s=0.2)
    started = await start_loan(store, member_bank)
    assert killable_redis.process is not None
    os.kill(killable_redis.process.pid, signal.SIGSTOP)  # accepts nothing, answers nothing
    try:
        await _fails_fast(lambda: update(store, started))
    finally:
        os.kill(killable_redis.process.pid, signal.SIGCONT)
    # The timed-out request may have reached Redis: a new request on the version read back.
    journey = await store.get(started.journey_id)
    assert journey.version in (1, 2)
    await redis.aclose()


async def test_require_durable_accepts_aof_with_fsync_always_on_every_primary(backend: Backend) -> None:
    nodes = await durability(backend.redis)
    assert len(nodes) == (3 if backend.name == "cluster" else 1)
    assert all(node.durable for node in nodes)
    await require_durable(backend.redis)


async def test_require_durable_refuses_fsync_everysec(tmp_path: Path) -> None:
    server = start_durable_redis(tmp_path, appendfsync="everysec")
    redis = journey_redis(server.url)
    try:
        with pytest.raises(JourneyStoreNotDurable, match="appendfsync everysec") as refused:
            await require_durable(redis)
        assert refused.value.code == "JOURNEY_STORE_NOT_DURABLE"
        assert f"127.0.0.1:{server.port}" in str(refused.value)
    finally:
        await redis.aclose()
        server.stop()


async def _fails_fast(operation: Callable[[], Awaitable[Any]]) -> JourneyStoreUnavailable:
    started = time.perf_counter()
    with pytest.raises(JourneyStoreUnavailable) as refused:
        await operation()
    assert time.perf_counter() - started < FAST_S
    return refused.value
