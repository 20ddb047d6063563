"""Static limits: depth, aliases, cost, tokens; each with its code and a message naming value and limit."""

from __future__ import annotations

import time

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from bff.graphql.limits import Limits, Shape, cost_of, measure
from tests.graphql.conftest import Build, Harness
from tests.graphql.toy_schema import build_toy_schema


def first_error(response_json: dict[str, object]) -> dict[str, object]:
    errors = response_json["errors"]
    assert isinstance(errors, list)
    return errors[0]  # type: ignore[no-any-return]


def shape_of(document: str, limits: Limits | None = None) -> Shape:
    parsed = parse(document)
    fragments = {d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return measure(build_toy_schema()._schema, operation, fragments, limits or Limits())


async def test_too_deep_query_is_rejected_naming_depth_and_limit(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_depth=3))
    response = await app.post({"query": "{ accounts { parent { parent { name } } } }"})
    assert response.status_code == 400
    error = first_error(response.json())
    assert error["extensions"]["code"] == "QUERY_TOO_DEEP"  # type: ignore[index]
    assert "4 levels deep; the limit is 3" in str(error["message"])


async def test_query_at_the_depth_limit_runs(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_depth=3))
    response = await app.post({"query": "{ accounts(first: 1) { parent { name } } }"})
    assert response.json() == {"data": {"accounts": [{"parent": {"name": "parent"}}]}}


async def test_depth_follows_named_and_inline_fragments(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_depth=3))
    query = """
        { accounts { ...Deep } }
        fragment Deep on Account { ... on Account { parent { parent { name } } } }
    """
    response = await app.post({"query": query})
    assert first_error(response.json())["extensions"]["code"] == "QUERY_TOO_DEEP"  # type: ignore[index]


async def test_too_many_aliases_is_rejected_naming_count_and_limit(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_aliases=2))
    query = "{ a: hello b: hello ...More } fragment More on Query { c: hello }"
    response = await app.post({"query": query})
    error = first_error(response.json())
    assert error["extensions"]["code"] == "TOO_MANY_ALIASES"  # type: ignore[index]
    assert "3 aliases; the limit is 2" in str(error["message"])


async def test_costly_query_is_rejected_naming_cost_and_limit(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_cost=200))
    # accounts: 1 + 20 * (name 1 + transactions (1 + 10 * amount 1)) = 241
    query = "{ accounts(first: 20) { name transactions(first: 10) { amount } } }"
    response = await app.post({"query": query})
    assert response.status_code == 400
    error = first_error(response.json())
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"  # type: ignore[index]
    assert error["extensions"]["cost"] == 241  # type: ignore[index]
    assert "costs 241; the limit is 200" in str(error["message"])


async def test_limit_errors_are_200_under_application_json(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_cost=5))
    response = await app.post({"query": "{ accounts { name } }"}, accept="application/json")
    assert response.status_code == 200
    assert first_error(response.json())["extensions"]["code"] == "QUERY_TOO_COMPLEX"  # type: ignore[index]


async def test_cost_reads_first_from_variables_per_request(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_cost=40))
    query = "query Accounts($n: Int!) { accounts(first: $n) { name } }"
    small = await app.post({"query": query, "variables": {"n": 3}})
    large = await app.post({"query": query, "variables": {"n": 50}})
    assert len(small.json()["data"]["accounts"]) == 3
    assert "costs 51; the limit is 40" in str(first_error(large.json())["message"])
    assert app.engine.parse_count == 1


def test_cost_uses_the_schema_default_when_first_is_omitted() -> None:
    # accounts(first = 10 by default): 1 + 10 * name
    assert cost_of(shape_of("{ accounts { name } }").cost, {}) == 11


def test_list_without_size_argument_counts_the_default_list_size() -> None:
    shape = shape_of("{ history { edges { cursor } } }", Limits(default_list_size=7))
    # history has `first` with no default, so 7 items; edges inside a connection are those items.
    assert cost_of(shape.cost, {}) == 1 + 7 * (1 + 1)


def test_connection_edges_are_not_multiplied_again() -> None:
    shape = shape_of("{ history(first: 4) { edges { cursor node { amount } } } }")
    # history: 1 + 4 * edges (1 + cursor 1 + node (1 + amount 1))
    assert cost_of(shape.cost, {}) == 1 + 4 * (1 + 1 + 2)


def test_variable_default_sets_the_size_when_the_variable_is_not_sent() -> None:
    shape = shape_of("query($n: Int = 6) { accounts(first: $n) { name } }")
    assert cost_of(shape.cost, {}) == 1 + 6
    assert cost_of(shape.cost, {"n": 2}) == 1 + 2


def test_fragment_cycle_does_not_loop_forever() -> None:
    shape = shape_of("{ accounts { ...A } } fragment A on Account { parent { ...A } }")
    assert shape.depth == 2


def test_fragment_fan_out_is_measured_without_expanding_it() -> None:
    levels = 40
    fragments = "\n".join(
        f"fragment F{i} on Account {{ a: parent {{ ...F{i + 1} }} b: parent {{ ...F{i + 1} }} }}"
        for i in range(levels)
    )
    document = f"{{ accounts(first: 1) {{ ...F0 }} }}\n{fragments}\nfragment F{levels} on Account {{ name }}"
    started = time.perf_counter()
    shape = shape_of(document)
    assert time.perf_counter() - started < 1.0
    assert cost_of(shape.cost, {}) > 2**levels


async def test_fragment_cycle_is_reported_by_validation(toy_app: Harness) -> None:
    query = "{ accounts { ...A } } fragment A on Account { parent { ...A } }"
    response = await toy_app.post({"query": query})
    assert first_error(response.json())["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]


async def test_too_many_tokens_is_rejected_naming_count_and_limit(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_tokens=10))
    response = await app.post({"query": "{ a: hello b: hello c: hello d: hello }"})
    assert response.status_code == 400
    error = first_error(response.json())
    assert error["extensions"]["code"] == "TOO_MANY_TOKENS"  # type: ignore[index]
    assert "14 tokens; the limit is 10" in str(error["message"])


async def test_limits_set_to_none_are_off(build_toy_app: Build) -> None:
    app = await build_toy_app(limits=Limits(max_depth=None, max_aliases=None, max_cost=None, max_tokens=None))
    response = await app.post(
        {"query": "{ a: accounts(first: 50) { parent { parent { parent { name } } } } }"}
    )
    assert "errors" not in response.json()
