"""Wealth: fund holdings and their total."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from bff.channels import models
from bff.graphql.relay import Money


@strawberry.type
class FundHolding:
    fund_code: str
    fund_name: str
    units: Decimal
    nav: Decimal
    market_value: Money
    risk_level: int

    @classmethod
    def of(cls, holding: models.FundHolding) -> FundHolding:
        return cls(
            fund_code=holding.fund_code,
            fund_name=holding.fund_name,
            units=holding.units,
            nav=holding.nav,
            market_value=Money.of(holding.market_value),
            risk_level=holding.risk_level,
        )


@strawberry.type
class WealthSummary:
    total: Money
    holdings: list[FundHolding]
    as_of: date

    @classmethod
    def of(cls, summary: models.WealthSummary) -> WealthSummary:
        return cls(
            total=Money.of(summary.total),
            holdings=[FundHolding.of(h) for h in summary.holdings],
            as_of=summary.as_of,
        )
