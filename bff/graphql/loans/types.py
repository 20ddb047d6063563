"""Loans: mortgages, agricultural, consumer and small-business."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from bff.channels import models
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Money, Node


@strawberry.type
class Loan(Node):
    product: str
    principal: Money
    outstanding: Money
    annual_rate: Decimal = strawberry.field(description="Yearly interest rate as a fraction, e.g. 0.0435.")
    next_payment_due: date | None
    next_payment: Money | None
    status: str

    @classmethod
    def of(cls, loan: models.Loan) -> Loan:
        return cls(
            id=strawberry.ID(to_global_id("Loan", loan.loan_id)),
            product=loan.product,
            principal=Money.of(loan.principal),
            outstanding=Money.of(loan.outstanding),
            annual_rate=loan.annual_rate,
            next_payment_due=loan.next_payment_due,
            next_payment=Money.maybe(loan.next_payment),
            status=loan.status,
        )
