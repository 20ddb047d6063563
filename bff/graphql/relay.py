"""Relay building blocks: the Node interface, connections, cursors, and Money.

Connection cursors wrap the downstream service's own cursor (whatever its
paging style) plus how many items of that page were already handed out, so
every edge has a cursor even when the service only gives one per page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Generic, TypeVar

import strawberry

from bff.channels.errors import ChannelRejected
from bff.channels.models import Money as DomainMoney
from bff.channels.models import Page
from bff.graphql.exceptions import BadUserInput

N = TypeVar("N")
D = TypeVar("D")

MAX_PAGE = 100


@strawberry.interface(description="An object with a global id (Relay global object identification).")
class Node:
    id: strawberry.ID


@strawberry.type(description="An amount of money: never a float.")
class Money:
    amount: Decimal = strawberry.field(description="In major units (yuan), as a decimal string.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)

    @classmethod
    def maybe(cls, money: DomainMoney | None) -> Money | None:
        return None if money is None else cls(amount=money.amount, currency=money.currency)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[N]):
    node: N
    cursor: str


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    total_count: int | None = strawberry.field(description="Total items, when the service knows it.")

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[N]:
        return [edge.node for edge in self.edges]


def check_first(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE}, got {first}")
    return first


def encode_cursor(downstream: str | None, skip: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{skip}:{downstream or ''}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str | None, int]:
    try:
        version, skip, downstream = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 2)
        if version != "c1" or int(skip) < 0:
            raise ValueError(version)
        return downstream or None, int(skip)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadUserInput("`after` is not a cursor from this connection; use a pageInfo.endCursor") from exc


async def paginate(
    fetch: Callable[[int, str | None], Awaitable[Page[D]]],
    first: int,
    after: str | None,
    convert: Callable[[D], N],
) -> Connection[N]:
    """One page of a Relay connection over a downstream `fetch(first, downstream_cursor)`."""
    check_first(first)
    downstream, skip = decode_cursor(after) if after else (None, 0)
    try:
        page = await fetch(skip + first, downstream)
    except ChannelRejected as exc:
        if exc.code != "INVALID_CURSOR":
            raise
        raise BadUserInput("`after` is not a cursor from this connection; use a pageInfo.endCursor") from None
    items = page.items[skip : skip + first]
    edges = [
        Edge(node=convert(item), cursor=encode_cursor(downstream, skip + i + 1))
        for i, item in enumerate(items)
    ]
    consumed_page = skip + len(items) >= len(page.items)
    has_next = page.next_cursor is not None if consumed_page else True
    if edges and consumed_page and page.next_cursor is not None:
        # Point the next request at the service's own next page, not a longer read of this one.
        edges[-1] = Edge(node=edges[-1].node, cursor=encode_cursor(page.next_cursor, 0))
    end = edges[-1].cursor if edges else after
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=end, has_previous_page=after is not None),
        total_count=page.total,
    )
