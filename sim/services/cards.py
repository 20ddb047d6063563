"""Cards: debit cards on a customer's current account, and credit cards.

Wire style: JSON, camelCase, money as {"amount": "123.45", "currency": "CNY"},
lists as {"data": [...], "page": {"nextCursor", "hasMore"}} with an opaque
base64 cursor, errors as {"errors": [{"code", "detail"}]}. Requires a bearer
token with scope `cards.read`. The member bank (and, for card-level reads,
the customer) travel in the X-Member-Bank and X-Customer-Id headers and scope
every read. Documented in schemas/channels/cards.openapi.yaml.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from aiohttp import web

from sim.accounts import Accounts
from sim.history import CARD_CHANNELS, CHINA_TIME, MERCHANT_CATEGORY_CODES, SEEDED_UNTIL, History
from sim.ledger import Ledger
from sim.population import Customer, Population, rng_for

CURRENCY = "CNY"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_CREDIT_ODDS = {"mass": 0.2, "affluent": 0.55, "private": 0.85}
_CREDIT_PRODUCTS = {
    "mass": ("Fuxin Classic Credit Card", 500_000, 2_000_000),
    "affluent": ("Fuxin Gold Credit Card", 2_000_000, 10_000_000),
    "private": ("Fuxin Platinum Credit Card", 10_000_000, 50_000_000),
}
_TIER_SCALE = {"mass": 1, "affluent": 4, "private": 15}
_MERCHANTS = (
    ("Jade River Market", "5411"),
    ("China Petroleum Station", "5541"),
    ("Harvest Noodle House", "5812"),
    ("Xinhua Pharmacy", "5912"),
    ("County Hardware Store", "5251"),
    ("Rail Ticket Office", "4112"),
    ("Online Mall", "5399"),
)


@dataclass(frozen=True, slots=True)
class SeedCard:
    card_id: str
    customer_id: str
    member_bank: str
    kind: str  # debit | credit
    product_name: str
    masked_number: str
    status: str
    expiry: str  # YYYY-MM
    linked_account_id: str | None
    credit_limit_fen: int | None
    outstanding_fen: int | None
    transaction_count: int  # credit cards only; a debit card's come from its account
    spend_scale: int  # credit cards: how big the holder's purchases are


@dataclass(frozen=True, slots=True)
class CardTxn:
    transaction_id: str
    card_id: str
    type: str
    amount_fen: int  # negative for a debit
    description: str
    merchant: tuple[str, str] | None  # (name, merchant category code)
    posted_at: datetime


class CardsService:
    name = "cards"
    required_scope: str | None = "cards.read"

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.accounts = accounts
        self.history = History(population, accounts, ledger)
        self.cards_of = lru_cache(maxsize=65_536)(self._cards_of)
        self.transactions_of = lru_cache(maxsize=8_192)(self._transactions_of)

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"errors": [{"code": code, "detail": message}]}, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v2/customers/{customer_id}/cards", self.list_cards)
        app.router.add_get("/v2/cards/{card_id}/transactions", self.list_transactions)

    async def list_cards(self, request: web.Request) -> web.Response:
        bank = request.headers.get("X-Member-Bank", "")
        if not bank:
            return self.error_response(400, "MISSING_HEADER", "send X-Member-Bank")
        customer_id = request.match_info["customer_id"]
        if not self.population.belongs(customer_id, bank):
            return self.error_response(404, "CUSTOMER_NOT_FOUND", "no such customer in this member bank")
        return web.json_response({"data": [_card_wire(card) for card in self.cards_of(customer_id)]})

    async def list_transactions(self, request: web.Request) -> web.Response:
        bank = request.headers.get("X-Member-Bank", "")
        customer_id = request.headers.get("X-Customer-Id", "")
        if not bank or not customer_id:
            return self.error_response(400, "MISSING_HEADER", "send X-Member-Bank and X-Customer-Id")
        card = self._owned(request.match_info["card_id"], customer_id, bank)
        if card is None:
            return self.error_response(404, "CARD_NOT_FOUND", "no such card for this customer")
        limit = _limit(request.query.get("limit"))
        if limit is None:
            return self.error_response(400, "INVALID_PARAMETER", f"limit must be an integer 1-{MAX_LIMIT}")
        transactions = self.transactions_of(card)
        before = _decode_cursor(request.query.get("cursor"), card.card_id, len(transactions))
        if before is None:
            return self.error_response(400, "INVALID_CURSOR", "cursor is not one this endpoint issued")
        start = max(0, before - limit)
        page = transactions[start:before]
        return web.json_response(
            {
                "data": [_txn_wire(t) for t in reversed(page)],
                "page": {
                    "nextCursor": _encode_cursor(card.card_id, start) if start else None,
                    "hasMore": start > 0,
                },
            }
        )

    def _owned(self, card_id: str, customer_id: str, bank: str) -> SeedCard | None:
        if not self.population.belongs(customer_id, bank):
            return None
        return next((c for c in self.cards_of(customer_id) if c.card_id == card_id), None)

    def _cards_of(self, customer_id: str) -> tuple[SeedCard, ...]:
        customer = self.population.customer(customer_id)
        if customer is None:
            return ()
        rng = rng_for(self.population.seed, "cards", customer_id)
        cards: list[SeedCard] = []
        if rng.random() < 0.9:
            cards.append(self._debit_card(rng, customer, len(cards) + 1))
        if rng.random() < _CREDIT_ODDS[customer.assets_tier]:
            for _ in range(rng.choice((1, 1, 2))):
                cards.append(_credit_card(rng, customer, len(cards) + 1))
        return tuple(cards)

    def _debit_card(self, rng: random.Random, customer: Customer, n: int) -> SeedCard:
        current = self.accounts.of_customer(customer.customer_id)[0]
        return SeedCard(
            card_id=f"{customer.customer_id}-C{n}",
            customer_id=customer.customer_id,
            member_bank=customer.member_bank,
            kind="debit",
            product_name="Fuxin Debit Card",
            masked_number=f"622848******{rng.randint(0, 9999):04d}",
            status="ACTIVE",
            expiry=f"{rng.randint(2027, 2032)}-{rng.randint(1, 12):02d}",
            linked_account_id=current.account_id,
            credit_limit_fen=None,
            outstanding_fen=None,
            transaction_count=0,
            spend_scale=1,
        )

    def _transactions_of(self, card: SeedCard) -> tuple[CardTxn, ...]:
        """A card's transactions, oldest first."""
        if card.linked_account_id is not None:
            return self._debit_transactions(card, card.linked_account_id)
        return _credit_transactions(self.population.seed, card)

    def _debit_transactions(self, card: SeedCard, account_id: str) -> tuple[CardTxn, ...]:
        # Only seeded bookings: a debit card's purchases never come from runtime transfers.
        bookings = [b for b in self.history.seeded(account_id) if b.channel in CARD_CHANNELS]
        return tuple(
            CardTxn(
                transaction_id=f"{card.card_id}-T{b.seq:05d}",
                card_id=card.card_id,
                type="PURCHASE" if b.channel == "card" else "ATM_WITHDRAWAL",
                amount_fen=b.amount_fen,
                description=b.description,
                merchant=(b.counterparty, MERCHANT_CATEGORY_CODES.get(b.counterparty, "5999"))
                if b.counterparty
                else None,
                posted_at=b.booked_at,
            )
            for b in bookings
        )


