"""The kill switch across two BFF processes sharing Redis: suspend through one, the other stops within a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Mint
from tests.support.bff_process import BffServer
from tests.support.graphql_http import CUSTOMER_A, OTHER_BANK_CUSTOMER
from tests.support.miniprogram_world import BILLS, MiniProgramWorld

GRANT = """mutation($app: String!, $scopes: [String!]!) {
  grantMiniProgramConsent(appId: $app, scopes: $scopes) { __typename } }"""
LAUNCH = """mutation($app: String!) { launchMiniProgram(appId: $app) {
  __typename ... on MiniProgramLaunch { bridgeToken } ... on MiniProgramRefused { code message } } }"""
PAYMENT = {"amount": {"value": "88.20", "currency": "CNY"}, "description": "Electricity, October"}


def graphql(server: BffServer, token: str, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]


def launch(server: BffServer, token: str) -> dict[str, Any]:
    graphql(server, token, GRANT, app=BILLS, scopes=["payments.initiate"])
    result: dict[str, Any] = graphql(server, token, LAUNCH, app=BILLS)["launchMiniProgram"]
    return result


def pay(server: BffServer, bridge_token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/miniprogram/bridge/v1/{BILLS}/payment/intents",
        json=PAYMENT,
        headers={"Authorization": f"Bearer {bridge_token}"},
        timeout=5,
    )


@pytest.fixture
def resumed(mp_world: MiniProgramWorld) -> Iterator[MiniProgramWorld]:
    """The world, with the utility-bills app resumed for everyone after the test."""
    yield mp_world
    answer = mp_world.partner(mp_world.first, "POST", f"/apps/{BILLS}/resume", {})
    assert answer.status_code == 200, answer.text


def test_suspend_through_one_process_stops_the_other_within_a_second(
    resumed: MiniProgramWorld, mint: Mint
) -> None:
    world, customer = resumed, mint(CUSTOMER_A)
    bridge_token = launch(world.first, customer)["bridgeToken"]
    assert pay(world.second, bridge_token).status_code == 201  # the second process has the release cached

    suspended = world.partner(world.first, "POST", f"/apps/{BILLS}/suspend", {"reason": "kill switch drill"})
    assert suspended.status_code == 200, suspended.text
    started = time.monotonic()
    while (answer := pay(world.second, bridge_token)).status_code == 201 and time.monotonic() - started < 2:
        time.sleep(0.05)  # 20 calls a second at most: the app allows 30 a minute
    stopped_after = time.monotonic() - started

    assert stopped_after < 1.0, (
        f"the second process still served the suspended app after {stopped_after:.2f} s"
    )
    assert (answer.status_code, answer.json()["code"]) in {
        (403, "APP_SUSPENDED"),
        (401, "BRIDGE_TOKEN_REVOKED"),
    }
    # No new bridge token from either process.
    for server in (world.first, world.second):
        refused = graphql(server, customer, LAUNCH, app=BILLS)["launchMiniProgram"]
        assert refused["__typename"] == "MiniProgramRefused"
        assert refused["code"] == "MINIPROGRAM_NOT_AVAILABLE"


def test_suspend_for_one_member_bank_leaves_the_others_running(resumed: MiniProgramWorld, mint: Mint) -> None:
    world = resumed
    other_bank = mint(OTHER_BANK_CUSTOMER)
    ours = launch(world.first, mint(CUSTOMER_A))["bridgeToken"]
    theirs = launch(world.first, other_bank)["bridgeToken"]

    suspended = world.partner(
        world.first, "POST", f"/apps/{BILLS}/suspend", {"memberBank": "RCB002", "reason": "RCB002 incident"}
    )
    assert suspended.status_code == 200, suspended.text
    started = time.monotonic()
    while pay(world.second, theirs).status_code == 201 and time.monotonic() - started < 2:
        time.sleep(0.05)  # 20 calls a second at most: the app allows 30 a minute

    assert time.monotonic() - started < 1.0
    assert pay(world.second, ours).status_code == 201
    assert graphql(world.second, other_bank, LAUNCH, app=BILLS)["launchMiniProgram"]["__typename"] == (
        "MiniProgramRefused"
    )
