"""The customer-visible access log against a real Redis: newest first, filtered by time, capped."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bff.channels.models import CustomerScope
from bff.miniprograms.access_log import AccessLog, access_key
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db
from tests.support.tuning import FakeClock

DB = 5  # ids are unique per test and keys deleted after, so other tests may share the database
APP = "com.parkservices.tenant"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB, flush=False, delete_prefixes=["bff:access:"]) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def log(redis: aioredis.Redis, clock: FakeClock) -> AccessLog:
    return AccessLog(redis, clock)


@pytest.fixture
def customer() -> CustomerScope:
    return CustomerScope(f"c-{uuid.uuid4().hex[:10]}", "RCB001")


async def test_entries_are_read_newest_first(
    log: AccessLog, customer: CustomerScope, clock: FakeClock
) -> None:
    await log.record(customer, APP, "profile.name", "user.info")
    clock.advance(5)
    await log.record(customer, APP, "phone.masked", "user.phoneMasked")
    clock.advance(5)
    await log.record(customer, "com.agrimarket.shop", "location.city", "location.city")

    entries = await log.read(customer)
    assert [(e.app_id, e.scope, e.api, e.at) for e in entries] == [
        ("com.agrimarket.shop", "location.city", "location.city", 1_700_000_010.0),
        (APP, "phone.masked", "user.phoneMasked", 1_700_000_005.0),
        (APP, "profile.name", "user.info", 1_700_000_000.0),
    ]


async def test_read_since_returns_only_accesses_at_or_after_that_time(
    log: AccessLog, customer: CustomerScope
) -> None:
    for at in (100.0, 200.0, 300.0):
        await log.record(customer, APP, "profile.name", "user.info", at=at)
    assert [e.at for e in await log.read(customer, since=200.0)] == [300.0, 200.0]


async def test_read_returns_at_most_limit_entries(log: AccessLog, customer: CustomerScope) -> None:
    for at in range(10):
        await log.record(customer, APP, "profile.name", "user.info", at=float(at))
    assert [e.at for e in await log.read(customer, limit=3)] == [9.0, 8.0, 7.0]


async def test_log_is_capped_keeping_the_newest_entries(
    redis: aioredis.Redis, clock: FakeClock, customer: CustomerScope
) -> None:
    log = AccessLog(redis, clock, max_entries=20)
    for at in range(400):
        await log.record(customer, APP, "profile.name", "user.info", at=float(at))
    length = await redis.xlen(access_key(customer))
    # MAXLEN ~ trims whole stream nodes (100 entries each by default), never below the cap.
    assert 20 <= length <= 120
    entries = await log.read(customer, limit=500)
    assert len(entries) == length
    assert entries[0].at == 399.0
    assert min(e.at for e in entries) > 0.0


async def test_log_expires_when_the_customer_stops_using_mini_programs(
    redis: aioredis.Redis, clock: FakeClock, customer: CustomerScope
) -> None:
    log = AccessLog(redis, clock, retention_s=3600)
    await log.record(customer, APP, "profile.name", "user.info")
    assert 0 < await redis.ttl(access_key(customer)) <= 3600


async def test_customers_see_only_their_own_accesses(log: AccessLog, customer: CustomerScope) -> None:
    await log.record(customer, APP, "profile.name", "user.info")
    assert await log.read(CustomerScope(customer.customer_id, "RCB002")) == []
