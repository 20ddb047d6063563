"""A real `bff serve` process over the session's Redis and simulators, and tokens to call it with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bff.auth.dev_issuer import DevIssuer
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from tests.support.bff_process import BffServer, start_bff, wait_for_closed_breakers
from tests.support.graphql_http import CUSTOMER_A, HOME_SERVICES, SESSION_MAX_DEPTH, BffClient
from tests.support.processes import RedisServer, Simulators
from tests.support.sim_control import SimControl

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
    }


@pytest.fixture(scope="session")
def bff_server(tmp_path_factory: pytest.TempPathFactory, bff_env: dict[str, str]) -> Iterator[BffServer]:
    env = {**bff_env, "BFF_GRAPHQL_MAX_DEPTH": str(SESSION_MAX_DEPTH)}
    server = start_bff(tmp_path_factory.mktemp("bff"), env)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bff(bff_server: BffServer, mint: Mint) -> Iterator[BffClient]:
    """The session BFF, called as customer A unless a request passes another token."""
    client = BffClient(bff_server.url, mint())
    yield client
    client.close()


@pytest.fixture
def faults(sim_control: SimControl, bff: BffClient) -> Iterator[SimControl]:
    """sim_control for a test that injects faults; afterwards the BFF's breakers are closed again.

    The session BFF keeps its breaker state across tests: heal the simulators,
    then send home-screen queries until every breaker they touch has closed.
    """
    yield sim_control
    sim_control.clear_faults()
    wait_for_closed_breakers(bff.http, bff.home, HOME_SERVICES)


@pytest.fixture(scope="session")
def foreign_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    """An issuer with the same name and key ids as the trusted one, but keys of its own."""
    return DevIssuer(tmp_path_factory.mktemp("foreign-issuer"))


@pytest.fixture(scope="session")
def trusted_redis_url(redis_server: RedisServer) -> str:
    """Redis database 1 of the session server, so trusted documents never meet the APQ keys of db 0."""
    return redis_server.url.rsplit("/", 1)[0] + "/1"


@pytest.fixture(scope="session")
def trusted_bff(
    tmp_path_factory: pytest.TempPathFactory, bff_env: dict[str, str], trusted_redis_url: str, mint: Mint
) -> Iterator[BffClient]:
    """A second BFF that runs registered (trusted) documents only, called as customer A."""
    env = {**bff_env, "REDIS_URL": trusted_redis_url, "BFF_GRAPHQL_TRUSTED_DOCUMENTS": "true"}
    server = start_bff(tmp_path_factory.mktemp("trusted-bff"), env)
    client = BffClient(server.url, mint())
    yield client
    client.close()
    server.stop()
