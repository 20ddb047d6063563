"""The executor's fast path for plain leaf fields answers exactly as graphql-core's own path does."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from bff.graphql.execution import LeafFastExecutionContext, leaf_fields


@strawberry.enum
class Kind(enum.Enum):
    CURRENT = "current"
    SAVINGS = "savings"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    kind: Kind
    amount: Decimal
    booked_at: datetime
    note: str | None
    count: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def times(self, n: int) -> int:
        return self.count * n


def item(**changes: Any) -> Item:
    values: dict[str, Any] = {
        "id": strawberry.ID("i-1"),
        "name": "rent",
        "kind": Kind.SAVINGS,
        "amount": Decimal("12.50"),
        "booked_at": datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        "note": None,
        "count": 3,
    }
    values.update(changes)
    return Item(**values)


ITEMS: list[Item] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item] | None:
        return ITEMS

    @strawberry.field
    def first(self) -> Item | None:
        return ITEMS[0] if ITEMS else None


SCHEMA = strawberry.Schema(query=Query)
QUERY = parse("{ items { id name kind amount bookedAt note count shout times(n: 2) } first { name count } }")


def run(context_class: type[StrawberryGraphQLCoreExecutionContext]) -> ExecutionResult:
    result = execute(SCHEMA._schema, QUERY, executor_class=context_class)
    assert isinstance(result, ExecutionResult)
    return result


def both() -> tuple[ExecutionResult, ExecutionResult]:
    fast = LeafFastExecutionContext.for_schema(SCHEMA._schema)
    return run(StrawberryGraphQLCoreExecutionContext), run(fast)


def test_only_plain_leaf_fields_take_the_fast_path() -> None:
    leaves = leaf_fields(SCHEMA._schema)
    item_type = SCHEMA._schema.get_type("Item")
    assert set(leaves[item_type]) == {"id", "name", "kind", "amount", "bookedAt", "note", "count"}  # type: ignore[index]
    assert SCHEMA._schema.get_type("Query") not in leaves  # resolvers only


@pytest.fixture(autouse=True)
def clear_items() -> Any:
    yield
    ITEMS.clear()


def test_answers_match_graphql_core_for_scalars_enums_and_nulls() -> None:
    ITEMS.extend(
        [item(), item(id=strawberry.ID("i-2"), kind=Kind.CURRENT, note="gift", amount=Decimal("0.01"))]
    )
    plain, fast = both()
    assert fast.errors is None
    assert fast.data == plain.data
    assert fast.data is not None
    assert fast.data["items"][1] == {
        "id": "i-2",
        "name": "rent",
        "kind": "CURRENT",
        "amount": "0.01",
        "bookedAt": "2026-11-27T09:30:00+00:00",
        "note": "gift",
        "count": 3,
        "shout": "RENT",
        "times": 6,
    }


def test_a_null_in_a_non_null_leaf_is_graphql_core_s_error_with_its_path() -> None:
    ITEMS.extend([item(), item(name=None)])
    plain, fast = both()
    assert fast.data == plain.data == {"items": None, "first": {"name": "rent", "count": 3}}
    assert [e.formatted for e in fast.errors or []] == [e.formatted for e in plain.errors or []]
    assert fast.errors is not None
    assert fast.errors[0].path == ["items", 1, "name"]
    assert "Cannot return null for non-nullable field Item.name" in fast.errors[0].message


def test_a_value_the_scalar_refuses_is_graphql_core_s_error() -> None:
    ITEMS.extend([item(count="many")])
    plain, fast = both()
    assert fast.data == plain.data
    assert [e.formatted for e in fast.errors or []] == [e.formatted for e in plain.errors or []]
    assert fast.errors is not None
    assert {tuple(e.path or ()) for e in fast.errors} >= {("items", 0, "count")}
