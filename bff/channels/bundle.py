"""Every downstream adapter, built once over the shared client."""

from __future__ import annotations

from dataclasses import dataclass

from bff.channels.cards import CardsChannel
from bff.channels.client import ChannelClient
from bff.channels.content import ContentChannel
from bff.channels.core_banking import CoreBankingChannel
from bff.channels.crm import CrmChannel
from bff.channels.loans import LoansChannel
from bff.channels.messages import MessagesChannel
from bff.channels.payments import PaymentsChannel
from bff.channels.wealth import WealthChannel


@dataclass(frozen=True, slots=True)
class Channels:
    client: ChannelClient
    core_banking: CoreBankingChannel
    cards: CardsChannel
    loans: LoansChannel
    wealth: WealthChannel
    payments: PaymentsChannel
    content: ContentChannel
    messages: MessagesChannel
    crm: CrmChannel

    @classmethod
    def over(cls, client: ChannelClient) -> Channels:
        return cls(
            client=client,
            core_banking=CoreBankingChannel(client),
            cards=CardsChannel(client),
            loans=LoansChannel(client),
            wealth=WealthChannel(client),
            payments=PaymentsChannel(client),
            content=ContentChannel(client),
            messages=MessagesChannel(client),
            crm=CrmChannel(client),
        )
