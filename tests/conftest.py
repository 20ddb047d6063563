"""Shared fixtures: a private redis-server, the simulators, a channel client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bff.channels.client import ChannelClient
from bff.channels.registry import Registry, load_registry
from tests.support.processes import RedisServer, Simulators, start_redis, start_simulators
from tests.support.sim_control import SimControl


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def simulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulators]:
    sims = start_simulators(tmp_path_factory.mktemp("sim"))
    yield sims
    sims.stop()


@pytest.fixture
def sim_control(simulators: Simulators) -> Iterator[SimControl]:
    """Control API client; every test starts and ends with no faults injected."""
    control = SimControl(simulators.control_url)
    control.clear_faults()
    yield control
    control.clear_faults()
    control.close()


@pytest.fixture(scope="session")
def registry(simulators: Simulators) -> Registry:
    return load_registry(endpoints_file=Path(simulators.topology_file))


@pytest.fixture
async def channel_client(registry: Registry, sim_control: SimControl) -> AsyncIterator[ChannelClient]:
    """A fresh client per test, so breaker and budget state never leak between tests."""
    client = ChannelClient(registry)
    await client.start()
    yield client
    await client.close()
