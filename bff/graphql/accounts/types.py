"""Deposit accounts (core banking) and the transactions of accounts and cards."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from bff.channels import models
from bff.graphql.context import RequestContext
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Connection, Money, Node, paginate


@strawberry.enum
class AccountKind(Enum):
    CURRENT = "current"
    SAVINGS = "savings"
    FIXED_DEPOSIT = "fixed_deposit"


@strawberry.enum
class Direction(Enum):
    DEBIT = "debit"
    CREDIT = "credit"


@strawberry.type
class Transaction:
    id: strawberry.ID
    amount: Money
    direction: Direction
    description: str
    counterparty: str | None
    booked_at: datetime
    balance_after: Money | None

    @classmethod
    def of(cls, txn: models.Transaction) -> Transaction:
        return cls(
            id=strawberry.ID(to_global_id("Transaction", f"{txn.source_id}/{txn.transaction_id}")),
            amount=Money.of(txn.amount),
            direction=Direction(txn.direction),
            description=txn.description,
            counterparty=txn.counterparty,
            booked_at=txn.booked_at,
            balance_after=Money.maybe(txn.balance_after),
        )


@strawberry.type(description="A deposit account held at the customer's member bank.")
class Account(Node):
    account_id: strawberry.Private[str]
    name: str
    kind: AccountKind
    masked_number: str
    balance: Money
    available: Money
    opened_on: date
    status: str

    @classmethod
    def of(cls, account: models.Account) -> Account:
        return cls(
            id=strawberry.ID(to_global_id("Account", account.account_id)),
            account_id=account.account_id,
            name=account.name,
            kind=AccountKind(account.kind),
            masked_number=account.masked_number,
            balance=Money.of(account.balance),
            available=Money.of(account.available),
            opened_on=account.opened_on,
            status=account.status,
        )

    @strawberry.field(description="Booked transactions, newest first.")
    async def transactions(
        self, info: strawberry.Info[RequestContext, Any], first: int = 20, after: str | None = None
    ) -> Connection[Transaction] | None:
        ctx = info.context
        scope = ctx.customer()
        return await paginate(
            lambda n, cursor: ctx.channels.core_banking.transactions(scope, self.account_id, n, cursor),
            first,
            after,
            Transaction.of,
        )
