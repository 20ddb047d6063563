"""Cards adapter: debit and credit cards and their transactions.

Wire style: JSON, camelCase, money as {"amount": "123.45", "currency": "CNY"},
lists as {"data": [...], "page": {"nextCursor", "hasMore"}} with the
service's own opaque cursor (passed through unchanged), errors as
{"errors": [{"code", "detail"}]}. Needs an OAuth token with scope
`cards.read` (the client fetches it). Customer and member bank travel in the
X-Customer-Id and X-Member-Bank headers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import Card, CardKind, CustomerScope, Direction, Money, Page, Transaction
from bff.channels.money import money_from_text

SERVICE = "cards"
MAX_LIMIT = 100
_KINDS: dict[str, CardKind] = {"DEBIT": "debit", "CREDIT": "credit"}
_DIRECTIONS: dict[str, Direction] = {"DBIT": "debit", "CRDT": "credit"}


class CardsChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def cards(self, scope: CustomerScope) -> list[Card]:
        """Every card of the customer, debit and credit."""
        call = Call(
            "GET",
            f"/v2/customers/{quote(scope.customer_id, safe='')}/cards",
            "cards.list_cards",
            idempotent=True,
            headers={"X-Member-Bank": scope.member_bank},
        )
        return await self._client.call(SERVICE, call, _decode_cards)

    async def card_transactions(
        self, scope: CustomerScope, card_id: str, first: int, after: str | None
    ) -> Page[Transaction]:
        """One page of a card's transactions, newest first; `first` is capped at 100."""
        params = {"limit": str(max(1, min(first, MAX_LIMIT)))}
        if after is not None:
            params["cursor"] = after
        call = Call(
            "GET",
            f"/v2/cards/{quote(card_id, safe='')}/transactions",
            "cards.list_transactions",
            idempotent=True,
            params=params,
            headers={"X-Member-Bank": scope.member_bank, "X-Customer-Id": scope.customer_id},
        )
        return await self._client.call(SERVICE, call, lambda reply: _decode_transactions(card_id, reply))


def _decode_cards(reply: Reply) -> list[Card]:
    return [_card(raw) for raw in _data(reply)["data"]]


def _decode_transactions(card_id: str, reply: Reply) -> Page[Transaction]:
    body = _data(reply)
    items = tuple(_transaction(card_id, raw) for raw in body["data"])
    cursor = body["page"]["nextCursor"]
    if cursor is not None and not isinstance(cursor, str):
        raise MalformedBody(f"nextCursor {cursor!r} is not a string")
    return Page(items, cursor if body["page"]["hasMore"] is True else None)


def _data(reply: Reply) -> dict[str, Any]:
    """The body of a 2xx answer; a 4xx raises with the service's first error code."""
    body = reply.json()
    if not isinstance(body, dict):
        raise MalformedBody("expected a JSON object")
    if reply.status < 400:
        return body
    first = body["errors"][0]
    code, detail = str(first["code"]), str(first.get("detail", ""))
    if reply.status == 404:
        raise NotFound(SERVICE, code, detail, reply.status)
    raise ChannelRejected(SERVICE, code, detail, reply.status)


def _card(raw: dict[str, Any]) -> Card:
    return Card(
        card_id=str(raw["cardId"]),
        customer_id=str(raw["customerId"]),
        kind=_KINDS[raw["type"]],
        product_name=str(raw["productName"]),
        masked_number=str(raw["maskedPan"]),
        status=str(raw["status"]).lower(),
        credit_limit=_optional_money(raw["creditLimit"]),
        outstanding=_optional_money(raw["outstandingBalance"]),
        linked_account_id=None if raw["linkedAccountId"] is None else str(raw["linkedAccountId"]),
    )


def _transaction(card_id: str, raw: dict[str, Any]) -> Transaction:
    merchant = raw.get("merchant")
    booked_at = datetime.fromisoformat(raw["postedAt"])
    if booked_at.tzinfo is None:
        raise MalformedBody(f"postedAt {raw['postedAt']!r} has no UTC offset")
    return Transaction(
        transaction_id=str(raw["transactionId"]),
        source_id=card_id,
        amount=_money(raw["amount"]),
        direction=_DIRECTIONS[raw["creditDebitIndicator"]],
        description=str(raw["description"]),
        counterparty=str(merchant["name"]) if merchant else None,
        booked_at=booked_at,
        balance_after=None,  # the card service keeps no running balance
    )


def _money(raw: dict[str, Any]) -> Money:
    return money_from_text(raw["amount"], raw["currency"])


def _optional_money(raw: dict[str, Any] | None) -> Money | None:
    return None if raw is None else _money(raw)
