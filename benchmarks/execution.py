"""GraphQL execution alone: a page of transactions through graphql-core, with and without the leaf fast path.

No I/O: a root field returns a ready page of `--items` real `Transaction`
objects, and the app's AccountTransactions selection runs over it, executed by
graphql-core with strawberry's own execution context and with the BFF's
(`bff.graphql.execution.LeafFastExecutionContext`). Reports microseconds per
execution (the best of `--rounds` rounds of `--runs` runs each, so machine
noise falls away) and per field resolved.

    .venv/bin/python benchmarks/execution.py [--items 20] [--runs 500] [--rounds 7]

Timings on a shared VM move by 30 %; instruction counts do not. Count them
with callgrind, one executor at a time, and subtract a run of 0 executions
(start-up) from a run of 50:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        .venv/bin/python benchmarks/execution.py --only fast --runs 50 --rounds 1   # and --runs 0; --only plain
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from bff.graphql.accounts.types import Direction, Transaction
from bff.graphql.execution import LeafFastExecutionContext
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Connection, Edge, Money, PageInfo

# The transaction selection of schemas/app-operations/accounts.graphql (AccountTransactions).
QUERY = """{ page {
  edges { cursor node { id amount { amount currency } direction description counterparty bookedAt } }
  pageInfo { hasNextPage endCursor } } }"""
FIELDS_PER_ITEM = 11  # edge, cursor, node, id, amount, amount.amount, amount.currency, direction, ...


def page_of(items: int) -> Connection[Transaction]:
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    edges = [
        Edge(
            node=Transaction(
                id=strawberry.ID(to_global_id("Transaction", f"A1/{n}")),
                amount=Money(amount=Decimal(f"{n * 3}.25"), currency="CNY"),
                direction=Direction.DEBIT if n % 3 else Direction.CREDIT,
                description=f"payment {n}",
                counterparty=None if n % 4 == 0 else f"shop {n}",
                booked_at=start - timedelta(hours=n),
                balance_after=None,
            ),
            cursor=f"c{n}",
        )
        for n in range(items)
    ]
    return Connection(edges=edges, page_info=PageInfo(has_next_page=True, end_cursor="c"), total_count=None)


def schema_for(page: Connection[Transaction]) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def page(self) -> Connection[Transaction]:
            return page

    return strawberry.Schema(query=Query)


def best_us(
    context: type[StrawberryGraphQLCoreExecutionContext], schema: Any, runs: int, rounds: int
) -> float:
    document = parse(QUERY)
    result = execute(schema, document, executor_class=context)  # warm: the first run builds caches
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(runs):
            result = execute(schema, document, executor_class=context)
        best = min(best, (time.perf_counter() - started) / max(runs, 1))
        assert isinstance(result, ExecutionResult), result
        assert result.errors is None, result.errors
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=("plain", "fast"), help="run one executor (for callgrind)")
    args = parser.parse_args()
    schema = schema_for(page_of(args.items))._schema
    fields = args.items * FIELDS_PER_ITEM + 4
    contexts = {
        "strawberry's execution context": StrawberryGraphQLCoreExecutionContext,
        "with the leaf fast path": LeafFastExecutionContext.for_schema(schema),
    }
    if args.only:
        contexts = dict([list(contexts.items())[0 if args.only == "plain" else 1]])
    print(
        f"A page of {args.items} transactions ({fields} fields), best of {args.rounds} x {args.runs} runs\n"
    )
    print("| executor | us per execution | us per field |")
    print("| --- | ---: | ---: |")
    for name, context in contexts.items():
        us = best_us(context, schema, args.runs, args.rounds)
        print(f"| {name} | {us:.0f} | {us / fields:.2f} |")


if __name__ == "__main__":
    main()
