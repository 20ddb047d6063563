"""Seeded deposit accounts of each customer, shared by core banking and payments.

Amounts are integer fen (1/100 yuan) everywhere in the simulators; each wire
format then shows them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sim.population import Population, rng_for

_KINDS = (
    ("current", "Everyday Current Account"),
    ("savings", "Harvest Savings"),
    ("fixed_deposit", "3-Year Fixed Deposit"),
)


@dataclass(frozen=True, slots=True)
class SeedAccount:
    account_id: str  # e.g. RCB001-00042-A1
    customer_id: str
    member_bank: str
    kind: str
    name: str
    number: str  # 19-digit account number shown to customers
    opening_balance_fen: int
    opened_on: date
    transaction_count: int  # seeded history length, newest first


class Accounts:
    def __init__(self, population: Population) -> None:
        self.population = population
        self.of_customer = lru_cache(maxsize=65_536)(self._of_customer)

    def _of_customer(self, customer_id: str) -> tuple[SeedAccount, ...]:
        customer = self.population.customer(customer_id)
        if customer is None:
            return ()
        rng = rng_for(self.population.seed, "accounts", customer_id)
        count = rng.choices((1, 2, 3), (5, 3, 2))[0]
        bank_digits = customer.member_bank[-3:]
        accounts = []
        for k in range(count):
            kind, name = _KINDS[k]
            scale = {"mass": 2_000_000, "affluent": 50_000_000, "private": 500_000_000}[customer.assets_tier]
            accounts.append(
                SeedAccount(
                    account_id=f"{customer_id}-A{k + 1}",
                    customer_id=customer_id,
                    member_bank=customer.member_bank,
                    kind=kind,
                    name=name,
                    number=f"6228{bank_digits}{customer_id[-5:]}{k + 1:02d}{rng.randint(0, 99999):05d}",
                    opening_balance_fen=rng.randint(scale // 100, scale),
                    opened_on=max(customer.customer_since, date(2000, 1, 1)) + timedelta(days=30 * k),
                    transaction_count=rng.randint(40, 400) if kind != "fixed_deposit" else rng.randint(1, 4),
                )
            )
        return tuple(accounts)

    def get(self, account_id: str) -> SeedAccount | None:
        customer_id, _, _ = account_id.rpartition("-")
        for account in self.of_customer(customer_id):
            if account.account_id == account_id:
                return account
        return None

    def by_number(self, number: str) -> SeedAccount | None:
        """Find an account by its 19-digit number (only for numbers this simulator made)."""
        if len(number) != 19 or not number.startswith("6228"):
            return None
        bank = f"RCB{number[4:7]}"
        customer_id = f"{bank}-{number[7:12]}"
        for account in self.of_customer(customer_id):
            if account.number == number:
                return account
        return None
