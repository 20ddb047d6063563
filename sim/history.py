"""Seeded booking history of each deposit account, plus the ledger's runtime entries.

Shared by core banking (account history and balances) and cards (a debit
card's purchases are bookings on its linked account). An account's seeded
`opening_balance_fen` is its balance when the simulator starts, i.e. after
the newest seeded booking; the history is generated backwards from it so
that no running balance is ever negative. Payments checks funds against
`opening_balance_fen + ledger delta`, the same figure `balance_fen` gives.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sim.accounts import Accounts, SeedAccount
from sim.ledger import Ledger, PostedEntry
from sim.population import Population, rng_for

CHINA_TIME = timezone(timedelta(hours=8))
# The newest seeded booking is no later than this; runtime entries come after it.
SEEDED_UNTIL = datetime(2026, 11, 26, 20, 0, tzinfo=CHINA_TIME)
CARD_CHANNELS = frozenset({"card", "atm"})

# Merchants a current account's card purchases go to, with their merchant category codes.
MERCHANT_CATEGORY_CODES = {
    "Huimin Supermarket": "5411",
    "Green Valley Farm Supplies": "5261",
    "China Petroleum Station": "5541",
    "Xinhua Pharmacy": "5912",
    "Harvest Noodle House": "5812",
    "County Hardware Store": "5251",
    "Sunshine Kindergarten": "8211",
    "Jade River Market": "5411",
}
_MERCHANTS = tuple(MERCHANT_CATEGORY_CODES)
_PAYERS = ("Zhang Wei", "Li Fang", "Chen Min", "Wang Jing", "Liu Yang", "Zhou Tao")
_BILLERS = ("State Grid Electricity", "County Water Works", "China Mobile", "Village Gas Co")
_TIER_SCALE = {"mass": 1, "affluent": 5, "private": 25}


@dataclass(frozen=True, slots=True)
class Booking:
    """One movement on an account; `amount_fen` is negative for a debit."""

    booking_id: str
    seq: int  # 1 = oldest seeded booking; runtime entries continue after the seeded ones
    account_id: str
    amount_fen: int
    channel: str  # card, atm, transfer, salary, bill, interest, subsidy
    description: str
    counterparty: str | None
    booked_at: datetime
    balance_after_fen: int


@dataclass(frozen=True, slots=True)
class _Draft:
    amount_fen: int
    channel: str
    description: str
    counterparty: str | None


class History:
    """Bookings of every account, derived lazily from the seed and the ledger."""

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.accounts = accounts
        self.ledger = ledger
        self.seeded = lru_cache(maxsize=8_192)(self._seeded)

    def balance_fen(self, account: SeedAccount) -> int:
        return account.opening_balance_fen + self.ledger.delta_fen(account.account_id)

    def bookings(self, account: SeedAccount) -> list[Booking]:
        """Every booking of `account`, newest first: runtime entries, then seeded ones."""
        seeded = self.seeded(account.account_id)
        posted = _posted(account, len(seeded), self.ledger.entries(account.account_id))
        return [*posted, *reversed(seeded)]

    def _seeded(self, account_id: str) -> tuple[Booking, ...]:
        """Seeded bookings, oldest first."""
        account = self.accounts.get(account_id)
        customer = self.population.customer(account_id.rpartition("-")[0])
        if account is None or customer is None:
            return ()
        rng = rng_for(self.population.seed, "history", account_id)
        scale = _TIER_SCALE[customer.assets_tier]
        times = _booking_times(rng, account, account.transaction_count)
        balance = account.opening_balance_fen
        newest_first: list[Booking] = []
        for seq in range(account.transaction_count, 0, -1):
            draft = _draft(rng, account.kind, scale)
            if draft.amount_fen > balance:
                # Undoing this credit would leave a negative balance before it: book a debit.
                payee = rng.choice(_PAYERS)
                draft = _Draft(-draft.amount_fen, "transfer", f"Transfer to {payee}", payee)
            newest_first.append(
                Booking(
                    booking_id=f"{account_id}-T{seq:05d}",
                    seq=seq,
                    account_id=account_id,
                    amount_fen=draft.amount_fen,
                    channel=draft.channel,
                    description=draft.description,
                    counterparty=draft.counterparty,
                    booked_at=times[seq - 1],
                    balance_after_fen=balance,
                )
            )
            balance -= draft.amount_fen
        return tuple(reversed(newest_first))


def _posted(account: SeedAccount, seeded_count: int, newest_first: list[PostedEntry]) -> list[Booking]:
    balance = account.opening_balance_fen
    oldest_first: list[Booking] = []
    for offset, entry in enumerate(reversed(newest_first), start=1):
        balance += entry.amount_fen
        oldest_first.append(
            Booking(
                booking_id=entry.entry_id,
                seq=seeded_count + offset,
                account_id=account.account_id,
                amount_fen=entry.amount_fen,
                channel="transfer",
                description=entry.description,
                counterparty=entry.counterparty,
                booked_at=entry.booked_at.astimezone(CHINA_TIME),
                balance_after_fen=balance,
            )
        )
    return list(reversed(oldest_first))


def _booking_times(rng: random.Random, account: SeedAccount, count: int) -> list[datetime]:
    """`count` booking times, oldest first, between the opening date and SEEDED_UNTIL."""
    opened = datetime(
        account.opened_on.year, account.opened_on.month, account.opened_on.day, 9, tzinfo=CHINA_TIME
    )
    window = max(3_600, min(int((SEEDED_UNTIL - opened).total_seconds()), 540 * 86_400))
    offsets = sorted(rng.randrange(window) for _ in range(count))
    return [SEEDED_UNTIL - timedelta(seconds=window - offset) for offset in offsets]


def _draft(rng: random.Random, kind: str, scale: int) -> _Draft:
    if kind == "fixed_deposit":
        return _Draft(rng.randint(1_000, 30_000) * scale, "interest", "Fixed deposit interest", None)
    roll = rng.random()
    if kind == "savings":
        if roll < 0.15:
            return _Draft(rng.randint(100, 5_000) * scale, "interest", "Savings interest", None)
        if roll < 0.6:
            payer = rng.choice(_PAYERS)
            return _Draft(rng.randint(10_000, 500_000) * scale, "transfer", f"Transfer from {payer}", payer)
        payee = rng.choice(_PAYERS)
        return _Draft(-rng.randint(10_000, 300_000) * scale, "transfer", f"Transfer to {payee}", payee)
    return _current_draft(rng, roll, scale)


def _current_draft(rng: random.Random, roll: float, scale: int) -> _Draft:
    if roll < 0.45:
        merchant = rng.choice(_MERCHANTS)
        return _Draft(-rng.randint(500, 60_000) * scale, "card", f"POS purchase {merchant}", merchant)
    if roll < 0.55:
        return _Draft(-rng.randint(10, 200) * 10_000, "atm", "ATM cash withdrawal", None)
    if roll < 0.65:
        biller = rng.choice(_BILLERS)
        return _Draft(-rng.randint(2_000, 40_000), "bill", f"Bill payment {biller}", biller)
    if roll < 0.8:
        return _Draft(rng.randint(300_000, 1_500_000) * scale, "salary", "Salary", "Employer payroll")
    if roll < 0.85:
        return _Draft(
            rng.randint(20_000, 300_000), "subsidy", "Agricultural subsidy", "County finance bureau"
        )
    payer = rng.choice(_PAYERS)
    if roll < 0.93:
        return _Draft(rng.randint(5_000, 200_000) * scale, "transfer", f"Transfer from {payer}", payer)
    return _Draft(-rng.randint(5_000, 200_000) * scale, "transfer", f"Transfer to {payer}", payer)
