"""The transfer mutation: validates input, calls payments once per idempotency key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from bff.channels.errors import ChannelRejected
from bff.channels.models import Money as DomainMoney
from bff.graphql.context import RequestContext
from bff.graphql.ids import InvalidGlobalId, expect_global_id
from bff.graphql.payments.types import (
    Transfer,
    TransferDone,
    TransferInput,
    TransferRefusalCode,
    TransferRefused,
    TransferResult,
)

MAX_KEY_LENGTH = 128
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")
MAX_MEMO = 140
_KNOWN_CODES = {code.value for code in TransferRefusalCode}


async def transfer(info: strawberry.Info[RequestContext, Any], input: TransferInput) -> TransferResult:
    ctx = info.context
    scope = ctx.customer()
    refused = _check(input)
    if refused is not None:
        return refused
    try:
        from_account = expect_global_id(str(input.from_account_id), "Account")
    except InvalidGlobalId as exc:
        return TransferRefused(
            code=TransferRefusalCode.ACCOUNT_NOT_FOUND, message=str(exc), field="fromAccountId"
        )
    amount = DomainMoney(input.amount.amount.quantize(CENT), input.amount.currency)
    try:
        done = await ctx.channels.payments.transfer(
            scope,
            from_account,
            input.to_account_number,
            input.to_name,
            amount,
            input.memo,
            input.idempotency_key,
        )
    except ChannelRejected as exc:
        if exc.code not in _KNOWN_CODES:
            raise
        field = "fromAccountId" if exc.code == "ACCOUNT_NOT_FOUND" else None
        return TransferRefused(code=TransferRefusalCode(exc.code), message=exc.reason_text, field=field)
    return TransferDone(transfer=Transfer.of(done))


def _check(input: TransferInput) -> TransferRefused | None:
    key = input.idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return TransferRefused(
            code=TransferRefusalCode.INVALID_INPUT,
            message=f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters (use a UUID)",
            field="idempotencyKey",
        )
    text_problem = _check_texts(input)
    if text_problem is not None:
        return text_problem
    if input.amount.currency != "CNY":
        return TransferRefused(
            code=TransferRefusalCode.INVALID_AMOUNT, message="transfers are in CNY only", field="amount"
        )
    amount = input.amount.amount
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT) or amount > MAX_AMOUNT:
        return TransferRefused(
            code=TransferRefusalCode.INVALID_AMOUNT,
            message="amount must be positive with at most two decimals",
            field="amount",
        )
    return None


def _check_texts(input: TransferInput) -> TransferRefused | None:
    number = input.to_account_number.strip()
    if not (number.isdigit() and 10 <= len(number) <= 19):
        return _invalid("toAccountNumber", "toAccountNumber must be 10 to 19 digits")
    if not input.to_name.strip():
        return _invalid("toName", "toName must name the payee")
    if len(input.memo) > MAX_MEMO:
        return _invalid("memo", f"memo must be at most {MAX_MEMO} characters")
    return None


def _invalid(field: str, message: str) -> TransferRefused:
    return TransferRefused(code=TransferRefusalCode.INVALID_INPUT, message=message, field=field)
