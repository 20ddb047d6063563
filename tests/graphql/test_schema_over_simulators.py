"""The schema executed directly against the real simulators.

No HTTP in front: `build_schema().execute(...)` with a RequestContext over a
fresh ChannelClient per test, so what is proven here is the resolvers, the
DataLoaders and the channel adapters, with downstream calls counted by the
simulators themselves.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import math
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from bff.auth.principal import Principal, Role
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelFailure, FailureReason
from bff.channels.registry import Registry
from bff.graphql.context import RequestContext
from bff.graphql.exceptions import BadUserInput, Forbidden, ObjectNotFound
from bff.graphql.ids import from_global_id, to_global_id
from bff.graphql.schema import build_schema
from tests.support.processes import Simulators
from tests.support.sim_control import SimControl
from tests.support.tuning import tuned

CUSTOMER_A = "RCB001-00042"
CUSTOMER_B = "RCB001-00043"  # same member bank as A
OTHER_BANK_CUSTOMER = "RCB002-00042"
PAGER = "RCB001-00043"  # first account holds 46 transactions: seven pages of seven
OUTSIDE_ACCOUNT = "6217000010012345678"  # not a group account: transfers there credit nobody we read
PER_TRANSFER_LIMIT = Decimal("50000.00")

HOME = """
query Home {
  me {
    id
    memberBank
    profile { name age assetsTier maskedPhone }
    accounts {
      id name kind
      balance { amount currency }
      transactions(first: 3) { totalCount edges { node { id amount { amount } direction } } }
    }
    cards { id kind productName }
    loans(first: 5) { totalCount edges { node { id product outstanding { amount } } } }
    wealth { total { amount currency } holdings { fundCode } }
    unreadMessageCount
    messageThreads { id subject unreadCount }
  }
  contentFeed(first: 5) { edges { node { id kind title } } pageInfo { hasNextPage } }
}
"""

OWNED = """
query Owned {
  me {
    id
    accounts { id }
    cards { id }
    loans(first: 1) { edges { node { id } } }
    messageThreads { id }
  }
  contentFeed(first: 3) { edges { node { id } } }
}
"""

NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"

TRANSACTIONS = """
query Transactions($first: Int!, $after: String) {
  me {
    accounts {
      transactions(first: $first, after: $after) {
        totalCount
        edges { cursor node { id bookedAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

ACCOUNTS = "query Accounts { me { accounts { id kind available { amount } balance { amount } } } }"

LATEST_TRANSACTION = """
query Latest {
  me { accounts { id transactions(first: 1) { edges { node { amount { amount } direction description } } } } }
}
"""

TRANSFER = """
mutation Transfer($input: TransferInput!) {
  transfer(input: $input) {
    __typename
    ... on TransferDone {
      transfer { id status amount { amount currency } toAccountNumber toName memo createdAt }
    }
    ... on TransferRefused { code message field }
  }
}
"""


def customer(customer_id: str) -> Principal:
    member_bank = customer_id.split("-")[0]
    return Principal(customer_id, member_bank, frozenset({Role.CUSTOMER}), frozenset(), None, 4.1e9)


class Caller:
    """Runs operations against the schema the way the HTTP layer would, minus HTTP."""

    def __init__(self, schema: strawberry.Schema, client: ChannelClient) -> None:
        self._schema = schema
        self._channels = Channels.over(client)

    async def __call__(self, principal: Principal, query: str, **variables: Any) -> ExecutionResult:
        context = RequestContext(principal, self._channels, f"req-{uuid.uuid4().hex[:8]}")
        return await self._schema.execute(query, variable_values=variables, context_value=context)

    async def data(self, principal: Principal, query: str, **variables: Any) -> dict[str, Any]:
        """The data of an operation that must succeed without errors."""
        result = await self(principal, query, **variables)
        assert result.errors is None, [error.message for error in result.errors or []]
        assert result.data is not None
        return result.data


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return build_schema()


@pytest.fixture
def ask(schema: strawberry.Schema, channel_client: ChannelClient) -> Caller:
    return Caller(schema, channel_client)


def downstream_calls(control: SimControl) -> dict[str, int]:
    """Requests per service since the last reset, dc-a and dc-b together; services not called are absent."""
    calls: Counter[str] = Counter()
    for key, counters in control.stats().items():
        service, slash, _dc = key.partition("/")
        if slash:
            calls[service] += int(counters["requests"])
    return {service: count for service, count in calls.items() if count}


def only_error(result: ExecutionResult) -> GraphQLError:
    assert result.errors is not None
    assert len(result.errors) == 1, [error.message for error in result.errors]
    return result.errors[0]


def assert_present(*fields: Any) -> None:
    assert all(fields), "every field but the failed service's arrived"


# --- the home screen -------------------------------------------------------------------------


async def test_home_screen_query_returns_data_from_seven_services_without_errors(
    ask: Caller, sim_control: SimControl
) -> None:
    sim_control.reset_stats()
    data = await ask.data(customer(CUSTOMER_A), HOME)
    me = data["me"]
    assert me["id"] == to_global_id("Customer", CUSTOMER_A)
    assert me["memberBank"] == "RCB001"
    assert me["profile"]["name"]
    assert me["accounts"], "core banking"
    assert all(a["transactions"]["edges"] for a in me["accounts"]), "core banking history"
    assert me["cards"], "cards"
    assert me["loans"]["edges"], "loans"
    assert me["wealth"]["total"]["currency"] == "CNY", "wealth"
    assert me["messageThreads"], "messages"
    assert me["unreadMessageCount"] == sum(t["unreadCount"] for t in me["messageThreads"])
    assert len(data["contentFeed"]["edges"]) == 5, "content"
    called = downstream_calls(sim_control)
    assert {"crm", "core_banking", "cards", "loans", "wealth", "messages", "content"} <= called.keys()


async def test_home_screen_costs_one_call_per_service_plus_one_history_read_per_account(
    ask: Caller, sim_control: SimControl
) -> None:
    sim_control.reset_stats()
    data = await ask.data(customer(CUSTOMER_A), HOME)
    accounts = len(data["me"]["accounts"])
    assert downstream_calls(sim_control) == {
        "crm": 1,
        "core_banking": 1 + accounts,
        "cards": 1,
        "loans": 1,
        "wealth": 1,
        "messages": 1,
        "content": 1,
    }


# --- downstream calls per query (DataLoaders) ------------------------------------------------


async def test_repeated_asks_for_accounts_threads_and_profile_cost_one_call_each(
    ask: Caller, sim_control: SimControl
) -> None:
    own = await ask.data(customer(CUSTOMER_A), ACCOUNTS)
    first, second = (account["id"] for account in own["me"]["accounts"][:2])
    query = """
    query Dedupe($first: ID!, $second: ID!) {
      me {
        accounts { id name }
        unreadMessageCount
        messageThreads { id }
        who: profile { name }
        again: profile { age }
      }
      one: node(id: $first) { id ... on Account { balance { amount } } }
      two: node(id: $second) { id ... on Account { name } }
    }
    """
    sim_control.reset_stats()
    data = await ask.data(customer(CUSTOMER_A), query, first=first, second=second)
    assert (data["one"]["id"], data["two"]["id"]) == (first, second)
    assert data["me"]["who"]["name"]
    assert data["me"]["again"]["age"] > 0
    assert downstream_calls(sim_control) == {"core_banking": 1, "messages": 1, "crm": 1}


async def test_feed_and_three_content_nodes_cost_one_feed_call_and_one_batch_call(
    ask: Caller, sim_control: SimControl
) -> None:
    feed = await ask.data(customer(CUSTOMER_A), "{ contentFeed(first: 3) { edges { node { id } } } }")
    ids = [edge["node"]["id"] for edge in feed["contentFeed"]["edges"]]
    query = """
    query Content($ids: [ID!]!) {
      contentFeed(first: 5) { edges { node { id } } }
      nodes(ids: $ids) { id ... on ContentItem { title kind } }
    }
    """
    sim_control.reset_stats()
    data = await ask.data(customer(CUSTOMER_A), query, ids=ids)
    assert [node["id"] for node in data["nodes"]] == ids
    assert all(node["title"] for node in data["nodes"])
    assert downstream_calls(sim_control) == {"content": 2}


# --- partial results -------------------------------------------------------------------------


async def test_cards_down_in_both_data_centres_nulls_only_the_cards(
    ask: Caller, sim_control: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("cards", dc, down=True)
    result = await ask(customer(CUSTOMER_A), HOME)
    assert result.data is not None
    me = result.data["me"]
    assert me["cards"] is None
    assert_present(me["profile"], me["accounts"], me["loans"], me["wealth"], me["messageThreads"])
    assert result.data["contentFeed"]["edges"]
    error = only_error(result)
    assert error.path == ["me", "cards"]
    assert isinstance(error.original_error, ChannelFailure)
    assert error.original_error.service == "cards"


async def test_wealth_slower_than_its_deadline_nulls_only_the_wealth(
    registry: Registry, schema: strawberry.Schema, sim_control: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("wealth", dc, latency_ms=3000)
    client = ChannelClient(tuned(registry, "wealth", timeout_ms=150, deadline_ms=300))
    await client.start()
    try:
        started = time.monotonic()
        result = await Caller(schema, client)(customer(CUSTOMER_A), HOME)
        waited = time.monotonic() - started
    finally:
        await client.close()
    assert result.data is not None
    me = result.data["me"]
    assert me["wealth"] is None
    assert_present(me["profile"], me["accounts"], me["cards"], me["loans"], me["messageThreads"])
    error = only_error(result)
    assert error.path == ["me", "wealth"]
    assert isinstance(error.original_error, ChannelFailure)
    assert (error.original_error.service, error.original_error.reason) == ("wealth", FailureReason.TIMEOUT)
    assert waited < 2.0, "the screen did not wait for the slow service's 3 s answer"


async def test_nodes_reports_a_downstream_failure_instead_of_a_silent_null(
    ask: Caller, sim_control: SimControl
) -> None:
    own = await ask.data(customer(CUSTOMER_A), OWNED)
    card, account = own["me"]["cards"][0]["id"], own["me"]["accounts"][0]["id"]
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("cards", dc, down=True)
    result = await ask(
        customer(CUSTOMER_A), "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[card, account]
    )
    assert result.data == {"nodes": [None, {"id": account}]}
    error = only_error(result)  # a card that exists must not look like one that does not
    assert error.path == ["nodes", 0]
    assert isinstance(error.original_error, ChannelFailure)
    assert error.original_error.service == "cards"


# --- scoping: ids of others resolve like ids that do not exist -------------------------------


async def owned_ids(ask: Caller, customer_id: str) -> dict[str, str]:
    """One real global id of each kind the customer holds, read as that customer."""
    data = await ask.data(customer(customer_id), OWNED)
    me = data["me"]
    return {
        "Customer": me["id"],
        "Account": me["accounts"][0]["id"],
        "Card": me["cards"][0]["id"],
        "Loan": me["loans"]["edges"][0]["node"]["id"],
        "MessageThread": me["messageThreads"][0]["id"],
        "ContentItem": data["contentFeed"]["edges"][0]["node"]["id"],
    }


async def test_node_finds_each_kind_of_the_callers_own_objects(ask: Caller) -> None:
    for kind, global_id in (await owned_ids(ask, CUSTOMER_A)).items():
        data = await ask.data(customer(CUSTOMER_A), NODE, id=global_id)
        assert data["node"] == {"__typename": kind, "id": global_id}


@pytest.mark.parametrize(
    ("owner", "kind"),
    [
        (CUSTOMER_B, "Customer"),
        (CUSTOMER_B, "Account"),
        (CUSTOMER_B, "Card"),
        (CUSTOMER_B, "Loan"),
        (CUSTOMER_B, "MessageThread"),
        (OTHER_BANK_CUSTOMER, "Customer"),
        (OTHER_BANK_CUSTOMER, "Account"),
        (OTHER_BANK_CUSTOMER, "Card"),
        (OTHER_BANK_CUSTOMER, "Loan"),
        (OTHER_BANK_CUSTOMER, "MessageThread"),
        (OTHER_BANK_CUSTOMER, "ContentItem"),
    ],
)
async def test_node_of_someone_elses_object_is_not_found(ask: Caller, owner: str, kind: str) -> None:
    foreign = (await owned_ids(ask, owner))[kind]
    type_name, key = from_global_id(foreign)
    assert type_name == kind
    assert key.startswith(owner.split("-")[0]), "a real id of the owner's member bank"
    result = await ask(customer(CUSTOMER_A), NODE, id=to_global_id(kind, key))
    assert result.data == {"node": None}
    error = only_error(result)
    assert error.path == ["node"]
    assert isinstance(error.original_error, ObjectNotFound)
    assert key not in error.message, "the refusal reveals nothing of the object"


async def test_nodes_mixing_own_and_foreign_ids_returns_only_the_own(ask: Caller) -> None:
    own = await owned_ids(ask, CUSTOMER_A)
    foreign = await owned_ids(ask, CUSTOMER_B)
    ids = [own["Account"], foreign["Account"], own["Card"], foreign["Card"], foreign["Loan"]]
    data = await ask.data(customer(CUSTOMER_A), "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=ids)
    assert data["nodes"] == [{"id": own["Account"]}, None, {"id": own["Card"]}, None, None]


async def test_employee_asking_for_me_is_forbidden(ask: Caller) -> None:
    employee = Principal("emp-0007", "RCB001", frozenset({Role.EMPLOYEE}), frozenset(), None, 4.1e9)
    result = await ask(employee, "{ me { id accounts { id } } }")
    assert result.data is None
    error = only_error(result)
    assert error.path == ["me"]
    assert isinstance(error.original_error, Forbidden)
    assert "employee" in error.message


# --- Relay paging ----------------------------------------------------------------------------


async def transactions_page(ask: Caller, first: int, after: str | None) -> dict[str, Any]:
    data = await ask.data(customer(PAGER), TRANSACTIONS, first=first, after=after)
    page: dict[str, Any] = data["me"]["accounts"][0]["transactions"]
    return page


async def walk(ask: Caller, first: int) -> list[dict[str, Any]]:
    pages = [await transactions_page(ask, first, None)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        assert len(pages) < 100, "the walk does not end"
        pages.append(await transactions_page(ask, first, pages[-1]["pageInfo"]["endCursor"]))
    return pages


async def test_walking_transactions_by_end_cursor_yields_each_exactly_once_newest_first(
    ask: Caller,
) -> None:
    pages = await walk(ask, 7)
    total = pages[0]["totalCount"]
    nodes = [edge["node"] for page in pages for edge in page["edges"]]
    ids = [node["id"] for node in nodes]
    assert total > 7 * 3, "enough history to cross several pages"
    assert len(ids) == total
    assert len(set(ids)) == total
    booked = [node["bookedAt"] for node in nodes]
    assert booked == sorted(booked, reverse=True)
    assert len(pages) == math.ceil(total / 7), "every page but the last is full"


async def test_an_edge_cursor_continues_right_after_that_edge(ask: Caller) -> None:
    pages = await walk(ask, 7)
    ids = [edge["node"]["id"] for page in pages for edge in page["edges"]]
    inside_first = pages[0]["edges"][2]["cursor"]
    inside_second = pages[1]["edges"][3]["cursor"]  # a cursor within a later downstream page
    after_third = await transactions_page(ask, 5, inside_first)
    after_eleventh = await transactions_page(ask, 5, inside_second)
    assert [edge["node"]["id"] for edge in after_third["edges"]] == ids[3:8]
    assert [edge["node"]["id"] for edge in after_eleventh["edges"]] == ids[11:16]


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "!!not base64!!",
        base64.urlsafe_b64encode(b"c9:0:").decode(),
        base64.urlsafe_b64encode(b"c1:0:forged-downstream-cursor").decode(),
    ],
    ids=["garbage", "not-base64", "unknown-version", "forged-inner-cursor"],
)
async def test_a_cursor_not_issued_by_the_connection_is_bad_user_input(ask: Caller, after: str) -> None:
    result = await ask(customer(PAGER), TRANSACTIONS, first=5, after=after)
    error = only_error(result)
    assert error.path == ["me", "accounts", 0, "transactions"]
    assert isinstance(error.original_error, BadUserInput)
    assert "endCursor" in error.message


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_one_to_a_hundred_is_refused(ask: Caller, first: int) -> None:
    result = await ask(customer(PAGER), TRANSACTIONS, first=first, after=None)
    error = only_error(result)
    assert isinstance(error.original_error, BadUserInput)
    assert "`first` must be between 1 and 100" in error.message


# --- the transfer mutation -------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_token(simulators: Simulators) -> str:
    response = httpx.post(
        simulators.topology["oauth_token_url"],
        data={"grant_type": "client_credentials"},
        auth=("bff", "bff-dev-secret"),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


class PaymentsLedger:
    """The payments simulator's own count of executed transfers."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def executed(self) -> int:
        response = await self._http.get("/payments/v1/stats")
        response.raise_for_status()
        return int(response.json()["transfersExecuted"])


@pytest.fixture
async def payments(simulators: Simulators, service_token: str) -> AsyncIterator[PaymentsLedger]:
    headers = {"Authorization": f"Bearer {service_token}"}
    async with httpx.AsyncClient(base_url=simulators.url("payments", "dc-a"), headers=headers) as http:
        yield PaymentsLedger(http)


# Customers of RCB003 from 08000 up, each taken by one test only: the payments ledger lives all session.
_payer_numbers = itertools.count(8000)


async def first_account(ask: Caller, customer_id: str) -> tuple[str, Decimal]:
    data = await ask.data(customer(customer_id), ACCOUNTS)
    account = data["me"]["accounts"][0]
    return account["id"], Decimal(account["available"]["amount"])


async def fresh_payer(ask: Caller, below: Decimal | None = None) -> tuple[str, str, Decimal]:
    """An unused customer, their first account's id and its available balance (under `below`)."""
    for number in _payer_numbers:
        customer_id = f"RCB003-{number:05d}"
        account_id, available = await first_account(ask, customer_id)
        if available > 100 and (below is None or available < below):
            return customer_id, account_id, available
    raise AssertionError("unreachable: the counter is endless")


def transfer_input(account_id: str, yuan: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fromAccountId": account_id,
        "toAccountNumber": OUTSIDE_ACCOUNT,
        "toName": "Zhang Min",
        "amount": {"amount": yuan, "currency": "CNY"},
        "idempotencyKey": str(uuid.uuid4()),
        "memo": "",
    }
    return body | changes


async def transfer(ask: Caller, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    data = await ask.data(customer(customer_id), TRANSFER, input=body)
    result: dict[str, Any] = data["transfer"]
    return result


async def test_transfer_moves_the_money_and_returns_the_transfer(ask: Caller) -> None:
    payer, account, before = await fresh_payer(ask)
    result = await transfer(ask, payer, transfer_input(account, "12.34", memo="rent for May"))
    assert result["__typename"] == "TransferDone"
    done = result["transfer"]
    assert done["status"] == "COMPLETED"
    assert done["amount"] == {"amount": "12.34", "currency": "CNY"}
    assert (done["toAccountNumber"], done["toName"], done["memo"]) == (
        OUTSIDE_ACCOUNT,
        "Zhang Min",
        "rent for May",
    )
    assert from_global_id(done["id"])[0] == "Transfer"
    assert (await first_account(ask, payer))[1] == before - Decimal("12.34")
    latest = (await ask.data(customer(payer), LATEST_TRANSACTION))["me"]["accounts"][0]
    assert latest["transactions"]["edges"][0]["node"] == {
        "amount": {"amount": "12.34"},
        "direction": "DEBIT",
        "description": "rent for May",
    }


async def test_same_idempotency_key_five_times_gives_one_transfer_and_five_identical_answers(
    ask: Caller, payments: PaymentsLedger
) -> None:
    payer, account, before = await fresh_payer(ask)
    body = transfer_input(account, "7.77")
    executed = await payments.executed()
    answers = await asyncio.gather(*(transfer(ask, payer, body) for _ in range(5)))
    assert answers[0]["__typename"] == "TransferDone"
    assert all(answer == answers[0] for answer in answers)
    assert await payments.executed() == executed + 1
    assert (await first_account(ask, payer))[1] == before - Decimal("7.77")


async def test_same_idempotency_key_with_another_amount_is_refused_as_data(ask: Caller) -> None:
    payer, account, _ = await fresh_payer(ask)
    body = transfer_input(account, "1.00")
    assert (await transfer(ask, payer, body))["__typename"] == "TransferDone"
    reused = await transfer(ask, payer, body | {"amount": {"amount": "2.00", "currency": "CNY"}})
    assert reused["__typename"] == "TransferRefused"
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_transfer_beyond_the_balance_is_refused_as_insufficient_funds(
    ask: Caller, payments: PaymentsLedger
) -> None:
    payer, account, before = await fresh_payer(ask, below=PER_TRANSFER_LIMIT - 100)
    executed = await payments.executed()
    refused = await transfer(ask, payer, transfer_input(account, str(before + Decimal("1.00"))))
    assert refused["__typename"] == "TransferRefused"
    assert refused["code"] == "INSUFFICIENT_FUNDS"
    assert refused["message"]
    assert await payments.executed() == executed
    assert (await first_account(ask, payer))[1] == before


async def test_transfer_beyond_the_per_transfer_limit_is_refused_as_limit_exceeded(
    ask: Caller, payments: PaymentsLedger
) -> None:
    payer, account, before = await fresh_payer(ask)
    executed = await payments.executed()
    refused = await transfer(ask, payer, transfer_input(account, str(PER_TRANSFER_LIMIT + Decimal("0.01"))))
    assert refused["__typename"] == "TransferRefused"
    assert refused["code"] == "LIMIT_EXCEEDED"
    assert "50000.00" in refused["message"]
    assert await payments.executed() == executed
    assert (await first_account(ask, payer))[1] == before


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"amount": {"amount": "0", "currency": "CNY"}}, "INVALID_AMOUNT", "amount"),
        ({"amount": {"amount": "-5.00", "currency": "CNY"}}, "INVALID_AMOUNT", "amount"),
        ({"amount": {"amount": "1.234", "currency": "CNY"}}, "INVALID_AMOUNT", "amount"),
        ({"idempotencyKey": ""}, "INVALID_INPUT", "idempotencyKey"),
        ({"idempotencyKey": "   "}, "INVALID_INPUT", "idempotencyKey"),
    ],
    ids=["zero", "negative", "three-decimals", "empty-key", "blank-key"],
)
async def test_bad_amount_or_key_is_refused_as_data_before_calling_payments(
    ask: Caller, sim_control: SimControl, changes: dict[str, Any], code: str, field: str
) -> None:
    payer, account, _ = await fresh_payer(ask)
    sim_control.reset_stats()
    refused = await transfer(ask, payer, transfer_input(account, "1.00", **changes))
    assert refused["__typename"] == "TransferRefused"
    assert (refused["code"], refused["field"]) == (code, field)
    assert refused["message"]
    assert "payments" not in downstream_calls(sim_control)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"toAccountNumber": "12345"}, "toAccountNumber"),
        ({"toName": ""}, "toName"),
        ({"memo": "x" * 141}, "memo"),
        ({"amount": {"amount": "1.00", "currency": "USD"}}, "amount"),
    ],
    ids=["short-account-number", "empty-name", "long-memo", "foreign-currency"],
)
async def test_other_bad_input_is_refused_as_data_naming_the_field(
    ask: Caller, payments: PaymentsLedger, changes: dict[str, Any], field: str
) -> None:
    payer, account, _ = await fresh_payer(ask)
    executed = await payments.executed()
    result = await ask(customer(payer), TRANSFER, input=transfer_input(account, "1.00", **changes))
    assert result.errors is None, [error.message for error in result.errors or []]
    assert result.data is not None
    refused = result.data["transfer"]
    assert refused["__typename"] == "TransferRefused"
    assert refused["field"] == field
    assert await payments.executed() == executed


async def test_transfer_from_another_customers_account_is_refused_and_moves_nothing(
    ask: Caller, payments: PaymentsLedger
) -> None:
    thief, _, _ = await fresh_payer(ask)
    victim, victims_account, victims_balance = await fresh_payer(ask)
    assert from_global_id(victims_account) == ("Account", f"{victim}-A1")
    executed = await payments.executed()
    refused = await transfer(ask, thief, transfer_input(victims_account, "10.00"))
    assert refused["__typename"] == "TransferRefused"
    assert refused["code"] == "ACCOUNT_NOT_FOUND"
    assert await payments.executed() == executed
    assert (await first_account(ask, victim))[1] == victims_balance
