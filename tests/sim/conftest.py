"""Fixtures for talking to the simulators directly, as a downstream client would."""

from __future__ import annotations

import httpx
import pytest

from sim.accounts import Accounts
from sim.population import Population
from tests.support.processes import Simulators


@pytest.fixture(scope="session")
def service_token(simulators: Simulators) -> str:
    """A client-credentials token with every scope the BFF's client may ask for."""
    response = httpx.post(
        simulators.topology["oauth_token_url"],
        data={"grant_type": "client_credentials"},
        auth=("bff", "bff-dev-secret"),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture(scope="session")
def sim_accounts(simulators: Simulators) -> Accounts:
    """The simulators' seeded accounts, derived locally from the same seed."""
    return Accounts(Population(seed=int(simulators.topology["seed"])))
