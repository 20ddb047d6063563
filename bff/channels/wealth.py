"""Wealth adapter: a customer's fund holdings and their total value.

Wire style: JSON, camelCase, every answer wrapped as {"code", "message",
"data"} with code "OK" on success and an upper-snake error code (HTTP 4xx)
otherwise; amounts, units and NAVs are decimal strings. The service is slow
(tens of ms per answer) by nature, which the registry's timeout allows for.
Customer and member bank travel as `customerId` and `memberBank` query
parameters. No auth.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import CustomerScope, FundHolding, WealthSummary
from bff.channels.money import decimal_from_text, money_from_text

SERVICE = "wealth"


class WealthChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def summary(self, scope: CustomerScope) -> WealthSummary:
        """The customer's fund holdings (possibly none) and their total market value."""
        call = Call(
            "GET",
            "/wealth/v1/holdings",
            "wealth.holdings",
            idempotent=True,
            params={"customerId": scope.customer_id, "memberBank": scope.member_bank},
        )
        return await self._client.call(SERVICE, call, _decode_summary)


def _decode_summary(reply: Reply) -> WealthSummary:
    data = _data(reply)
    currency = data["currency"]
    return WealthSummary(
        customer_id=str(data["customerId"]),
        total=money_from_text(data["totalMarketValue"], currency),
        holdings=tuple(_holding(raw) for raw in data["holdings"]),
        as_of=date.fromisoformat(data["asOf"]),
    )


def _data(reply: Reply) -> dict[str, Any]:
    body = reply.json()
    if not isinstance(body, dict):
        raise MalformedBody("expected a JSON object")
    code, message = str(body["code"]), str(body.get("message", ""))
    if code == "OK" and reply.status < 400:
        data = body["data"]
        if not isinstance(data, dict):
            raise MalformedBody("code OK without a data object")
        return data
    if reply.status == 404:
        raise NotFound(SERVICE, code, message, reply.status)
    raise ChannelRejected(SERVICE, code, message, reply.status)


def _holding(raw: dict[str, Any]) -> FundHolding:
    risk = raw["riskLevel"]
    if isinstance(risk, bool) or not isinstance(risk, int) or not 1 <= risk <= 5:
        raise MalformedBody(f"riskLevel {risk!r} is not 1-5")
    return FundHolding(
        fund_code=str(raw["fundCode"]),
        fund_name=str(raw["fundName"]),
        units=decimal_from_text(raw["units"]),
        nav=decimal_from_text(raw["nav"]),
        market_value=money_from_text(raw["marketValue"], raw["currency"]),
        risk_level=risk,
    )
