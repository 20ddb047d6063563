"""Handoff codes over a real Redis: once only, bound to channel and member bank, expiring, rate limited."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bff.journeys.actors import Channel
from bff.journeys.handoff import (
    ALPHABET,
    CODE_LENGTH,
    MAX_FAILURES,
    HandoffCodes,
    HandoffRateLimited,
    HandoffRefused,
    handoff_key,
)
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 15


@pytest.fixture
async def codes(redis_server: RedisServer) -> AsyncIterator[tuple[HandoffCodes, aioredis.Redis]]:
    async with redis_db(redis_server, DB) as client:
        yield HandoffCodes(client), client


async def test_a_code_works_once_for_its_channel_and_bank(codes: tuple[HandoffCodes, aioredis.Redis]) -> None:
    handoffs, _ = codes
    made = await handoffs.create("j-1", Channel.BRANCH, "RCB001", "RCB001-00042")
    used = await handoffs.redeem(made.code.lower(), Channel.BRANCH, "RCB001", "teller-7")
    assert (used.journey_id, used.created_by) == ("j-1", "RCB001-00042")
    with pytest.raises(HandoffRefused, match="already used"):
        await handoffs.redeem(made.code, Channel.BRANCH, "RCB001", "teller-7")


async def test_twenty_concurrent_redemptions_of_one_code_succeed_once(
    codes: tuple[HandoffCodes, aioredis.Redis],
) -> None:
    handoffs, _ = codes
    made = await handoffs.create("j-2", Channel.APP, "RCB001", "RCB001-00042")
    outcomes = await asyncio.gather(
        *(handoffs.redeem(made.code, Channel.APP, "RCB001", f"device-{i}") for i in range(20)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, HandoffRefused) for o in outcomes if isinstance(o, Exception))


async def test_an_expired_code_is_refused(codes: tuple[HandoffCodes, aioredis.Redis]) -> None:
    handoffs, client = codes
    made = await handoffs.create("j-3", Channel.BRANCH, "RCB001", "RCB001-00042")
    assert 0 < await client.ttl(handoff_key(made.code)) <= 300
    await client.pexpire(handoff_key(made.code), 1)  # its minutes are up
    await asyncio.sleep(0.01)
    with pytest.raises(HandoffRefused, match="expired"):
        await handoffs.redeem(made.code, Channel.BRANCH, "RCB001", "teller-7")


async def test_another_channel_or_bank_is_refused_without_using_the_code(
    codes: tuple[HandoffCodes, aioredis.Redis],
) -> None:
    handoffs, _ = codes
    made = await handoffs.create("j-4", Channel.BRANCH, "RCB001", "RCB001-00042")
    with pytest.raises(HandoffRefused, match="branch channel"):
        await handoffs.redeem(made.code, Channel.CALL_CENTRE, "RCB001", "agent-1")
    with pytest.raises(HandoffRefused, match="another member bank"):
        await handoffs.redeem(made.code, Channel.BRANCH, "RCB002", "teller-9")
    assert (await handoffs.redeem(made.code, Channel.BRANCH, "RCB001", "teller-7")).journey_id == "j-4"


async def test_failed_redemptions_are_rate_limited_per_redeemer(
    codes: tuple[HandoffCodes, aioredis.Redis],
) -> None:
    handoffs, _ = codes
    made = await handoffs.create("j-5", Channel.BRANCH, "RCB001", "RCB001-00042")
    for _ in range(MAX_FAILURES):
        with pytest.raises(HandoffRefused):
            await handoffs.redeem("ABCDEFGHJ", Channel.BRANCH, "RCB001", "guesser")
    with pytest.raises(HandoffRateLimited) as limited:
        await handoffs.redeem(made.code, Channel.BRANCH, "RCB001", "guesser")  # even a right code now
    assert limited.value.retry_after_s > 0
    assert (await handoffs.redeem(made.code, Channel.BRANCH, "RCB001", "teller-7")).journey_id == "j-5"


async def test_codes_have_enough_entropy_and_no_look_alike_characters(
    codes: tuple[HandoffCodes, aioredis.Redis],
) -> None:
    handoffs, _ = codes
    made = [await handoffs.create(f"j-{i}", Channel.APP, "RCB001", "c") for i in range(50)]
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 35
    assert not set("0O1IL") & set(ALPHABET)
    assert all(len(h.code) == CODE_LENGTH and set(h.code) <= set(ALPHABET) for h in made)
    assert len({h.code for h in made}) == 50
    assert made[0].qr_payload == f"bffhandoff:{made[0].code}"
