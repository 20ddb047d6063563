"""Shared fixtures: a private redis-server, the simulators, a channel client, a running BFF and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bff.auth.dev_issuer import DevIssuer
from bff.channels.client import ChannelClient
from bff.channels.registry import Registry, load_registry
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from tests.support.bff_process import BffServer, start_bff
from tests.support.graphql_http import CUSTOMER_A, SESSION_MAX_DEPTH
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


_PREFIX = object()
Mint = Callable[..., str]


@pytest.fixture(scope="session")
def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    """The identity provider the session BFFs trust (its public keys are their JWKS file)."""
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="session")
def mint(dev_issuer: DevIssuer) -> Mint:
    """mint(customer, member_bank=<the id's prefix>, **DevIssuer.mint options) -> an access token."""

    def make(customer: str = CUSTOMER_A, member_bank: Any = _PREFIX, **options: Any) -> str:
        bank = customer.partition("-")[0] if member_bank is _PREFIX else member_bank
        return dev_issuer.mint(customer, bank, **options)

    return make


@pytest.fixture(scope="session")
def bff_env(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
    simulators: Simulators,
    dev_issuer: DevIssuer,
) -> dict[str, str]:
    """What an operator sets to run the BFF in production against the simulators."""
    jwks = dev_issuer.write_public_jwks(tmp_path_factory.mktemp("jwks") / "jwks.json")
    secrets_dir = tmp_path_factory.mktemp("host-secrets")
    load_or_create_bridge_key(secrets_dir / "bridge-key.json")
    load_or_create_secret(secrets_dir / "pairwise-secret")
    return {
        "BFF_BRIDGE_SIGNING_KEY_FILE": str(secrets_dir / "bridge-key.json"),
        "BFF_PAIRWISE_SECRET_FILE": str(secrets_dir / "pairwise-secret"),
        "BFF_ENVIRONMENT": "production",
        "REDIS_URL": redis_server.url,
        "BFF_CHANNEL_ENDPOINTS": str(simulators.topology_file),
        "BFF_AUTH_JWKS_FILE": str(jwks),
        "BFF_LOG_LEVEL": "WARNING",
        "BFF_MINIPROGRAM_BUNDLE_DIR": str(tmp_path_factory.mktemp("bundles")),
        # The suite's Redis does not fsync every write; tests/journeys/test_durability.py covers that.
        "BFF_JOURNEYS_REQUIRE_DURABLE": "false",
    }


@pytest.fixture(scope="session")
def bff_server(tmp_path_factory: pytest.TempPathFactory, bff_env: dict[str, str]) -> Iterator[BffServer]:
    env = {**bff_env, "BFF_GRAPHQL_MAX_DEPTH": str(SESSION_MAX_DEPTH)}
    server = start_bff(tmp_path_factory.mktemp("bff"), env)
    yield server
    server.stop()
