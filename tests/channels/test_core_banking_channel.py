"""The core banking adapter through the real channel client and the XML simulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bff.channels.client import ChannelClient
from bff.channels.core_banking import CoreBankingChannel
from bff.channels.errors import ChannelFailure, ChannelRejected, FailureReason, NotFound
from bff.channels.models import Account, CustomerScope, Money, Transaction
from tests.support.sim_control import SimControl

SCOPE = CustomerScope("RCB001-00042", "RCB001")


def assert_yuan(money: Money) -> None:
    assert isinstance(money.amount, Decimal)
    assert money.amount.as_tuple().exponent == -2
    assert money.currency == "CNY"


async def test_accounts_are_domain_accounts_with_decimal_balances(channel_client: ChannelClient) -> None:
    accounts = await CoreBankingChannel(channel_client).accounts(SCOPE)
    assert [a.kind for a in accounts] == ["current", "savings", "fixed_deposit"][: len(accounts)]
    for account in accounts:
        assert isinstance(account, Account)
        assert (account.customer_id, account.member_bank) == (SCOPE.customer_id, SCOPE.member_bank)
        assert_yuan(account.balance)
        assert account.available.amount <= account.balance.amount
        assert isinstance(account.opened_on, date)
        assert account.status in {"active", "dormant"}
        assert len(account.number) == 19


async def test_history_pages_yield_exactly_total_records_distinct_transactions(
    channel_client: ChannelClient,
) -> None:
    channel = CoreBankingChannel(channel_client)
    page = await channel.transactions(SCOPE, "RCB001-00042-A1", first=37, after=None)
    seen: list[Transaction] = list(page.items)
    while page.next_cursor is not None:
        page = await channel.transactions(SCOPE, "RCB001-00042-A1", first=37, after=page.next_cursor)
        assert len(page.items) <= 37
        seen += page.items
    assert page.total is not None
    assert page.total > 37
    assert len({t.transaction_id for t in seen}) == len(seen) == page.total
    times = [t.booked_at for t in seen]
    assert times == sorted(times, reverse=True)
    assert all(t.tzinfo is not None for t in times)
    for txn in seen:
        assert txn.source_id == "RCB001-00042-A1"
        assert txn.amount.amount > 0
        assert txn.balance_after is not None
        assert_yuan(txn.amount)


async def test_balances_batch_many_ids_in_calls_of_50_and_leave_out_strangers(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    own = [f"RCB001-00042-A{n}" for n in (1, 2, 3)]
    strangers = [f"RCB001-{n:05d}-A1" for n in range(100, 160)]
    sim_control.reset_stats()
    found = await CoreBankingChannel(channel_client).balances(SCOPE, [*own, *strangers, own[0]])
    calls = sim_control.requests("core_banking", "dc-a") + sim_control.requests("core_banking", "dc-b")
    accounts = {a.account_id: a for a in await CoreBankingChannel(channel_client).accounts(SCOPE)}
    assert found == accounts
    assert calls == 2  # 63 distinct ids: one BAL_INQ of 50 and one of 13


async def test_account_of_another_customer_is_not_found(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await CoreBankingChannel(channel_client).transactions(SCOPE, "RCB001-00043-A1", 10, None)
    assert (missing.value.service, missing.value.code) == ("core_banking", "E1001")


async def test_customer_of_another_member_bank_is_not_found(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await CoreBankingChannel(channel_client).accounts(CustomerScope("RCB001-00042", "RCB002"))
    assert missing.value.code == "E1002"


async def test_cursor_not_issued_by_the_adapter_is_rejected_before_any_call(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    sim_control.reset_stats()
    with pytest.raises(ChannelRejected) as rejected:
        await CoreBankingChannel(channel_client).transactions(SCOPE, "RCB001-00042-A1", 10, "b2Zmc2V0Oi0x")
    assert rejected.value.code == "INVALID_CURSOR"
    assert sim_control.requests("core_banking", "dc-a") + sim_control.requests("core_banking", "dc-b") == 0


async def test_xml_503_in_one_data_centre_fails_over_to_the_other(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    sim_control.set_faults("core_banking", "dc-a", error_rate=1.0)
    for _ in range(3):
        assert await CoreBankingChannel(channel_client).accounts(SCOPE)


async def test_garbled_xml_is_a_malformed_failure_never_data(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("core_banking", dc, malformed_rate=1.0)
    with pytest.raises(ChannelFailure) as failed:
        await CoreBankingChannel(channel_client).accounts(SCOPE)
    assert failed.value.reason is FailureReason.MALFORMED


def test_an_answer_carrying_a_dtd_is_refused_as_malformed() -> None:
    from bff.channels.call import MalformedBody
    from bff.channels.core_banking import _parse_xml

    laughs = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Response>&a;</Response>'
    with pytest.raises(MalformedBody, match="DTD"):
        _parse_xml(laughs)
    assert _parse_xml(b"<Response><Header/></Response>").tag == "Response"


def test_legacy_dates_and_times_read_as_china_time_and_bad_ones_are_malformed() -> None:
    from datetime import datetime, timedelta, timezone

    from bff.channels.call import MalformedBody
    from bff.channels.core_banking import _date, _time

    assert _date("20261127") == date(2026, 11, 27)
    assert _time("20261127093005") == datetime(2026, 11, 27, 9, 30, 5, tzinfo=timezone(timedelta(hours=8)))
    for bad in ("2026112", "2026-11-27", "\uff12\uff10\uff12\uff16\uff11\uff11\uff12\uff17", "20261127 "):
        with pytest.raises(MalformedBody):
            _date(bad)
    with pytest.raises(ValueError, match="month"):
        _date("20261327")  # a decode error too: the client reports it as MALFORMED
    with pytest.raises(MalformedBody):
        _time("202611270930")


def test_the_request_envelope_is_the_xml_the_core_expects_with_its_declaration() -> None:
    import xml.etree.ElementTree as ET

    from bff.channels.core_banking import _envelope
    from bff.channels.request_id import current_request_id

    body = ET.Element("Body")
    ET.SubElement(body, "AcctId").text = "A<1>&'\""
    token = current_request_id.set("req-1")
    try:
        sent = _envelope(SCOPE, "TXN_HIST", body)
    finally:
        current_request_id.reset(token)
    expected = ET.Element("Request")
    header = ET.SubElement(expected, "Header")
    for tag, text in (("TxnCode", "TXN_HIST"), ("MemberBank", "RCB001"), ("CustomerId", SCOPE.customer_id)):
        ET.SubElement(header, tag).text = text
    ET.SubElement(header, "RequestId").text = "req-1"
    expected.append(body)
    assert sent == ET.tostring(expected, encoding="utf-8", xml_declaration=True)
    assert ET.fromstring(sent).findtext("Body/AcctId") == "A<1>&'\""
