"""The Redis pool: past its size callers wait for a connection, up to a limit, and never leak a slot."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bff.store.pool import pooled_redis
from bff.store.private_server import free_port
from tests.support.processes import RedisServer

DB = 10  # nothing is written: BLPOP on a key no one pushes to just holds a connection
HOLD_S = 0.2


def url(server: RedisServer) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{DB}"


async def connections_named(server: RedisServer, name: str) -> int:
    probe = pooled_redis(url(server))
    try:
        listing = await probe.client_list()
        return sum(1 for client in listing if client.get("name") == name)
    finally:
        await probe.aclose()


async def test_callers_past_the_pool_size_wait_for_a_connection_instead_of_failing(
    redis_server: RedisServer,
) -> None:
    client = pooled_redis(url(redis_server), max_connections=2, wait_s=5, client_name="pool-wait")
    try:
        peak = 0

        async def hold() -> None:
            nonlocal peak
            assert await client.blpop(["pool:never"], timeout=HOLD_S) is None
            peak = max(peak, await connections_named(redis_server, "pool-wait"))

        await asyncio.gather(*(hold() for _ in range(6)))
        assert 1 <= peak <= 2
        assert await client.ping()
    finally:
        await client.aclose()


async def test_a_caller_that_waits_too_long_gets_an_error_that_says_why(redis_server: RedisServer) -> None:
    client = pooled_redis(url(redis_server), max_connections=1, wait_s=0.05)
    try:
        holder = asyncio.ensure_future(client.blpop(["pool:never"], timeout=1))
        await asyncio.sleep(0.1)  # the only connection is now held
        with pytest.raises(
            RedisConnectionError, match=r"no Redis connection free within 0\.05 s: all 1 are busy"
        ):
            await client.ping()
        assert await holder is None
        assert await client.ping()  # the slot came back
    finally:
        await client.aclose()


async def test_failed_connects_give_their_slot_back() -> None:
    dead = pooled_redis(f"redis://127.0.0.1:{free_port()}/0", max_connections=1, wait_s=0.05)
    try:
        for _ in range(3):
            # Refused each time; if a failed connect kept its slot, the second would say "no connection free".
            with pytest.raises(RedisConnectionError) as refused:
                await dead.ping()
            assert "no Redis connection free" not in str(refused.value)
    finally:
        await dead.aclose()
