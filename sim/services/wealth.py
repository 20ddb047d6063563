"""Wealth and funds: a customer's fund holdings, deliberately slow.

Wire style: JSON, camelCase, every answer wrapped as {"code", "message",
"data"} with code "OK" on success and an upper-snake error code otherwise
(HTTP 4xx/5xx, "data": null). Amounts, units and NAVs are decimal strings.
Every answer takes 30-60 ms, as the real fund platform does; the delay is
derived from the request path so it is repeatable. No auth. Documented in
schemas/channels/wealth.openapi.yaml.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiohttp import web

from sim.accounts import Accounts
from sim.history import SEEDED_UNTIL
from sim.ledger import Ledger
from sim.population import Population, rng_for

CURRENCY = "CNY"
AS_OF = SEEDED_UNTIL.date()


@dataclass(frozen=True, slots=True)
class Fund:
    code: str
    name: str
    risk_level: int  # 1 (lowest) to 5


FUNDS: tuple[Fund, ...] = (
    Fund("000198", "Yu'e Money Market Fund", 1),
    Fund("110017", "Stable Bond Fund A", 2),
    Fund("519977", "Rural Revitalisation Bond Fund", 2),
    Fund("000979", "Green Bond Fund", 2),
    Fund("040046", "Balanced Allocation Hybrid Fund", 3),
    Fund("519005", "Blue Chip Dividend Fund", 3),
    Fund("161725", "Consumer Staples Index Fund", 4),
    Fund("001632", "Agriculture and Food Equity Fund", 4),
    Fund("003096", "New Energy Growth Fund", 5),
    Fund("110022", "Healthcare Innovation Equity Fund", 5),
)
_HOLDING_COUNTS = {
    "mass": ((0, 1, 2, 3), (55, 25, 12, 8)),
    "affluent": ((1, 2, 3, 4, 5), (20, 30, 25, 15, 10)),
    "private": ((3, 4, 5, 6, 7, 8), (10, 20, 25, 20, 15, 10)),
}
_HOLDING_VALUE_FEN = {
    "mass": (50_000, 3_000_000),
    "affluent": (1_000_000, 30_000_000),
    "private": (10_000_000, 300_000_000),
}


@dataclass(frozen=True, slots=True)
class SeedHolding:
    fund: Fund
    units_centi: int  # hundredths of a unit
    nav_e4: int  # NAV in 1/10,000 yuan

    @property
    def market_value_fen(self) -> int:
        # units/100 * nav/10000 yuan = units*nav/10000 fen, rounded half up.
        return (self.units_centi * self.nav_e4 + 5_000) // 10_000


class WealthService:
    name = "wealth"
    required_scope: str | None = None

    def __init__(
        self,
        population: Population,
        accounts: Accounts,
        ledger: Ledger,
        base_latency_ms: float = 30.0,
        jitter_ms: float = 30.0,
    ) -> None:
        self.population = population
        self.base_latency_ms = base_latency_ms
        self.jitter_ms = jitter_ms
        self.holdings_of = lru_cache(maxsize=65_536)(self._holdings_of)

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "data": None}, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/wealth/v1/holdings", self.holdings)

    async def holdings(self, request: web.Request) -> web.Response:
        await self._think(request)
        customer_id = request.query.get("customerId", "")
        bank = request.query.get("memberBank", "")
        if not customer_id or not bank:
            return self.error_response(400, "BAD_REQUEST", "customerId and memberBank are required")
        if not self.population.belongs(customer_id, bank):
            return self.error_response(404, "CUSTOMER_NOT_FOUND", "no such customer in this member bank")
        holdings = self.holdings_of(customer_id)
        data = {
            "customerId": customer_id,
            "memberBank": bank,
            "asOf": AS_OF.isoformat(),
            "currency": CURRENCY,
            "totalMarketValue": _decimal(sum(h.market_value_fen for h in holdings), 2),
            "holdings": [_holding_wire(h) for h in holdings],
        }
        return web.json_response({"code": "OK", "message": "success", "data": data})

    async def _think(self, request: web.Request) -> None:
        jitter = rng_for(self.population.seed, "latency", request.path_qs).uniform(0, self.jitter_ms)
        await asyncio.sleep((self.base_latency_ms + jitter) / 1000)

    def _holdings_of(self, customer_id: str) -> tuple[SeedHolding, ...]:
        customer = self.population.customer(customer_id)
        if customer is None:
            return ()
        rng = rng_for(self.population.seed, "holdings", customer_id)
        counts, weights = _HOLDING_COUNTS[customer.assets_tier]
        funds = rng.sample(FUNDS, rng.choices(counts, weights)[0])
        low, high = _HOLDING_VALUE_FEN[customer.assets_tier]
        return tuple(
            _holding(rng, fund, nav_e4(self.population.seed, fund), low, high)
            for fund in sorted(funds, key=lambda f: f.code)
        )


def nav_e4(seed: int, fund: Fund) -> int:
    """A fund's NAV on AS_OF, in 1/10,000 yuan; money-market funds stay at 1.0000."""
    if fund.risk_level == 1:
        return 10_000
    return rng_for(seed, "nav", fund.code, AS_OF.isoformat()).randint(8_000, 42_000)


def _holding(rng: random.Random, fund: Fund, nav: int, low: int, high: int) -> SeedHolding:
    target_fen = rng.randint(low, high)
    return SeedHolding(fund=fund, units_centi=max(1, target_fen * 10_000 // nav), nav_e4=nav)


def _decimal(value: int, places: int) -> str:
    scale = 10**places
    return f"{value // scale}.{value % scale:0{places}d}"


def _holding_wire(holding: SeedHolding) -> dict[str, Any]:
    return {
        "fundCode": holding.fund.code,
        "fundName": holding.fund.name,
        "units": _decimal(holding.units_centi, 2),
        "nav": _decimal(holding.nav_e4, 4),
        "marketValue": _decimal(holding.market_value_fen, 2),
        "currency": CURRENCY,
        "riskLevel": holding.fund.risk_level,
    }
