"""Transfers: the mutation input and its result, with business refusals as data."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from bff.channels import models
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Money


@strawberry.input
class MoneyInput:
    amount: Decimal = strawberry.field(description="Major units (yuan), at most two decimals.")
    currency: str = "CNY"


@strawberry.input
class TransferInput:
    from_account_id: strawberry.ID = strawberry.field(description="Global id of one of your accounts.")
    to_account_number: str
    to_name: str
    amount: MoneyInput
    idempotency_key: str = strawberry.field(
        description="Unique per transfer (a UUID): sending it again returns the first result, never a second transfer."
    )
    memo: str = ""


@strawberry.type
class Transfer:
    id: strawberry.ID
    status: str
    amount: Money
    to_account_number: str
    to_name: str
    memo: str
    created_at: datetime

    @classmethod
    def of(cls, transfer: models.Transfer) -> Transfer:
        return cls(
            id=strawberry.ID(to_global_id("Transfer", transfer.transfer_id)),
            status=transfer.status,
            amount=Money.of(transfer.amount),
            to_account_number=transfer.to_account_number,
            to_name=transfer.to_name,
            memo=transfer.memo,
            created_at=transfer.created_at,
        )


@strawberry.enum
class TransferRefusalCode(Enum):
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    SAME_ACCOUNT = "SAME_ACCOUNT"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_INPUT = "INVALID_INPUT"


@strawberry.type(description="The bank refused the transfer; nothing moved.")
class TransferRefused:
    code: TransferRefusalCode
    message: str
    field: str | None = None


@strawberry.type
class TransferDone:
    transfer: Transfer


TransferResult = Annotated[TransferDone | TransferRefused, strawberry.union("TransferResult")]
