"""What a mini-program asks the app to do for the customer: payment intents and journey open requests.

A mini-program never moves money: `payment.request` records an intent in
state `pending_customer_confirmation`, which the app shows the customer to
confirm (or not) in its own UI. `journey.open` records a request to open a
host journey; journeys arrive in a later issue, which will consume these
records. Both are kept under the customer's hash tag and expire unattended:

    bff:bridge:intent:{<member bank>:<customer>}:<intent id>     hash
    bff:bridge:journey:{<member bank>:<customer>}:<request id>   hash
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from redis.typing import EncodableT, FieldT

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient
from bff.store.keys import part, tag

PENDING_CONFIRMATION: Final = "pending_customer_confirmation"
JOURNEY_REQUESTED: Final = "requested"
INTENT_TTL_S: Final = 15 * 60
JOURNEY_REQUEST_TTL_S: Final = 15 * 60
MAX_DESCRIPTION: Final = 140
CURRENCY: Final = re.compile(r"[A-Z]{3}\Z")
JOURNEY_TYPE: Final = re.compile(r"[a-z][a-z0-9_.-]{0,63}\Z")
MAX_AMOUNT: Final = Decimal("1000000")


class InvalidRequest(ValueError):
    """A bridge request body that does not say what it must; the message says what to send."""


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    intent_id: str
    app_id: str
    amount: Decimal
    currency: str
    description: str
    status: str
    created_at: float


@dataclass(frozen=True, slots=True)
class JourneyRequest:
    request_id: str
    app_id: str
    journey_type: str
    status: str
    created_at: float


def intent_key(customer: CustomerScope, intent_id: str) -> str:
    return f"bff:bridge:intent:{tag(customer.member_bank, customer.customer_id)}:{part(intent_id)}"


def journey_request_key(customer: CustomerScope, request_id: str) -> str:
    return f"bff:bridge:journey:{tag(customer.member_bank, customer.customer_id)}:{part(request_id)}"


def parse_amount(value: object, currency: object) -> tuple[Decimal, str]:
    """A positive amount with at most two decimals, given as a string or number, and an ISO 4217 code."""
    if not isinstance(currency, str) or CURRENCY.match(currency) is None:
        raise InvalidRequest("amount.currency must be an ISO 4217 code such as 'CNY'")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRequest("amount.value must be a decimal string such as '12.50'")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequest("amount.value must be a decimal string such as '12.50'") from None
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise InvalidRequest(
            f"amount.value must be above 0, at most {MAX_AMOUNT} and have at most 2 decimals"
        )
    return amount.quantize(Decimal("0.01")), currency


class BridgeRequests:
    def __init__(self, redis: RedisClient, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock

    async def create_payment_intent(
        self, customer: CustomerScope, app_id: str, amount: Decimal, currency: str, description: str
    ) -> PaymentIntent:
        """Record an intent awaiting the customer's confirmation in the app; nothing is paid here."""
        if not description.strip() or len(description) > MAX_DESCRIPTION:
            raise InvalidRequest(f"description must be 1 to {MAX_DESCRIPTION} characters")
        intent = PaymentIntent(
            secrets.token_urlsafe(12),
            app_id,
            amount,
            currency,
            description,
            PENDING_CONFIRMATION,
            self._clock(),
        )
        fields: dict[FieldT, EncodableT] = {
            "app_id": app_id,
            "amount": str(amount),
            "currency": currency,
            "description": description,
            "status": intent.status,
            "created_at": repr(intent.created_at),
        }
        key = intent_key(customer, intent.intent_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, INTENT_TTL_S)
            await pipe.execute()
        return intent

    async def request_journey(
        self, customer: CustomerScope, app_id: str, journey_type: str
    ) -> JourneyRequest:
        """Record that the mini-program asked to open a journey; a later issue opens it."""
        if JOURNEY_TYPE.match(journey_type) is None:
            raise InvalidRequest("journeyType must be a lowercase name such as 'loan.application'")
        request = JourneyRequest(
            secrets.token_urlsafe(12), app_id, journey_type, JOURNEY_REQUESTED, self._clock()
        )
        fields: dict[FieldT, EncodableT] = {
            "app_id": app_id,
            "journey_type": journey_type,
            "status": request.status,
            "created_at": repr(request.created_at),
        }
        key = journey_request_key(customer, request.request_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, JOURNEY_REQUEST_TTL_S)
            await pipe.execute()
        return request
