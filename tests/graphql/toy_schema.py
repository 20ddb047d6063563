"""A small schema standing in for the real one: a list field with `first`, a mutation, and failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from bff.auth.errors import AuthError, AuthErrorCode
from bff.channels.errors import ChannelFailure, ChannelRejected, FailureReason, NotFound
from bff.graphql.exceptions import Forbidden


@dataclass(frozen=True)
class ToyContext:
    subject: str


@strawberry.type
class Transaction:
    id: strawberry.ID
    amount: int


@strawberry.type
class Account:
    id: strawberry.ID
    name: str

    @strawberry.field
    def transactions(self, first: int = 5) -> list[Transaction]:
        return [Transaction(id=strawberry.ID(f"{self.id}-t{i}"), amount=i * 100) for i in range(first)]

    @strawberry.field
    def parent(self) -> Account:
        return Account(id=strawberry.ID(f"{self.id}-p"), name="parent")


@strawberry.type
class TransactionEdge:
    node: Transaction
    cursor: str


@strawberry.type
class TransactionConnection:
    edges: list[TransactionEdge]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"

    @strawberry.field
    def whoami(self, info: strawberry.Info[ToyContext, Any]) -> str:
        return info.context.subject

    @strawberry.field
    def accounts(self, first: int = 10) -> list[Account]:
        return [Account(id=strawberry.ID(f"a{i}"), name=f"account {i}") for i in range(first)]

    @strawberry.field
    def history(self, first: int | None = None) -> TransactionConnection:
        items = [Transaction(id=strawberry.ID(f"t{i}"), amount=i) for i in range(first or 3)]
        return TransactionConnection(edges=[TransactionEdge(node=t, cursor=str(t.id)) for t in items])

    @strawberry.field
    def fail(self, kind: str) -> str | None:
        raise _failure(kind)

    @strawberry.field
    def must(self) -> str:
        raise RuntimeError("a non-null field failed")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def rename(self, name: str) -> str:
        return f"renamed to {name}"


def _failure(kind: str) -> Exception:
    failures: dict[str, Exception] = {
        "downstream": ChannelFailure("core_banking", "dc-a", FailureReason.TIMEOUT, "after 800 ms"),
        "not_found": NotFound("cards", "CARD_NOT_FOUND", "no card c-9 for this customer"),
        "rejected": ChannelRejected("payments", "INSUFFICIENT_FUNDS", "the balance is too low"),
        "auth": AuthError(AuthErrorCode.EXPIRED, "the token expired"),
        "forbidden": Forbidden("this field is for employees"),
    }
    return failures.get(kind, RuntimeError("secret internal detail"))


def build_toy_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation)
