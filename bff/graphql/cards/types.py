"""Debit and credit cards."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from bff.channels import models
from bff.graphql.accounts.types import Transaction
from bff.graphql.context import RequestContext
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Connection, Money, Node, paginate


@strawberry.enum
class CardKind(Enum):
    DEBIT = "debit"
    CREDIT = "credit"


@strawberry.type
class Card(Node):
    card_id: strawberry.Private[str]
    kind: CardKind
    product_name: str
    masked_number: str
    status: str
    credit_limit: Money | None
    outstanding: Money | None

    @classmethod
    def of(cls, card: models.Card) -> Card:
        return cls(
            id=strawberry.ID(to_global_id("Card", card.card_id)),
            card_id=card.card_id,
            kind=CardKind(card.kind),
            product_name=card.product_name,
            masked_number=card.masked_number,
            status=card.status,
            credit_limit=Money.maybe(card.credit_limit),
            outstanding=Money.maybe(card.outstanding),
        )

    @strawberry.field(description="Card transactions, newest first.")
    async def transactions(
        self, info: strawberry.Info[RequestContext, Any], first: int = 20, after: str | None = None
    ) -> Connection[Transaction] | None:
        ctx = info.context
        scope = ctx.customer()
        return await paginate(
            lambda n, cursor: ctx.channels.cards.card_transactions(scope, self.card_id, n, cursor),
            first,
            after,
            Transaction.of,
        )
