"""The calling customer: profile (CRM) and everything they hold, each from its own service.

`me` itself needs no downstream call, so when one service is down only the
fields it feeds are null and the rest of the screen still arrives.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from bff.channels import models
from bff.graphql.accounts.types import Account
from bff.graphql.cards.types import Card
from bff.graphql.context import RequestContext
from bff.graphql.ids import to_global_id
from bff.graphql.loans.types import Loan
from bff.graphql.messages.types import MessageThread
from bff.graphql.relay import Connection, Node, paginate
from bff.graphql.wealth.types import WealthSummary


@strawberry.type(description="What the bank's CRM knows of the customer.")
class CustomerProfile:
    name: str
    age: int
    region_type: str
    assets_tier: str
    preferred_language: str
    masked_phone: str
    customer_since: date

    @classmethod
    def of(cls, profile: models.CustomerProfile) -> CustomerProfile:
        return cls(
            name=profile.name,
            age=profile.age,
            region_type=profile.region_type,
            assets_tier=profile.assets_tier,
            preferred_language=profile.preferred_language,
            masked_phone=mask_phone(profile.phone),
            customer_since=profile.customer_since,
        )


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


@strawberry.type(description="The signed-in customer.")
class Customer(Node):
    member_bank: str

    @classmethod
    def of(cls, scope: models.CustomerScope) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", scope.customer_id)), member_bank=scope.member_bank
        )

    @strawberry.field
    async def profile(self, info: strawberry.Info[RequestContext, Any]) -> CustomerProfile | None:
        ctx = info.context
        return CustomerProfile.of(await ctx.loaders.profile.load(ctx.customer()))

    @strawberry.field(description="Deposit accounts with current balances.")
    async def accounts(self, info: strawberry.Info[RequestContext, Any]) -> list[Account] | None:
        ctx = info.context
        return [Account.of(a) for a in await ctx.loaders.accounts.load(ctx.customer())]

    @strawberry.field
    async def cards(self, info: strawberry.Info[RequestContext, Any]) -> list[Card] | None:
        ctx = info.context
        return [Card.of(c) for c in await ctx.loaders.cards.load(ctx.customer())]

    @strawberry.field
    async def loans(
        self, info: strawberry.Info[RequestContext, Any], first: int = 10, after: str | None = None
    ) -> Connection[Loan] | None:
        ctx = info.context
        scope = ctx.customer()
        return await paginate(
            lambda n, cursor: ctx.channels.loans.loans(scope, n, cursor), first, after, Loan.of
        )

    @strawberry.field
    async def wealth(self, info: strawberry.Info[RequestContext, Any]) -> WealthSummary | None:
        ctx = info.context
        return WealthSummary.of(await ctx.loaders.wealth.load(ctx.customer()))

    @strawberry.field
    async def message_threads(self, info: strawberry.Info[RequestContext, Any]) -> list[MessageThread] | None:
        ctx = info.context
        return [MessageThread.of(t) for t in await ctx.loaders.threads.load(ctx.customer())]

    @strawberry.field(description="Unread messages across every thread.")
    async def unread_message_count(self, info: strawberry.Info[RequestContext, Any]) -> int | None:
        ctx = info.context
        return sum(t.unread_count for t in await ctx.loaders.threads.load(ctx.customer()))
