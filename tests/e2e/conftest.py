"""Clients of the session BFF (tests/conftest.py starts it), a second trusted-documents BFF, a foreign issuer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bff.auth.dev_issuer import DevIssuer
from tests.conftest import Mint
from tests.support.bff_process import BffServer, start_bff, wait_for_closed_breakers
from tests.support.graphql_http import HOME_SERVICES, BffClient
from tests.support.miniprogram_world import MiniProgramWorld, miniprogram_world
from tests.support.processes import RedisServer
from tests.support.sim_control import SimControl


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


@pytest.fixture(scope="session")
def mp_world(
    tmp_path_factory: pytest.TempPathFactory,
    bff_env: dict[str, str],
    redis_server: RedisServer,
    mint: Mint,
    dev_issuer: DevIssuer,
) -> Iterator[MiniProgramWorld]:
    """Two BFF processes sharing Redis database 3, with both sample mini-programs released to everyone."""
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/3"
    with miniprogram_world(
        tmp_path_factory.mktemp("mp-world"), bff_env, redis_url, mint, dev_issuer
    ) as world:
        yield world
