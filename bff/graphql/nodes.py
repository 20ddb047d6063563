"""Relay `node(id)`: find any object by global id, always within the caller's own scope.

An id of another customer or member bank resolves exactly like an id that
does not exist (NOT_FOUND), so ids leak nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bff.channels.errors import NotFound
from bff.graphql.accounts.types import Account
from bff.graphql.cards.types import Card
from bff.graphql.content.types import ContentItem
from bff.graphql.context import RequestContext
from bff.graphql.customer.types import Customer
from bff.graphql.exceptions import ObjectNotFound
from bff.graphql.ids import InvalidGlobalId, from_global_id
from bff.graphql.loans.types import Loan
from bff.graphql.messages.types import MessageThread
from bff.graphql.relay import Node

Finder = Callable[[RequestContext, str], Awaitable[Node | None]]


async def _customer(ctx: RequestContext, key: str) -> Node | None:
    scope = ctx.customer()
    return Customer.of(scope) if key == scope.customer_id else None


async def _account(ctx: RequestContext, key: str) -> Node | None:
    accounts = await ctx.loaders.accounts.load(ctx.customer())
    found = next((a for a in accounts if a.account_id == key), None)
    return Account.of(found) if found else None


async def _card(ctx: RequestContext, key: str) -> Node | None:
    cards = await ctx.loaders.cards.load(ctx.customer())
    found = next((c for c in cards if c.card_id == key), None)
    return Card.of(found) if found else None


async def _loan(ctx: RequestContext, key: str) -> Node | None:
    try:
        return Loan.of(await ctx.channels.loans.loan(ctx.customer(), key))
    except NotFound:
        return None


async def _thread(ctx: RequestContext, key: str) -> Node | None:
    threads = await ctx.loaders.threads.load(ctx.customer())
    found = next((t for t in threads if t.thread_id == key), None)
    return MessageThread.of(found) if found else None


async def _content(ctx: RequestContext, key: str) -> Node | None:
    item = await ctx.loaders.content_items.load((ctx.principal.member_bank, key))
    return ContentItem.of(item) if item else None


FINDERS: dict[str, Finder] = {
    "Customer": _customer,
    "Account": _account,
    "Card": _card,
    "Loan": _loan,
    "MessageThread": _thread,
    "ContentItem": _content,
}


async def find_node(ctx: RequestContext, global_id: str) -> Node:
    try:
        type_name, key = from_global_id(global_id)
    except InvalidGlobalId as exc:
        raise ObjectNotFound(str(exc)) from None
    finder = FINDERS.get(type_name)
    found = await finder(ctx, key) if finder else None
    if found is None:
        raise ObjectNotFound(f"no object with id {global_id!r} for you")
    return found
