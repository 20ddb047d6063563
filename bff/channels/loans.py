"""Loans adapter: a customer's loans, offset paging hidden behind opaque cursors.

Wire style: JSON, snake_case, `offset`/`limit` query parameters and
{"items", "offset", "limit", "total"} answers, amounts as JSON numbers in
yuan (read as Decimal, never float), errors as {"status": "error",
"error_code", "error_message"}. Customer and member bank travel as the
`customer_id` and `member_bank` query parameters. No auth.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import CustomerScope, Loan, Page
from bff.channels.money import money_from_number
from bff.channels.paging import cursor_offset, next_offset_cursor

SERVICE = "loans"
MAX_LIMIT = 100
_PERCENT = Decimal(100)


class LoansChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def loans(self, scope: CustomerScope, first: int, after: str | None) -> Page[Loan]:
        """One page of the customer's loans; `first` is capped at 100."""
        offset = cursor_offset(SERVICE, after)
        params = {**_scope(scope), "offset": str(offset), "limit": str(max(1, min(first, MAX_LIMIT)))}
        call = Call("GET", "/api/loans", "loans.list_loans", idempotent=True, params=params)
        return await self._client.call(SERVICE, call, _decode_page)

    async def loan(self, scope: CustomerScope, loan_id: str) -> Loan:
        """One of the customer's loans; NotFound for anyone else's."""
        call = Call(
            "GET",
            f"/api/loans/{quote(loan_id, safe='')}",
            "loans.get_loan",
            idempotent=True,
            params=_scope(scope),
        )
        return await self._client.call(SERVICE, call, lambda reply: _loan(_body(reply)))


def _scope(scope: CustomerScope) -> dict[str, str]:
    return {"customer_id": scope.customer_id, "member_bank": scope.member_bank}


def _decode_page(reply: Reply) -> Page[Loan]:
    body = _body(reply)
    items = tuple(_loan(raw) for raw in body["items"])
    offset, total = _whole(body["offset"]), _whole(body["total"])
    return Page(items, next_offset_cursor(offset, len(items), total), total)


def _body(reply: Reply) -> dict[str, Any]:
    """The JSON object of a 2xx answer, numbers as Decimal; a 4xx raises with its error code."""
    body = json.loads(reply.body, parse_float=Decimal)
    if not isinstance(body, dict):
        raise MalformedBody("expected a JSON object")
    if reply.status < 400:
        return body
    code, message = str(body["error_code"]), str(body.get("error_message", ""))
    if reply.status == 404:
        raise NotFound(SERVICE, code, message, reply.status)
    raise ChannelRejected(SERVICE, code, message, reply.status)


def _loan(raw: dict[str, Any]) -> Loan:
    currency = raw["currency"]
    due, instalment = raw["next_due_date"], raw["next_installment_amount"]
    return Loan(
        loan_id=str(raw["loan_id"]),
        customer_id=str(raw["customer_id"]),
        product=str(raw["product_type"]),
        principal=money_from_number(raw["principal"], currency),
        outstanding=money_from_number(raw["outstanding_principal"], currency),
        # The service quotes percent (4.35); the domain keeps a fraction (0.0435).
        annual_rate=_rate(raw["interest_rate_pct"]),
        next_payment_due=None if due is None else date.fromisoformat(due),
        next_payment=None if instalment is None else money_from_number(instalment, currency),
        status=str(raw["status"]),
    )


def _rate(percent: object) -> Decimal:
    if isinstance(percent, bool) or not isinstance(percent, int | Decimal):
        raise MalformedBody(f"interest rate {percent!r} is not a number")
    return Decimal(percent) / _PERCENT


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedBody(f"{value!r} is not a whole number")
    return value
