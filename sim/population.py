"""Seeded, deterministic customers of the member banks.

Nothing is stored: every attribute is derived from a hash of the seed and the
customer id, so two simulator processes (or two data centres) agree without
sharing anything, and 30,000 customers cost no start-up time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

CUSTOMERS_PER_BANK = 10_000


@dataclass(frozen=True, slots=True)
class MemberBank:
    code: str
    name: str
    city: str


MEMBER_BANKS: tuple[MemberBank, ...] = (
    MemberBank("RCB001", "Anxi Rural Commercial Bank", "Anxi"),
    MemberBank("RCB002", "Qingshan Rural Credit Union", "Qingshan"),
    MemberBank("RCB003", "Lianhe Village Bank", "Lianhe"),
)

_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun")
_GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Hua", "Ping", "Xia", "Tao", "Ying")
_LANGUAGES = ("zh-CN", "zh-CN", "zh-CN", "zh-CN", "en", "zh-HK")


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    member_bank: str
    name: str
    age: int
    region_type: str
    assets_tier: str
    preferred_language: str
    phone: str
    customer_since: date


def customer_id(member_bank: str, number: int) -> str:
    return f"{member_bank}-{number:05d}"


def all_customer_ids(member_bank: str, limit: int = CUSTOMERS_PER_BANK) -> list[str]:
    return [customer_id(member_bank, n) for n in range(1, limit + 1)]


def rng_for(seed: int, *parts: object) -> random.Random:
    """A Random seeded by the parts: same parts, same numbers, in any process."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


class Population:
    """The simulated customers of every member bank, derived from `seed`."""

    def __init__(self, seed: int = 20261127, customers_per_bank: int = CUSTOMERS_PER_BANK) -> None:
        self.seed = seed
        self.customers_per_bank = customers_per_bank
        self.banks = {bank.code: bank for bank in MEMBER_BANKS}
        self.customer = lru_cache(maxsize=65_536)(self._customer)

    def _customer(self, cid: str) -> Customer | None:
        bank, _, number = cid.partition("-")
        if bank not in self.banks or not number.isdigit() or len(number) != 5:
            return None
        if not 1 <= int(number) <= self.customers_per_bank:
            return None
        rng = rng_for(self.seed, "customer", cid)
        age = rng.choices((rng.randint(18, 34), rng.randint(35, 59), rng.randint(60, 88)), (4, 4, 3))[0]
        rural = rng.random() < 0.55
        tier = rng.choices(("mass", "affluent", "private"), (80, 17, 3))[0]
        since = date(2026, 1, 1) - timedelta(days=rng.randint(30, 365 * 25))
        return Customer(
            customer_id=cid,
            member_bank=bank,
            name=f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}",
            age=age,
            region_type="rural" if rural else "urban",
            assets_tier=tier,
            preferred_language=rng.choice(_LANGUAGES),
            phone=f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
            customer_since=since,
        )

    def belongs(self, cid: str, member_bank: str) -> bool:
        found = self.customer(cid)
        return found is not None and found.member_bank == member_bank
