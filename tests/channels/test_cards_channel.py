"""The cards adapter through the real channel client (OAuth included) and simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bff.channels.cards import CardsChannel
from bff.channels.client import ChannelClient
from bff.channels.core_banking import CoreBankingChannel
from bff.channels.errors import NotFound
from bff.channels.models import Card, CustomerScope, Money, Transaction

SCOPE = CustomerScope("RCB001-00042", "RCB001")  # a debit card (C1) and a credit card (C2)


async def test_cards_are_domain_cards_with_money_limits_on_credit_cards(
    channel_client: ChannelClient,
) -> None:
    cards = {card.card_id: card for card in await CardsChannel(channel_client).cards(SCOPE)}
    debit, credit = cards["RCB001-00042-C1"], cards["RCB001-00042-C2"]
    assert all(isinstance(card, Card) for card in cards.values())
    assert (debit.kind, debit.linked_account_id, debit.credit_limit) == ("debit", "RCB001-00042-A1", None)
    assert credit.kind == "credit"
    assert credit.credit_limit is not None
    assert credit.outstanding is not None
    assert isinstance(credit.credit_limit.amount, Decimal)
    assert credit.outstanding.amount <= credit.credit_limit.amount
    assert credit.status == "active"


async def test_card_transactions_page_through_cursors_without_repeats(channel_client: ChannelClient) -> None:
    channel = CardsChannel(channel_client)
    page = await channel.card_transactions(SCOPE, "RCB001-00042-C2", first=25, after=None)
    seen = list(page.items)
    while page.next_cursor is not None:
        page = await channel.card_transactions(SCOPE, "RCB001-00042-C2", first=25, after=page.next_cursor)
        seen += page.items
    assert len(seen) > 25
    assert len({t.transaction_id for t in seen}) == len(seen)
    assert [t.booked_at for t in seen] == sorted((t.booked_at for t in seen), reverse=True)
    assert {t.source_id for t in seen} == {"RCB001-00042-C2"}


async def test_xml_account_and_json_card_transactions_are_the_same_domain_type(
    channel_client: ChannelClient,
) -> None:
    account_page = await CoreBankingChannel(channel_client).transactions(SCOPE, "RCB001-00042-A1", 100, None)
    card_page = await CardsChannel(channel_client).card_transactions(SCOPE, "RCB001-00042-C1", 5, None)
    for txn in (*account_page.items, *card_page.items):
        assert type(txn) is Transaction
        assert type(txn.amount) is Money
        assert type(txn.amount.amount) is Decimal
        assert txn.amount.currency == "CNY"
        assert txn.direction in ("debit", "credit")
        assert txn.booked_at.tzinfo is not None
    # A debit card purchase is a booking on its account: the same money at the same moment.
    on_account = {(t.booked_at, t.amount, t.direction) for t in account_page.items}
    newest_card = card_page.items[0]
    assert (newest_card.booked_at, newest_card.amount, newest_card.direction) in on_account


async def test_card_of_another_customer_is_not_found(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await CardsChannel(channel_client).card_transactions(
            CustomerScope("RCB001-00043", "RCB001"), "RCB001-00042-C1", 10, None
        )
    assert (missing.value.service, missing.value.code, missing.value.status) == (
        "cards",
        "CARD_NOT_FOUND",
        404,
    )


async def test_cards_of_a_customer_of_another_member_bank_are_not_found(
    channel_client: ChannelClient,
) -> None:
    with pytest.raises(NotFound) as missing:
        await CardsChannel(channel_client).cards(CustomerScope("RCB001-00042", "RCB003"))
    assert missing.value.code == "CUSTOMER_NOT_FOUND"
