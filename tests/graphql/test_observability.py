"""Metrics per operation and outcome, a JSON log line per operation, the request id in context."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
import redis.asyncio as aioredis
import strawberry
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from bff.channels.request_id import current_request_id
from bff.graphql.engine import GraphQLEngine
from bff.graphql.http import graphql_routes
from bff.graphql.persisted import DocumentStore
from bff.logging_setup import configure_logging
from tests.graphql.conftest import Harness, toy_context


def sample(toy_app: Harness, name: str, **labels: str) -> float:
    value = toy_app.metrics.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_requests_are_counted_by_operation_and_outcome(toy_app: Harness) -> None:
    await toy_app.post({"query": "query Greeting { hello }"})
    await toy_app.post({"query": "query Greeting { hello }"})
    await toy_app.post({"query": 'query Broken { hello fail(kind: "downstream") }'})
    await toy_app.post({"query": "{ must }"})
    await toy_app.post({"query": "query Bad { nope }"})
    total = "bff_graphql_requests_total"
    assert sample(toy_app, total, operation="Greeting", outcome="ok") == 2
    assert sample(toy_app, total, operation="Broken", outcome="partial") == 1
    assert sample(toy_app, total, operation="anonymous", outcome="error") == 1
    assert sample(toy_app, total, operation="Bad", outcome="rejected") == 1
    assert sample(toy_app, "bff_graphql_request_seconds_count", operation="Greeting") == 2


async def test_transport_refusals_count_as_rejected(toy_app: Harness) -> None:
    await toy_app.post({"query": "{ hello }"}, accept="text/csv")
    assert sample(toy_app, "bff_graphql_requests_total", operation="anonymous", outcome="rejected") == 1


async def test_each_operation_logs_request_id_outcome_and_latency(
    toy_app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bff.graphql.access"):
        await toy_app.post({"query": "query Greeting { hello }"}, **{"X-Request-ID": "rid-log"})
    [record] = [r for r in caplog.records if r.name == "bff.graphql.access"]
    assert record.request_id == "rid-log"  # type: ignore[attr-defined]
    assert record.operation == "Greeting"  # type: ignore[attr-defined]
    assert record.outcome == "ok"  # type: ignore[attr-defined]
    assert record.latency_ms >= 0  # type: ignore[attr-defined]


def test_configured_logging_writes_json_lines_with_the_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO")
        token = current_request_id.set("rid-json")
        logging.getLogger("bff.test").info("hello", extra={"operation": "Greeting"})
        current_request_id.reset(token)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "hello"
    assert line["request_id"] == "rid-json"
    assert line["operation"] == "Greeting"
    assert line["level"] == "INFO"


async def test_resolvers_see_the_request_id_in_the_context_variable(redis_client: aioredis.Redis) -> None:
    seen: list[str | None] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def probe(self) -> str:
            seen.append(current_request_id.get())
            return "ok"

    routes = graphql_routes(
        GraphQLEngine(strawberry.Schema(query=Query)),
        DocumentStore(redis_client),
        toy_context,
        metrics_registry=CollectorRegistry(),
    )
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://bff.test") as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ probe }"},
            headers={"Authorization": "Bearer good", "X-Request-ID": "rid-ctx"},
        )
    assert response.json() == {"data": {"probe": "ok"}}
    assert seen == ["rid-ctx"]
    assert current_request_id.get() is None
