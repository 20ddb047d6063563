"""Overhead of the HTTP layer and engine for a cached document (run with --benchmark-enable)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import orjson
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pytest_benchmark.fixture import BenchmarkFixture

from bff.graphql.engine import GraphQLEngine
from bff.graphql.http import graphql_routes
from bff.graphql.persisted import DocumentStore
from tests.graphql.conftest import toy_context
from tests.graphql.toy_schema import build_toy_schema

QUERY = "query Accounts($n: Int!) { accounts(first: $n) { id name transactions(first: 2) { amount } } }"


def test_cached_document_round_trip_through_the_asgi_endpoint(benchmark: BenchmarkFixture) -> None:
    # Redis is never reached: a plain query in APQ mode needs no lookup.
    redis = aioredis.from_url("redis://127.0.0.1:1/0")
    engine = GraphQLEngine(build_toy_schema())
    [route] = graphql_routes(engine, DocumentStore(redis), toy_context, metrics_registry=CollectorRegistry())
    endpoint = route.app
    body = orjson.dumps({"query": QUERY, "operationName": "Accounts", "variables": {"n": 3}})
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"accept", b"application/graphql-response+json"),
            (b"authorization", b"Bearer good"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    loop = asyncio.new_event_loop()
    try:

        def one_request() -> None:
            sent.clear()
            loop.run_until_complete(endpoint(dict(scope), receive, send))

        benchmark(one_request)
    finally:
        loop.close()
    assert sent[0]["status"] == 200
    assert orjson.loads(sent[1]["body"])["data"]["accounts"][2]["transactions"][1] == {"amount": 100}
    assert engine.parse_count == 1
