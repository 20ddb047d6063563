"""The loans adapter through the real channel client and simulator."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.loans import LoansChannel
from bff.channels.models import CustomerScope, Loan
from tests.support.processes import Simulators


@pytest.fixture(scope="module")
def borrower(simulators: Simulators) -> CustomerScope:
    """The first RCB002 customer with at least four loans."""
    with httpx.Client(base_url=simulators.url("loans", "dc-a"), timeout=5) as http:
        for n in range(1, 500):
            customer = f"RCB002-{n:05d}"
            params = {"customer_id": customer, "member_bank": "RCB002"}
            if http.get("/api/loans", params=params).json()["total"] >= 4:
                return CustomerScope(customer, "RCB002")
    raise AssertionError("no customer with four loans")


async def test_loans_page_through_opaque_cursors_to_the_total(
    channel_client: ChannelClient, borrower: CustomerScope
) -> None:
    channel = LoansChannel(channel_client)
    page = await channel.loans(borrower, first=2, after=None)
    seen = list(page.items)
    while page.next_cursor is not None:
        assert not page.next_cursor.isdigit()
        page = await channel.loans(borrower, first=2, after=page.next_cursor)
        seen += page.items
    assert page.total is not None
    assert page.total >= 4
    assert len({loan.loan_id for loan in seen}) == len(seen) == page.total
    for loan in seen:
        assert isinstance(loan, Loan)
        assert loan.customer_id == borrower.customer_id
        assert loan.principal.amount.as_tuple().exponent == -2
        assert Decimal(0) < loan.annual_rate < Decimal("0.2")
        assert loan.product in {"mortgage", "agricultural", "consumer", "small_business"}


async def test_loan_amounts_are_the_exact_decimals_on_the_wire(
    channel_client: ChannelClient, borrower: CustomerScope, simulators: Simulators
) -> None:
    async with httpx.AsyncClient(base_url=simulators.url("loans", "dc-b")) as http:
        raw = await http.get(
            "/api/loans", params={"customer_id": borrower.customer_id, "member_bank": borrower.member_bank}
        )
    wire = json.loads(raw.content, parse_float=Decimal)["items"]
    loans = (await LoansChannel(channel_client).loans(borrower, 100, None)).items
    assert [loan.outstanding.amount for loan in loans] == [Decimal(w["outstanding_principal"]) for w in wire]
    assert [loan.annual_rate * 100 for loan in loans] == [Decimal(w["interest_rate_pct"]) for w in wire]


async def test_one_loan_by_id_equals_its_list_entry(
    channel_client: ChannelClient, borrower: CustomerScope
) -> None:
    channel = LoansChannel(channel_client)
    listed = (await channel.loans(borrower, 1, None)).items[0]
    assert await channel.loan(borrower, listed.loan_id) == listed


async def test_loan_of_another_customer_is_not_found(
    channel_client: ChannelClient, borrower: CustomerScope
) -> None:
    channel = LoansChannel(channel_client)
    loan_id = (await channel.loans(borrower, 1, None)).items[0].loan_id
    with pytest.raises(NotFound) as missing:
        await channel.loan(CustomerScope("RCB002-00001", "RCB002"), loan_id)
    assert (missing.value.service, missing.value.code) == ("loans", "LOAN_NOT_FOUND")


async def test_cursor_from_elsewhere_is_rejected(
    channel_client: ChannelClient, borrower: CustomerScope
) -> None:
    with pytest.raises(ChannelRejected) as rejected:
        await LoansChannel(channel_client).loans(borrower, 5, "not-a-cursor")
    assert rejected.value.code == "INVALID_CURSOR"
