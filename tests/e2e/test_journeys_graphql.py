"""Journeys through GraphQL on real BFF processes: steps, problems as data, employees, handoff, live updates."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import Mint
from tests.support.bff_process import BffServer
from tests.support.graphql_http import CUSTOMER_A, CUSTOMER_B
from tests.support.miniprogram_world import MiniProgramWorld

FIELDS = "... on Journey { id state version terminal history { version transition toState channel role } messages { senderRole body } } ... on JourneyProblem { code message currentVersion problems { path message } }"
START = f'mutation($p: JSON!, $k: String!) {{ startJourney(definition: "loan-application", payload: $p, idempotencyKey: $k) {{ {FIELDS} }} }}'
ADVANCE = (
    "mutation($id: ID!, $t: String!, $p: JSON!, $v: Int!, $k: String!, $c: JourneyChannel! = APP, $r: EmployeeRole) "
    f"{{ advanceJourney(id: $id, transition: $t, payload: $p, expectedVersion: $v, idempotencyKey: $k, channel: $c, role: $r) {{ {FIELDS} }} }}"
)
LOAN = {"product": "agricultural", "amount": "80000.00", "termMonths": 24}
INCOME = {"employment": {"kind": "farmer", "since": "2015-03-01"}, "monthlyIncome": "6500.00"}
UPDATES = "subscription($id: ID!, $since: Int!) { journeyUpdated(id: $id, sinceVersion: $since) { version transition toState } }"


def call(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def data(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body = call(url, token, query, **variables)
    assert "errors" not in body, body
    result: dict[str, Any] = next(iter(body["data"].values()))
    return result


def updates(journey_id: str, since: int) -> Any:
    request = gql(UPDATES)
    request.variable_values = {"id": journey_id, "since": since}
    return request


def key() -> str:
    return str(uuid.uuid4())


def employee(mint: Mint, role: str) -> str:
    return mint(f"E-{role}", member_bank="RCB001", roles=["employee"], scope=f"journeys:{role}")


def started(url: str, token: str) -> dict[str, Any]:
    journey = data(url, token, START, p=LOAN, k=key())
    assert (journey["state"], journey["version"]) == ("draft", 1)
    return journey


def test_a_loan_application_from_app_to_approval(bff_server: BffServer, mint: Mint) -> None:
    url, customer, approver = bff_server.url, mint(CUSTOMER_A), employee(mint, "approver")
    journey = started(url, customer)
    jid = journey["id"]
    income = data(url, customer, ADVANCE, id=jid, t="provide-income", p=INCOME, v=1, k=key())
    assert (income["state"], income["version"]) == ("income-provided", 2)

    stale = data(url, customer, ADVANCE, id=jid, t="submit", p={"consentToCreditCheck": True}, v=1, k=key())
    assert (stale["code"], stale["currentVersion"]) == ("VERSION_CONFLICT", 2)
    bad = data(
        url, customer, ADVANCE, id=jid, t="provide-income", p={"employment": {"kind": 7}}, v=2, k=key()
    )
    assert bad["code"] == "INVALID_PAYLOAD"
    assert any(p["path"].startswith("$.employment") for p in bad["problems"])
    early = data(url, customer, ADVANCE, id=jid, t="approve", p={"annualRatePercent": "4.35"}, v=2, k=key())
    assert early["code"] in {"TRANSITION_FORBIDDEN", "TRANSITION_NOT_AVAILABLE"}

    submitted = data(
        url, customer, ADVANCE, id=jid, t="submit", p={"consentToCreditCheck": True}, v=2, k=key()
    )
    assert submitted["state"] == "submitted"
    queue = data(url, approver, "{ journeys(waitingFor: APPROVER) { id state } }")
    assert {"id": jid, "state": "submitted"} in queue
    data(
        url,
        customer,
        'mutation($id: ID!) { sendJourneyMessage(journeyId: $id, body: "Harvest is in May") { __typename } }',
        id=jid,
    )

    approved = data(
        url,
        approver,
        ADVANCE,
        id=jid,
        t="approve",
        p={"annualRatePercent": "4.35"},
        v=3,
        k=key(),
        c="BRANCH",
        r="APPROVER",
    )
    assert (approved["state"], approved["terminal"]) == ("approved", True)
    assert [(e["transition"], e["role"]) for e in approved["history"]] == [
        ("start", "customer"),
        ("provide-income", "customer"),
        ("submit", "customer"),
        ("approve", "approver"),
    ]
    assert approved["messages"] == [{"senderRole": "customer", "body": "Harvest is in May"}]
    # Someone else's journey is not found, whoever asks.
    other = call(url, mint(CUSTOMER_B), "query($id: ID!) { journey(id: $id) { id } }", id=jid)
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_the_same_idempotency_key_twenty_times_is_one_step(bff_server: BffServer, mint: Mint) -> None:
    url, customer = bff_server.url, mint(CUSTOMER_A)
    jid = started(url, customer)["id"]
    k = key()
    answers = [
        data(url, customer, ADVANCE, id=jid, t="provide-income", p=INCOME, v=1, k=k) for _ in range(20)
    ]
    assert {(a["version"], a["state"]) for a in answers} == {(2, "income-provided")}
    reused = data(
        url, customer, ADVANCE, id=jid, t="provide-income", p={**INCOME, "monthlyIncome": "1.00"}, v=1, k=k
    )
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_handoff_code_works_once_at_the_branch(bff_server: BffServer, mint: Mint) -> None:
    url, customer, teller = bff_server.url, mint(CUSTOMER_A), employee(mint, "teller")
    jid = started(url, customer)["id"]
    made = data(
        url,
        customer,
        "mutation($id: ID!) { createHandoff(journeyId: $id, channel: BRANCH) { ... on Handoff { code qrPayload } } }",
        id=jid,
    )
    assert made["qrPayload"].endswith(made["code"])
    redeem = "mutation($c: String!) { redeemHandoff(code: $c, channel: BRANCH) { ... on Journey { id } ... on JourneyProblem { code } } }"
    assert data(url, teller, redeem, c=made["code"]) == {"id": jid}
    assert data(url, teller, redeem, c=made["code"]) == {"code": "HANDOFF_INVALID"}


async def test_a_subscriber_on_one_process_sees_steps_made_through_the_other_and_catches_up(
    mp_world: MiniProgramWorld, mint: Mint
) -> None:
    customer = mint(CUSTOMER_B)
    first, second = mp_world.first.url, mp_world.second.url
    jid = started(first, customer)["id"]

    def transport() -> WebsocketsTransport:
        return WebsocketsTransport(
            url=second.replace("http://", "ws://") + "/graphql",
            init_payload={"Authorization": f"Bearer {customer}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )

    async def take(since: int, count: int, during: Any = None) -> list[tuple[int, str]]:
        async with Client(transport=transport()) as session:

            async def consume() -> list[tuple[int, str]]:
                seen: list[tuple[int, str]] = []
                async for event in session.subscribe(updates(jid, since)):
                    seen.append((event["journeyUpdated"]["version"], event["journeyUpdated"]["transition"]))
                    if len(seen) == count:
                        break
                return seen

            consumer = asyncio.create_task(consume())
            if during is not None:
                # Whether the step lands before or after the subscription starts, the replay covers it.
                await asyncio.sleep(0.2)
                await asyncio.to_thread(during)
            return await asyncio.wait_for(consumer, 15)

    def step() -> None:
        data(
            first, customer, ADVANCE, id=jid, t="update-details", p={"purpose": "a greenhouse"}, v=1, k=key()
        )

    # Live: a step through the first process reaches the subscriber on the second.
    assert await take(1, 1, during=step) == [(2, "update-details")]

    # Disconnected: three steps happen; reconnecting with version 2 gets exactly those, in order.
    data(first, customer, ADVANCE, id=jid, t="provide-income", p=INCOME, v=2, k=key())
    data(
        first,
        customer,
        ADVANCE,
        id=jid,
        t="provide-income",
        p={**INCOME, "monthlyIncome": "7000.00"},
        v=3,
        k=key(),
    )
    data(first, customer, ADVANCE, id=jid, t="submit", p={"consentToCreditCheck": True}, v=4, k=key())
    missed = await asyncio.wait_for(take(2, 3), 15)
    assert missed == [(3, "provide-income"), (4, "provide-income"), (5, "submit")]


async def test_only_the_customer_or_their_banks_employees_may_subscribe(
    mp_world: MiniProgramWorld, mint: Mint
) -> None:
    jid = started(mp_world.first.url, mint(CUSTOMER_B))["id"]
    transport = WebsocketsTransport(
        url=mp_world.second.url.replace("http://", "ws://") + "/graphql",
        init_payload={"Authorization": f"Bearer {mint(CUSTOMER_A)}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        with pytest.raises(Exception, match="no journey"):
            async for _ in session.subscribe(updates(jid, 0)):
                pass
