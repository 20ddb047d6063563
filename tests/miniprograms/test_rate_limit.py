"""The bridge rate limiter against a real Redis: N calls through, then refusals that say when to retry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bff.channels.models import CustomerScope
from bff.miniprograms.rate_limit import RateLimiter, app_key, customer_key
from tests.support.processes import RedisServer
from tests.support.tuning import FakeClock

DB = 5  # ids are unique per test and keys deleted after, so other tests may share the database


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url.rsplit("/", 1)[0] + f"/{DB}")
    yield client
    keys = [key async for key in client.scan_iter("bff:rate:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def app_id() -> str:
    return f"com.parks.t{uuid.uuid4().hex[:12]}"


async def test_allows_the_limit_then_refuses_with_a_retry_after(redis: aioredis.Redis, app_id: str) -> None:
    limiter = RateLimiter(redis)  # Redis's own clock
    decisions = [await limiter.hit(app_key(app_id), limit=3, window_s=60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    # One call frees up every window/limit = 20 s.
    assert 0 < decisions[3].retry_after_s <= 20
    assert all(d.retry_after_s == 0 for d in decisions[:3])


async def test_a_call_is_allowed_again_once_retry_after_has_passed(
    redis: aioredis.Redis, app_id: str
) -> None:
    clock = FakeClock(1_700_000_000.0)
    limiter = RateLimiter(redis, clock)
    for _ in range(2):
        assert (await limiter.hit(app_key(app_id), limit=2, window_s=10)).allowed
    refused = await limiter.hit(app_key(app_id), limit=2, window_s=10)
    assert not refused.allowed
    assert refused.retry_after_s == 5

    clock.advance(refused.retry_after_s)
    again = await limiter.hit(app_key(app_id), limit=2, window_s=10)
    assert again.allowed
    assert not (await limiter.hit(app_key(app_id), limit=2, window_s=10)).allowed


async def test_refused_calls_do_not_delay_the_next_allowed_one(redis: aioredis.Redis, app_id: str) -> None:
    clock = FakeClock(1_700_000_000.0)
    limiter = RateLimiter(redis, clock)
    assert (await limiter.hit(app_key(app_id), limit=1, window_s=10)).allowed
    for _ in range(5):
        assert not (await limiter.hit(app_key(app_id), limit=1, window_s=10)).allowed
    clock.advance(10)
    assert (await limiter.hit(app_key(app_id), limit=1, window_s=10)).allowed


async def test_a_full_window_later_the_whole_limit_is_available_again(
    redis: aioredis.Redis, app_id: str
) -> None:
    clock = FakeClock(1_700_000_000.0)
    limiter = RateLimiter(redis, clock)
    for _ in range(3):
        await limiter.hit(app_key(app_id), limit=3, window_s=1)
    clock.advance(1)
    decisions = [await limiter.hit(app_key(app_id), limit=3, window_s=1) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]


async def test_each_customers_limit_is_independent(redis: aioredis.Redis, app_id: str) -> None:
    limiter = RateLimiter(redis)
    first = CustomerScope("c-1", "RCB001")
    second = CustomerScope("c-1", "RCB002")  # same id, another member bank: another customer
    assert (await limiter.hit(customer_key(app_id, first), limit=1, window_s=60)).allowed
    assert not (await limiter.hit(customer_key(app_id, first), limit=1, window_s=60)).allowed
    assert (await limiter.hit(customer_key(app_id, second), limit=1, window_s=60)).allowed
    assert (await limiter.hit(app_key(app_id), limit=1, window_s=60)).allowed


async def test_the_key_expires_once_it_limits_nothing(redis: aioredis.Redis, app_id: str) -> None:
    limiter = RateLimiter(redis)
    await limiter.hit(app_key(app_id), limit=10, window_s=60)
    assert 0 < await redis.pttl(app_key(app_id)) <= 6000


async def test_a_limit_below_one_is_refused(redis: aioredis.Redis, app_id: str) -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        await RateLimiter(redis).hit(app_key(app_id), limit=0, window_s=60)
