"""A toy GraphQL app over the transport layer, against the session's private Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request

from bff.auth.errors import AuthError, AuthErrorCode
from bff.graphql.engine import GraphQLEngine
from bff.graphql.http import graphql_routes
from bff.graphql.limits import Limits
from bff.graphql.persisted import DocumentStore
from tests.graphql.toy_schema import ToyContext, build_toy_schema
from tests.support.processes import RedisServer

GOOD_TOKEN = {"Authorization": "Bearer good"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def toy_context(request: Request) -> ToyContext:
    header = request.headers.get("authorization")
    if header is None:
        raise AuthError(AuthErrorCode.TOKEN_MISSING, "send an access token in the Authorization header")
    if header != "Bearer good":
        raise AuthError(AuthErrorCode.EXPIRED, 'the token expired; get a new one ("refresh")')
    return ToyContext(subject="customer-1")


@dataclass
class Harness:
    client: httpx.AsyncClient
    transport: httpx.ASGITransport
    engine: GraphQLEngine
    documents: DocumentStore
    metrics: CollectorRegistry
    redis: aioredis.Redis

    def anonymous_client(self) -> httpx.AsyncClient:
        """A client that sends no Authorization header."""
        return httpx.AsyncClient(transport=self.transport, base_url="http://bff.test")

    async def post(self, body: Any, accept: str = GRAPHQL_RESPONSE, **headers: str) -> httpx.Response:
        return await self.client.post("/graphql", json=body, headers={"Accept": accept, **headers})

    async def get(
        self, params: dict[str, str], accept: str = GRAPHQL_RESPONSE, **headers: str
    ) -> httpx.Response:
        headers = {"Accept": accept, "GraphQL-Preflight": "1", **headers}
        return await self.client.get("/graphql", params=params, headers=headers)


Build = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url)
    yield client
    keys = [k async for k in client.scan_iter("bff:doc:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def build_toy_app(redis_client: aioredis.Redis) -> AsyncIterator[Build]:
    """Build a toy app; keyword arguments choose development mode, trusted documents and limits."""
    clients: list[httpx.AsyncClient] = []

    async def make(
        *,
        development: bool = False,
        trusted_only: bool = False,
        limits: Limits | None = None,
        max_body_bytes: int = 100_000,
        batching: bool = True,
        context_factory: Callable[[Request], Awaitable[Any]] = toy_context,
    ) -> Harness:
        engine = GraphQLEngine(build_toy_schema(), limits=limits, development=development)
        documents = DocumentStore(redis_client, trusted_only=trusted_only, apq_ttl_s=600)
        metrics = CollectorRegistry()
        routes = graphql_routes(
            engine,
            documents,
            context_factory,
            metrics_registry=metrics,
            max_body_bytes=max_body_bytes,
            batching=batching,
        )
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        client = httpx.AsyncClient(transport=transport, base_url="http://bff.test", headers=GOOD_TOKEN)
        clients.append(client)
        return Harness(client, transport, engine, documents, metrics, redis_client)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def toy_app(build_toy_app: Build) -> Harness:
    """The production-mode toy app with default limits."""
    return await build_toy_app()
