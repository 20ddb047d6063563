"""Loans: mortgages, agricultural, consumer and small-business loans.

Wire style: JSON, snake_case, offset paging ({"items", "offset", "limit",
"total"}), amounts as JSON numbers in yuan with two decimals, errors as
{"status": "error", "error_code", "error_message"}. The customer and member
bank travel as query parameters and scope every read. No auth. Documented
in schemas/channels/loans.openapi.yaml.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from aiohttp import web

from sim.accounts import Accounts
from sim.history import SEEDED_UNTIL
from sim.ledger import Ledger
from sim.population import Customer, Population, rng_for

CURRENCY = "CNY"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
AS_OF = SEEDED_UNTIL.date()


@dataclass(frozen=True, slots=True)
class Product:
    name: str
    principal_fen: tuple[int, int]
    rate_bp: tuple[int, int]  # annual rate in basis points
    terms: tuple[int, ...]  # months


_PRODUCTS = {
    "mortgage": Product("Home Mortgage Loan", (20_000_000, 150_000_000), (310, 420), (120, 240, 360)),
    "agricultural": Product(
        "Agricultural Production Loan", (1_000_000, 30_000_000), (350, 620), (12, 24, 36)
    ),
    "consumer": Product("Easy Consumer Loan", (500_000, 20_000_000), (380, 980), (6, 12, 24, 36)),
    "small_business": Product(
        "Small Business Operating Loan", (5_000_000, 100_000_000), (360, 650), (12, 24, 36, 60)
    ),
}
_PRODUCT_ODDS = {
    "rural": {"agricultural": 45, "mortgage": 15, "consumer": 20, "small_business": 20},
    "urban": {"agricultural": 5, "mortgage": 40, "consumer": 35, "small_business": 20},
}


@dataclass(frozen=True, slots=True)
class SeedLoan:
    loan_id: str
    customer_id: str
    member_bank: str
    product: str
    principal_fen: int
    rate_bp: int
    term_months: int
    disbursed_on: date
    paid_months: int
    installment_fen: int
    outstanding_fen: int
    status: str  # current | overdue | settled


class LoansService:
    name = "loans"
    required_scope: str | None = None

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.loans_of = lru_cache(maxsize=65_536)(self._loans_of)

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response(
            {"status": "error", "error_code": code, "error_message": message}, status=status
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/loans", self.list_loans)
        app.router.add_get("/api/loans/{loan_id}", self.get_loan)

    async def list_loans(self, request: web.Request) -> web.Response:
        customer_id, refused = self._customer(request)
        if refused is not None:
            return refused
        offset = _number(request.query.get("offset"), 0, 0, 10**6)
        limit = _number(request.query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
        if offset is None or limit is None:
            return self.error_response(
                400, "INVALID_PARAMETER", f"offset must be >= 0 and limit from 1 to {MAX_LIMIT}"
            )
        loans = self.loans_of(customer_id)
        items = [_wire(loan) for loan in loans[offset : offset + limit]]
        return web.json_response({"items": items, "offset": offset, "limit": limit, "total": len(loans)})

    async def get_loan(self, request: web.Request) -> web.Response:
        customer_id, refused = self._customer(request)
        if refused is not None:
            return refused
        loan_id = request.match_info["loan_id"]
        found = next((loan for loan in self.loans_of(customer_id) if loan.loan_id == loan_id), None)
        if found is None:
            return self.error_response(404, "LOAN_NOT_FOUND", "no such loan for this customer")
        return web.json_response(_wire(found))

    def _customer(self, request: web.Request) -> tuple[str, web.Response | None]:
        customer_id = request.query.get("customer_id", "")
        bank = request.query.get("member_bank", "")
        if not customer_id or not bank:
            return "", self.error_response(
                400, "MISSING_PARAMETER", "customer_id and member_bank are required"
            )
        if not self.population.belongs(customer_id, bank):
            return "", self.error_response(404, "CUSTOMER_NOT_FOUND", "no such customer in this member bank")
        return customer_id, None

    def _loans_of(self, customer_id: str) -> tuple[SeedLoan, ...]:
        customer = self.population.customer(customer_id)
        if customer is None:
            return ()
        rng = rng_for(self.population.seed, "loans", customer_id)
        count = rng.choices(range(7), (35, 30, 15, 10, 5, 3, 2))[0]
        return tuple(_seed_loan(rng, customer, n) for n in range(1, count + 1))


def _seed_loan(rng: random.Random, customer: Customer, n: int) -> SeedLoan:
    odds = _PRODUCT_ODDS[customer.region_type]
    product_code = rng.choices(list(odds), list(odds.values()))[0]
    product = _PRODUCTS[product_code]
    principal = rng.randint(*product.principal_fen) // 100_000 * 100_000
    rate_bp = rng.randint(*product.rate_bp)
    term = rng.choice(product.terms)
    paid = min(term, rng.randint(1, term + term // 8))
    installment = _installment_fen(principal, rate_bp, term)
    settled = paid >= term
    overdue = not settled and rng.random() < 0.04
    return SeedLoan(
        loan_id=f"{customer.customer_id}-L{n}",
        customer_id=customer.customer_id,
        member_bank=customer.member_bank,
        product=product_code,
        principal_fen=principal,
        rate_bp=rate_bp,
        term_months=term,
        disbursed_on=_add_months(AS_OF.replace(day=rng.randint(1, 28)), -paid),
        paid_months=paid,
        installment_fen=installment,
        outstanding_fen=0 if settled else _outstanding_fen(principal, rate_bp, installment, paid),
        status="settled" if settled else "overdue" if overdue else "current",
    )


def _installment_fen(principal_fen: int, rate_bp: int, term: int) -> int:
    """Equal monthly instalment of principal and interest (annuity)."""
    r = rate_bp / 10_000 / 12
    return round(principal_fen * r / (1 - (1 + r) ** -term))


def _outstanding_fen(principal_fen: int, rate_bp: int, installment_fen: int, paid: int) -> int:
    r = rate_bp / 10_000 / 12
    grown = (1 + r) ** paid
    return max(0, round(principal_fen * grown - installment_fen * (grown - 1) / r))


def _add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (days are at most 28, so always valid)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, day.day)


def _next_due(loan: SeedLoan) -> date | None:
    if loan.status == "settled":
        return None
    due = AS_OF.replace(day=loan.disbursed_on.day)
    if loan.status == "overdue":
        return due if due < AS_OF else _add_months(due, -1)
    return due if due > AS_OF else _add_months(due, 1)


def _yuan(fen: int) -> float:
    # JSON numbers with two decimals, as the service sends them; the BFF reads them as Decimal.
    return round(fen / 100, 2)


def _wire(loan: SeedLoan) -> dict[str, Any]:
    due = _next_due(loan)
    return {
        "loan_id": loan.loan_id,
        "customer_id": loan.customer_id,
        "member_bank": loan.member_bank,
        "product_type": loan.product,
        "product_name": _PRODUCTS[loan.product].name,
        "currency": CURRENCY,
        "principal": _yuan(loan.principal_fen),
        "outstanding_principal": _yuan(loan.outstanding_fen),
        "interest_rate_pct": round(loan.rate_bp / 100, 2),
        "term_months": loan.term_months,
        "disbursed_on": loan.disbursed_on.isoformat(),
        "maturity_date": _add_months(loan.disbursed_on, loan.term_months).isoformat(),
        "next_due_date": due.isoformat() if due is not None else None,
        "next_installment_amount": _yuan(loan.installment_fen) if due is not None else None,
        "status": loan.status,
    }


def _number(raw: str | None, default: int, low: int, high: int) -> int | None:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None
    return int(raw)
