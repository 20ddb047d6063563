"""Domain values the channel layer hands out, whatever the wire format was.

Every adapter in this package turns its service's wire format (XML, JSON with
cursors, JSON with offsets, ...) into these frozen values, so the layers above
never see a wire detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

RegionType = Literal["urban", "rural"]
AssetsTier = Literal["mass", "affluent", "private"]
AccountKind = Literal["current", "savings", "fixed_deposit"]
Direction = Literal["debit", "credit"]
CardKind = Literal["debit", "credit"]
ContentKind = Literal["short_video", "live_stream", "banner"]
SenderRole = Literal["customer", "employee"]
LiveStatus = Literal["upcoming", "live", "ended"]


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in major units (yuan) with its ISO 4217 currency."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a downstream list; `next_cursor` is opaque to callers."""

    items: tuple[T, ...]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    customer_id: str
    member_bank: str
    name: str
    age: int
    region_type: RegionType
    assets_tier: AssetsTier
    preferred_language: str
    phone: str
    customer_since: date


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    customer_id: str
    member_bank: str
    kind: AccountKind
    name: str
    number: str
    balance: Money
    available: Money
    opened_on: date
    status: str

    @property
    def masked_number(self) -> str:
        """Only the last four digits, as the app's account list shows them."""
        return f"**** {self.number[-4:]}" if len(self.number) > 4 else "****"


@dataclass(frozen=True, slots=True)
class Transaction:
    """A booked movement on an account or a card (the same type for both)."""

    transaction_id: str
    source_id: str
    amount: Money
    direction: Direction
    description: str
    counterparty: str | None
    booked_at: datetime
    balance_after: Money | None


@dataclass(frozen=True, slots=True)
class Card:
    card_id: str
    customer_id: str
    kind: CardKind
    product_name: str
    masked_number: str
    status: str
    credit_limit: Money | None
    outstanding: Money | None
    linked_account_id: str | None


@dataclass(frozen=True, slots=True)
class Loan:
    loan_id: str
    customer_id: str
    product: str
    principal: Money
    outstanding: Money
    annual_rate: Decimal
    next_payment_due: date | None
    next_payment: Money | None
    status: str


@dataclass(frozen=True, slots=True)
class FundHolding:
    fund_code: str
    fund_name: str
    units: Decimal
    nav: Decimal
    market_value: Money
    risk_level: int


@dataclass(frozen=True, slots=True)
class WealthSummary:
    customer_id: str
    total: Money
    holdings: tuple[FundHolding, ...]
    as_of: date


@dataclass(frozen=True, slots=True)
class Transfer:
    transfer_id: str
    status: str
    from_account_id: str
    to_account_number: str
    to_name: str
    amount: Money
    created_at: datetime
    idempotency_key: str
    memo: str = ""


@dataclass(frozen=True, slots=True)
class ContentItem:
    content_id: str
    kind: ContentKind
    member_bank: str
    title: str
    image_url: str
    media_url: str | None
    duration_seconds: int | None
    starts_at: datetime | None
    is_marketing: bool
    ends_at: datetime | None = None
    live_status: LiveStatus | None = None  # live streams only
    link_url: str | None = None  # banners only
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    thread_id: str
    customer_id: str
    sender_role: SenderRole
    sender_id: str
    body: str
    sent_at: datetime
    read: bool


@dataclass(frozen=True, slots=True)
class MessageThread:
    """A conversation between one customer and a bank employee."""

    thread_id: str
    customer_id: str
    member_bank: str
    subject: str
    employee_id: str
    employee_name: str
    employee_role: str
    message_count: int
    unread_count: int
    last_message_at: datetime | None
    last_message_preview: str | None


@dataclass(frozen=True, slots=True)
class CustomerScope:
    """Whose data a call reads: every customer-data call carries one."""

    customer_id: str
    member_bank: str
