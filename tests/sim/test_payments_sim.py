"""The payments simulator over HTTP: idempotency keys, funds, limits and scoping."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from sim.accounts import Accounts, SeedAccount
from tests.support.processes import Simulators

TRANSFERS = "/payments/v1/transfers"
LIMIT_FEN = 5_000_000
# Customers of RCB003 from 09000 up, each used by one test only (the ledger is shared).
_fresh_numbers = itertools.count(9000)


@pytest.fixture
async def dcs(simulators: Simulators, service_token: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    headers = {"Authorization": f"Bearer {service_token}"}
    clients = {
        dc: httpx.AsyncClient(base_url=simulators.url("payments", dc), headers=headers, timeout=10)
        for dc in ("dc-a", "dc-b")
    }
    yield clients
    for client in clients.values():
        await client.aclose()


def fresh_account(accounts: Accounts, accept: Callable[[SeedAccount], bool]) -> SeedAccount:
    """The first current account of a not yet used customer that `accept` likes."""
    for number in _fresh_numbers:
        account = accounts.of_customer(f"RCB003-{number:05d}")[0]
        if accept(account):
            return account
    raise AssertionError("unreachable: the counter is endless")


def order(account: SeedAccount, fen: int, **changes: Any) -> dict[str, Any]:
    body = {
        "customerId": account.customer_id,
        "memberBank": account.member_bank,
        "fromAccountId": account.account_id,
        "toAccountNumber": "6217000010012345678",
        "toName": "Zhang Min",
        "amount": {"value": f"{fen // 100}.{fen % 100:02d}", "currency": "CNY"},
        "memo": "seed money",
    }
    return body | changes


async def post(client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(TRANSFERS, json=body, headers=headers)


async def executed(client: httpx.AsyncClient) -> int:
    response = await client.get("/payments/v1/stats")
    response.raise_for_status()
    return int(response.json()["transfersExecuted"])


async def test_transfer_debits_the_account_and_can_be_read_back(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    response = await post(dcs["dc-a"], order(account, 1234))
    assert response.status_code == 201
    transfer = response.json()
    assert transfer["status"] == "COMPLETED"
    assert transfer["amount"] == {"value": "12.34", "currency": "CNY"}
    assert "Idempotent-Replayed" not in response.headers
    params = {"customerId": account.customer_id, "memberBank": account.member_bank}
    read = await dcs["dc-b"].get(f"{TRANSFERS}/{transfer['transferId']}", params=params)
    assert read.status_code == 200
    assert read.json() == transfer


async def test_repeated_idempotency_key_returns_first_result_and_moves_money_once(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    before = await executed(dcs["dc-a"])
    first = await post(dcs["dc-a"], order(account, 500), key="retry-me")
    again = await post(dcs["dc-b"], order(account, 500), key="retry-me")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await executed(dcs["dc-a"]) == before + 1


async def test_twenty_concurrent_identical_requests_across_data_centres_make_one_transfer(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    # Open ten connections per data centre first, so the twenty requests land together.
    await asyncio.gather(*(executed(client) for client in dcs.values() for _ in range(10)))
    before = await executed(dcs["dc-a"])
    key = str(uuid.uuid4())
    body = order(account, 777)
    responses = await asyncio.gather(*(post(dcs["dc-a" if i % 2 else "dc-b"], body, key) for i in range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["transferId"] for r in responses}) == 1
    assert {r.headers["X-Data-Centre"] for r in responses} == {"dc-a", "dc-b"}
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    assert await executed(dcs["dc-b"]) == before + 1


async def test_same_key_with_a_different_body_is_refused(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    key = str(uuid.uuid4())
    assert (await post(dcs["dc-a"], order(account, 100), key)).status_code == 201
    before = await executed(dcs["dc-a"])
    reused = await post(dcs["dc-b"], order(account, 200), key)
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await executed(dcs["dc-a"]) == before


async def test_idempotency_keys_are_scoped_per_customer(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    one = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    other = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    first = await post(dcs["dc-a"], order(one, 100), "shared-key")
    second = await post(dcs["dc-a"], order(other, 100), "shared-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["transferId"] != second.json()["transferId"]


async def test_missing_idempotency_key_is_rejected(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: True)
    response = await dcs["dc-a"].post(TRANSFERS, json=order(account, 100))
    assert response.status_code == 400
    assert response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert set(response.json()) == {"code", "message", "traceId"}


async def test_insufficient_funds_is_refused_and_the_refusal_is_replayed(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen < LIMIT_FEN)
    key = str(uuid.uuid4())
    body = order(account, account.opening_balance_fen + 1)
    refused = await post(dcs["dc-a"], body, key)
    assert refused.status_code == 422
    assert refused.json()["code"] == "INSUFFICIENT_FUNDS"
    replayed = await post(dcs["dc-b"], body, key)
    assert (replayed.status_code, replayed.json()) == (422, refused.json())
    assert replayed.headers["Idempotent-Replayed"] == "true"


async def test_available_balance_counts_earlier_transfers(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: 1000 < a.opening_balance_fen < LIMIT_FEN)
    half = account.opening_balance_fen // 2
    assert (await post(dcs["dc-a"], order(account, half))).status_code == 201
    rest = account.opening_balance_fen - half
    over = await post(dcs["dc-b"], order(account, rest + 1))
    assert over.json()["code"] == "INSUFFICIENT_FUNDS"
    assert (await post(dcs["dc-b"], order(account, rest))).status_code == 201


async def test_transfer_to_an_account_of_the_group_credits_the_payee(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    payer = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 200_000)
    payee = fresh_account(sim_accounts, lambda a: a.opening_balance_fen < LIMIT_FEN - 100_000)
    credit = await post(dcs["dc-a"], order(payer, 100_000, toAccountNumber=payee.number))
    assert credit.status_code == 201
    # More than the payee's seeded balance: only possible with the credit.
    spend = await post(dcs["dc-b"], order(payee, payee.opening_balance_fen + 50_000))
    assert spend.status_code == 201


async def test_amount_over_the_per_transfer_limit_is_refused(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > LIMIT_FEN + 1)
    response = await post(dcs["dc-a"], order(account, LIMIT_FEN + 1))
    assert response.status_code == 422
    assert response.json()["code"] == "LIMIT_EXCEEDED"


async def test_daily_limit_counts_every_transfer_of_the_customer(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    account = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 5 * LIMIT_FEN)
    for _ in range(4):
        assert (await post(dcs["dc-a"], order(account, LIMIT_FEN))).status_code == 201
    over = await post(dcs["dc-b"], order(account, 1))
    assert over.status_code == 422
    assert over.json()["code"] == "LIMIT_EXCEEDED"


@pytest.mark.parametrize("value", ["0", "0.00", "1.234", "-5", "1e3", "12,00"])
async def test_malformed_amounts_are_rejected(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts, value: str
) -> None:
    account = fresh_account(sim_accounts, lambda a: True)
    body = order(account, 100, amount={"value": value, "currency": "CNY"})
    response = await post(dcs["dc-a"], body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_AMOUNT"


async def test_account_of_another_customer_or_member_bank_is_not_found(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    mine = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    theirs = fresh_account(sim_accounts, lambda a: True)
    stolen = await post(dcs["dc-a"], order(mine, 100, fromAccountId=theirs.account_id))
    other_bank = await post(dcs["dc-a"], order(mine, 100, memberBank="RCB001"))
    for response in (stolen, other_bank):
        assert response.status_code == 404
        assert response.json()["code"] == "ACCOUNT_NOT_FOUND"


async def test_transfer_of_another_customer_is_not_found(
    dcs: dict[str, httpx.AsyncClient], sim_accounts: Accounts
) -> None:
    owner = fresh_account(sim_accounts, lambda a: a.opening_balance_fen > 10_000)
    stranger = fresh_account(sim_accounts, lambda a: True)
    transfer_id = (await post(dcs["dc-a"], order(owner, 100))).json()["transferId"]
    params = {"customerId": stranger.customer_id, "memberBank": stranger.member_bank}
    response = await dcs["dc-b"].get(f"{TRANSFERS}/{transfer_id}", params=params)
    assert response.status_code == 404
    assert response.json()["code"] == "TRANSFER_NOT_FOUND"


async def test_transfers_need_a_payments_write_token(simulators: Simulators, sim_accounts: Accounts) -> None:
    account = fresh_account(sim_accounts, lambda a: True)
    async with httpx.AsyncClient(base_url=simulators.url("payments", "dc-a")) as anonymous:
        response = await post(anonymous, order(account, 100))
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