def _credit_card(rng: random.Random, customer: Customer, n: int) -> SeedCard:
    product, low, high = _CREDIT_PRODUCTS[customer.assets_tier]
    limit = rng.randint(low // 100_000, high // 100_000) * 100_000
    return SeedCard(
        card_id=f"{customer.customer_id}-C{n}",
        customer_id=customer.customer_id,
        member_bank=customer.member_bank,
        kind="credit",
        product_name=product,
        masked_number=f"625966******{rng.randint(0, 9999):04d}",
        status="BLOCKED" if rng.random() < 0.05 else "ACTIVE",
        expiry=f"{rng.randint(2027, 2031)}-{rng.randint(1, 12):02d}",
        linked_account_id=None,
        credit_limit_fen=limit,
        outstanding_fen=rng.randint(0, limit * 6 // 10),
        transaction_count=rng.randint(30, 250),
        spend_scale=_TIER_SCALE[customer.assets_tier],
    )


def _credit_transactions(seed: int, card: SeedCard) -> tuple[CardTxn, ...]:
    rng = rng_for(seed, "card-transactions", card.card_id)
    times = sorted(rng.randrange(365 * 86_400) for _ in range(card.transaction_count))
    return tuple(
        _credit_txn(rng, card, n, SEEDED_UNTIL - timedelta(seconds=365 * 86_400 - offset))
        for n, offset in enumerate(times, start=1)
    )


def _credit_txn(rng: random.Random, card: SeedCard, n: int, when: datetime) -> CardTxn:
    roll, scale = rng.random(), card.spend_scale
    merchant = rng.choice(_MERCHANTS)
    if roll < 0.85:
        kind, amount, text = "PURCHASE", -rng.randint(800, 80_000) * scale, f"Purchase {merchant[0]}"
    elif roll < 0.88:
        kind, amount, text = "REFUND", rng.randint(800, 20_000) * scale, f"Refund {merchant[0]}"
    elif roll < 0.98:
        kind, amount, text = "REPAYMENT", rng.randint(50_000, 500_000) * scale, "Repayment, thank you"
    else:
        kind, amount, text = "FEE", -rng.randint(500, 5_000), "Annual fee"
    return CardTxn(
        transaction_id=f"{card.card_id}-T{n:05d}",
        card_id=card.card_id,
        type=kind,
        amount_fen=amount,
        description=text,
        merchant=merchant if kind in ("PURCHASE", "REFUND") else None,
        posted_at=when,
    )


def _money(fen: int) -> dict[str, str]:
    sign = "-" if fen < 0 else ""
    return {"amount": f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}", "currency": CURRENCY}


def _card_wire(card: SeedCard) -> dict[str, Any]:
    limit, outstanding = card.credit_limit_fen, card.outstanding_fen
    return {
        "cardId": card.card_id,
        "customerId": card.customer_id,
        "memberBank": card.member_bank,
        "type": card.kind.upper(),
        "productName": card.product_name,
        "maskedPan": card.masked_number,
        "status": card.status,
        "expiry": card.expiry,
        "linkedAccountId": card.linked_account_id,
        "creditLimit": _money(limit) if limit is not None else None,
        "outstandingBalance": _money(outstanding) if outstanding is not None else None,
        "availableCredit": _money(limit - outstanding)
        if limit is not None and outstanding is not None
        else None,
    }


def _txn_wire(txn: CardTxn) -> dict[str, Any]:
    return {
        "transactionId": txn.transaction_id,
        "cardId": txn.card_id,
        "type": txn.type,
        "creditDebitIndicator": "DBIT" if txn.amount_fen < 0 else "CRDT",
        "amount": _money(abs(txn.amount_fen)),
        "description": txn.description,
        "merchant": {"name": txn.merchant[0], "categoryCode": txn.merchant[1]} if txn.merchant else None,
        "postedAt": txn.posted_at.astimezone(CHINA_TIME).isoformat(),
    }


def _limit(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        return None
    return int(raw)


def _encode_cursor(card_id: str, before: int) -> str:
    payload = json.dumps({"card": card_id, "before": before}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, card_id: str, total: int) -> int | None:
    """The position the page ends before; `total` when no cursor; None when invalid."""
    if cursor is None or cursor == "":
        return total
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        before = raw["before"]
        valid = raw["card"] == card_id and isinstance(before, int) and 0 < before <= total
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None
    return before if valid else None
