"""Journey-store fixtures: the definitions, a durable Redis, a 3-master Redis Cluster, a store on either."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bff.journeys.connection import journey_redis
from bff.journeys.definitions import Definitions, load_definitions
from bff.journeys.store import JourneyStore
from tests.journeys.backends import Backend
from tests.journeys.redis_servers import (
    RedisClusterProcesses,
    RedisProcess,
    start_cluster,
    start_durable_redis,
)


@pytest.fixture(scope="session")
def definitions() -> Definitions:
    return load_definitions()


@pytest.fixture(scope="session")
def durable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A standalone Redis configured as journeys need it in production (AOF, fsync always)."""
    server = start_durable_redis(tmp_path_factory.mktemp("journeys-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    cluster = start_cluster(tmp_path_factory.mktemp("journeys-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture
def killable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A durable Redis of the test's own, which it may kill and start again."""
    server = start_durable_redis(tmp_path / "redis")
    yield server
    server.stop()


@pytest.fixture(params=["single", "cluster"])
async def backend(request: pytest.FixtureRequest, definitions: Definitions) -> AsyncIterator[Backend]:
    """The same store over a standalone Redis and over a Redis Cluster; each test uses its own ids."""
    if request.param == "single":
        server: RedisProcess = request.getfixturevalue("durable_redis")
        redis = journey_redis(server.url)
    else:
        cluster: RedisClusterProcesses = request.getfixturevalue("redis_cluster")
        redis = journey_redis(cluster.url, cluster=True)
    yield Backend(request.param, redis, JourneyStore(redis, definitions))
    await redis.aclose()


@pytest.fixture
def member_bank() -> str:
    """A member bank of the test's own, so work queues never mix between tests."""
    return f"RCB{uuid.uuid4().hex[:8].upper()}"
