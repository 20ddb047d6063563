"""The payments adapter through the real channel client and simulators."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from bff.channels.call import Call, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import CustomerScope, Money, Transfer
from bff.channels.payments import PaymentsChannel
from bff.channels.registry import Registry
from sim.accounts import Accounts, SeedAccount
from sim.population import Population
from tests.support.processes import Simulators
from tests.support.sim_control import SimControl

# Customers of RCB002 from 09000 up, each used by one test only (the ledger is shared).
_fresh_numbers = itertools.count(9000)
PAYEE = "6217000010012345678"


@pytest.fixture(scope="module")
def accounts(simulators: Simulators) -> Accounts:
    return Accounts(Population(seed=int(simulators.topology["seed"])))


def fresh_account(accounts: Accounts, accept: Callable[[SeedAccount], bool]) -> SeedAccount:
    for number in _fresh_numbers:
        account = accounts.of_customer(f"RCB002-{number:05d}")[0]
        if accept(account):
            return account
    raise AssertionError("unreachable: the counter is endless")


def scope_of(account: SeedAccount) -> CustomerScope:
    return CustomerScope(account.customer_id, account.member_bank)


def cny(value: str) -> Money:
    return Money(Decimal(value), "CNY")


async def pay(
    channel: PaymentsChannel, account: SeedAccount, amount: Money, key: str | None = None
) -> Transfer:
    return await channel.transfer(
        scope_of(account), account.account_id, PAYEE, "Zhang Min", amount, "fees", key or str(uuid.uuid4())
    )


async def executed(client: ChannelClient) -> int:
    def count(reply: Reply) -> int:
        return int(reply.json()["transfersExecuted"])

    return await client.call("payments", Call("GET", "/payments/v1/stats", "payments.stats", True), count)


async def test_transfer_returns_a_domain_transfer_with_decimal_money(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    account = fresh_account(accounts, lambda a: a.opening_balance_fen > 10_000)
    transfer = await pay(PaymentsChannel(channel_client), account, cny("12.30"), key="key-1")
    assert transfer.status == "COMPLETED"
    assert transfer.amount == Money(Decimal("12.30"), "CNY")
    assert isinstance(transfer.amount.amount, Decimal)
    assert (transfer.from_account_id, transfer.to_account_number) == (account.account_id, PAYEE)
    assert (transfer.idempotency_key, transfer.memo) == ("key-1", "fees")
    assert transfer.created_at.tzinfo is not None


async def test_repeated_idempotency_key_returns_the_first_transfer(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    channel = PaymentsChannel(channel_client)
    account = fresh_account(accounts, lambda a: a.opening_balance_fen > 10_000)
    before = await executed(channel_client)
    first = await pay(channel, account, cny("5"), key="same")
    again = await pay(channel, account, cny("5"), key="same")
    assert again == first
    assert await executed(channel_client) == before + 1


async def test_transfer_retried_after_a_garbled_answer_moves_money_once(
    registry: Registry, sim_control: SimControl, accounts: Accounts
) -> None:
    # dc-a executes every transfer but garbles the answer; the client retries
    # (the key makes that safe), and whichever centre answers replays the first result.
    sim_control.set_faults("payments", "dc-a", malformed_rate=1.0)
    account = fresh_account(accounts, lambda a: a.opening_balance_fen > 100_000)
    async with ChannelClient(registry, rng=random.Random(20261127)) as client:
        channel = PaymentsChannel(client)
        before = await executed(client)
        transfers = [await pay(channel, account, cny("1.00")) for _ in range(8)]
        after = await executed(client)
    assert len({t.transfer_id for t in transfers}) == 8
    assert after == before + 8
    assert sim_control.stats()["payments/dc-a"]["malformed"] > 0


async def test_same_key_with_another_amount_is_rejected_with_its_code(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    channel = PaymentsChannel(channel_client)
    account = fresh_account(accounts, lambda a: a.opening_balance_fen > 10_000)
    await pay(channel, account, cny("1"), key="reused")
    with pytest.raises(ChannelRejected) as refused:
        await pay(channel, account, cny("2"), key="reused")
    assert (refused.value.code, refused.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)


async def test_insufficient_funds_is_a_rejection_not_a_failure(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    account = fresh_account(accounts, lambda a: a.opening_balance_fen < 5_000_000)
    too_much = Money(Decimal(account.opening_balance_fen + 1).scaleb(-2), "CNY")
    with pytest.raises(ChannelRejected) as refused:
        await pay(PaymentsChannel(channel_client), account, too_much)
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert refused.value.service == "payments"


async def test_amount_over_the_limit_is_rejected_with_limit_exceeded(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    account = fresh_account(accounts, lambda a: a.opening_balance_fen > 6_000_000)
    with pytest.raises(ChannelRejected) as refused:
        await pay(PaymentsChannel(channel_client), account, cny("50000.01"))
    assert refused.value.code == "LIMIT_EXCEEDED"


async def test_amount_with_more_than_two_decimals_is_rejected(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    account = fresh_account(accounts, lambda a: True)
    with pytest.raises(ChannelRejected) as refused:
        await pay(PaymentsChannel(channel_client), account, cny("1.005"))
    assert refused.value.code == "INVALID_AMOUNT"


async def test_transfer_is_read_back_only_by_its_customer(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    channel = PaymentsChannel(channel_client)
    owner = fresh_account(accounts, lambda a: a.opening_balance_fen > 10_000)
    stranger = fresh_account(accounts, lambda a: True)
    transfer = await pay(channel, owner, cny("3.21"))
    assert await channel.get_transfer(scope_of(owner), transfer.transfer_id) == transfer
    with pytest.raises(NotFound) as missing:
        await channel.get_transfer(scope_of(stranger), transfer.transfer_id)
    assert missing.value.code == "TRANSFER_NOT_FOUND"


async def test_account_of_another_customer_is_not_found(
    channel_client: ChannelClient, accounts: Accounts
) -> None:
    mine = fresh_account(accounts, lambda a: True)
    theirs = fresh_account(accounts, lambda a: a.opening_balance_fen > 10_000)
    with pytest.raises(NotFound) as missing:
        await PaymentsChannel(channel_client).transfer(
            scope_of(mine), theirs.account_id, PAYEE, "Zhang Min", cny("1"), "", str(uuid.uuid4())
        )
    assert missing.value.code == "ACCOUNT_NOT_FOUND"
