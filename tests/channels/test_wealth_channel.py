"""The wealth adapter through the real channel client and the slow simulator."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from bff.channels.client import ChannelClient
from bff.channels.errors import NotFound
from bff.channels.models import CustomerScope, FundHolding, WealthSummary
from bff.channels.wealth import WealthChannel


async def test_summary_totals_the_holdings_in_decimal_money(channel_client: ChannelClient) -> None:
    channel = WealthChannel(channel_client)
    scopes = [CustomerScope(f"RCB003-{n:05d}", "RCB003") for n in range(1, 13)]
    summaries = await asyncio.gather(*(channel.summary(scope) for scope in scopes))
    assert any(s.holdings for s in summaries)
    assert any(not s.holdings for s in summaries)
    for summary in summaries:
        assert isinstance(summary, WealthSummary)
        assert isinstance(summary.as_of, date)
        assert summary.total.amount == sum((h.market_value.amount for h in summary.holdings), Decimal("0.00"))
        for holding in summary.holdings:
            assert isinstance(holding, FundHolding)
            assert isinstance(holding.units, Decimal)
            assert isinstance(holding.nav, Decimal)
            assert 1 <= holding.risk_level <= 5


async def test_customer_of_another_member_bank_has_no_wealth_summary(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await WealthChannel(channel_client).summary(CustomerScope("RCB003-00001", "RCB002"))
    assert (missing.value.service, missing.value.code) == ("wealth", "CUSTOMER_NOT_FOUND")
