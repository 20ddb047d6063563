"""Assembles the domains' types into one strawberry.Schema."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from bff.graphql.accounts.types import Account, Transaction
from bff.graphql.cards.types import Card
from bff.graphql.content.types import ContentItem, ContentKind
from bff.graphql.context import RequestContext
from bff.graphql.customer.types import Customer
from bff.graphql.exceptions import BadUserInput, ObjectNotFound
from bff.graphql.experience import resolvers as xp
from bff.graphql.experience.types import ExperienceChoice, HomeScreen
from bff.graphql.journeys import resolvers as jr
from bff.graphql.journeys.types import HandoffResult, Journey, JourneyEvent, JourneyResult, MessageResult
from bff.graphql.loans.types import Loan
from bff.graphql.messages.types import MessageThread
from bff.graphql.miniprograms import resolvers as mp
from bff.graphql.miniprograms.types import ConsentResult, DataAccess, LaunchResult, MiniProgram
from bff.graphql.nodes import find_node
from bff.graphql.payments.mutations import transfer
from bff.graphql.payments.types import TransferResult
from bff.graphql.relay import Connection, Node, paginate

MAX_NODES = 50


@strawberry.type
class Query:
    journey: Journey = strawberry.field(
        resolver=jr.journey, description="One of your journeys, with its history."
    )
    journeys: list[Journey] = strawberry.field(
        resolver=jr.journeys,
        description="Your journeys, newest first; for employees with waitingFor: their member bank's work queue.",
    )
    home_screen: HomeScreen = strawberry.field(
        resolver=xp.home_screen,
        description=(
            "Your home screen as server-driven UI: the sections of your experience profile, in order, "
            "filled with data. Send your appVersion so newer components fall back for older apps."
        ),
    )
    mini_programs: list[MiniProgram] = strawberry.field(
        resolver=mp.mini_programs, description="The mini-programs available to you, in the version you get."
    )
    mini_program: MiniProgram | None = strawberry.field(
        resolver=mp.mini_program, description="One mini-program, if available to you."
    )
    mini_program_access_log: list[DataAccess] = strawberry.field(
        resolver=mp.mini_program_access_log,
        description="Which mini-program used which of your data, newest first.",
    )

    @strawberry.field(description="The signed-in customer.")
    def me(self, info: strawberry.Info[RequestContext, Any]) -> Customer:
        # The engine already started the loads this selection needs (RequestContext.prefetch).
        return Customer.of(info.context.customer())

    @strawberry.field(description="Any object by its global id, if it is yours.")
    async def node(self, info: strawberry.Info[RequestContext, Any], id: strawberry.ID) -> Node | None:
        return await find_node(info.context, str(id))

    @strawberry.field(
        description=f"Several objects by global id (at most {MAX_NODES}); unknown ones are null."
    )
    def nodes(
        self, info: strawberry.Info[RequestContext, Any], ids: list[strawberry.ID]
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"ask for at most {MAX_NODES} ids at once, got {len(ids)}")
        # One awaitable per id: graphql-core resolves them together, and an outage
        # becomes an error at ["nodes", i] instead of a silent null.
        return [_node_or_none(info.context, str(i)) for i in ids]  # type: ignore[misc]

    @strawberry.field(description="Content of your member bank: short videos, live streams, banners.")
    async def content_feed(
        self,
        info: strawberry.Info[RequestContext, Any],
        kind: ContentKind | None = None,
        first: int = 10,
        after: str | None = None,
    ) -> Connection[ContentItem] | None:
        ctx = info.context
        bank = ctx.principal.member_bank
        wire_kind = kind.value if kind else None
        return await paginate(
            lambda n, cursor: ctx.channels.content.feed(bank, wire_kind, n, cursor),  # type: ignore[arg-type]
            first,
            after,
            ContentItem.of,
        )


async def _node_or_none(ctx: RequestContext, global_id: str) -> Node | None:
    try:
        return await find_node(ctx, global_id)
    except ObjectNotFound:
        return None


@strawberry.type
class Mutation:
    start_journey: JourneyResult = strawberry.mutation(
        resolver=jr.start_journey,
        description="Start a journey; the same idempotency key returns the same journey.",
    )
    advance_journey: JourneyResult = strawberry.mutation(
        resolver=jr.advance_journey,
        description="Take a transition if the journey is still at expectedVersion; problems come back as data.",
    )
    create_handoff: HandoffResult = strawberry.mutation(
        resolver=jr.create_handoff, description="A one-time code carrying the journey to another channel."
    )
    redeem_handoff: JourneyResult = strawberry.mutation(
        resolver=jr.redeem_handoff, description="Use a handoff code (once) and open its journey."
    )
    send_journey_message: MessageResult = strawberry.mutation(
        resolver=jr.send_journey_message, description="A message to the other side of the journey."
    )
    set_experience_preference: ExperienceChoice = strawberry.mutation(
        resolver=xp.set_experience_preference,
        description="Choose your own experience profile (e.g. elder); null goes back to your segment's.",
    )
    launch_mini_program: LaunchResult = strawberry.mutation(
        resolver=mp.launch_mini_program,
        description="Open a mini-program: bundle URL, CSP and a short-lived bridge token with your consented scopes.",
    )
    grant_mini_program_consent: ConsentResult = strawberry.mutation(
        resolver=mp.grant_mini_program_consent,
        description="Grant a mini-program some of the scopes it asks for.",
    )
    revoke_mini_program_consent: ConsentResult = strawberry.mutation(
        resolver=mp.revoke_mini_program_consent,
        description="Withdraw consent (all scopes when none are named); live bridge tokens stop working.",
    )
    transfer: TransferResult = strawberry.mutation(
        resolver=transfer, description="Move money out of one of your accounts, once per idempotency key."
    )


@strawberry.type
class Subscription:
    journey_updated: AsyncGenerator[JourneyEvent, None] = strawberry.subscription(
        resolver=jr.journey_updated,
        description=(
            "Each new step of a journey. Send the last version you saw as sinceVersion: the steps you "
            "missed come first, so reconnecting never loses one."
        ),
    )


def build_schema() -> strawberry.Schema:
    """The one schema; every Node type is listed so `node(id)` can return it."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Customer, Account, Card, Loan, MessageThread, ContentItem, Transaction, MiniProgram],
    )
