"""The engine: a document is parsed and validated once; introspection and suggestions by mode."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from bff.graphql.engine import GraphQLEngine
from tests.graphql.conftest import Build, Harness
from tests.graphql.toy_schema import Query

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_repeated_document_is_parsed_once(toy_app: Harness) -> None:
    for name in ("a", "b", "c"):
        body = {"query": "query($n: String) { hello(name: $n) }", "variables": {"n": name}}
        assert (await toy_app.post(body)).json() == {"data": {"hello": f"hello {name}"}}
    assert toy_app.engine.parse_count == 1


async def test_invalid_document_is_not_validated_again(toy_app: Harness) -> None:
    for _ in range(3):
        await toy_app.post({"query": "{ nope }"})
    assert toy_app.engine.parse_count == 1


async def test_least_recently_used_document_leaves_a_full_cache() -> None:
    engine = GraphQLEngine(strawberry.Schema(query=Query), cache_size=2)
    engine.prepare("{ hello }")
    engine.prepare("{ whoami }")
    engine.prepare("{ hello }")
    engine.prepare("{ accounts { name } }")  # evicts { whoami }
    engine.prepare("{ hello }")
    assert engine.parse_count == 3
    engine.prepare("{ whoami }")
    assert engine.parse_count == 4


async def test_introspection_works_in_development(build_toy_app: Build) -> None:
    app = await build_toy_app(development=True)
    response = await app.post({"query": INTROSPECTION})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_introspection_is_refused_in_production(toy_app: Harness) -> None:
    response = await toy_app.post({"query": INTROSPECTION})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection has been disabled" in error["message"]


async def test_typename_is_allowed_in_production(toy_app: Harness) -> None:
    assert (await toy_app.post({"query": "{ __typename }"})).json() == {"data": {"__typename": "Query"}}


async def test_field_suggestions_are_given_in_development(build_toy_app: Build) -> None:
    app = await build_toy_app(development=True)
    response = await app.post({"query": "{ helo }"})
    assert "Did you mean 'hello'?" in response.json()["errors"][0]["message"]


async def test_field_suggestions_are_stripped_in_production(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "{ helo }"})
    message = response.json()["errors"][0]["message"]
    assert message == "Cannot query field 'helo' on type 'Query'."


def test_schema_with_extensions_is_refused_because_they_would_not_run() -> None:
    class Noop(SchemaExtension):
        pass

    with pytest.raises(ValueError, match="extensions"):
        GraphQLEngine(strawberry.Schema(query=Query, extensions=[Noop]))
