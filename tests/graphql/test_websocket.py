"""Subscriptions over graphql-transport-ws, driven by a real client of that protocol (gql + websockets)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest
import strawberry
import uvicorn
from gql import Client, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from bff.auth.dev_issuer import DevIssuer
from bff.auth.validator import TokenValidator
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.channels.registry import Registry
from bff.graphql.context import ContextFactory, RequestContext
from bff.graphql.engine import GraphQLEngine
from bff.graphql.websocket import websocket_routes
from tests.support.processes import free_port


@strawberry.type
class Query:
    @strawberry.field
    def whoami(self, info: strawberry.Info[RequestContext, Any]) -> str:
        return info.context.principal.subject


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, info: strawberry.Info[RequestContext, Any], to: int) -> AsyncGenerator[str, None]:
        for n in range(1, to + 1):
            yield f"{info.context.principal.subject}:{n}"
            await asyncio.sleep(0)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("ws-issuer"))


@pytest.fixture(scope="module")
def ws_url(issuer: DevIssuer, registry: Registry) -> Iterator[str]:
    validator = TokenValidator(lambda: issuer.keys, issuer.issuer, issuer.audience)
    engine = GraphQLEngine(strawberry.Schema(query=Query, subscription=Subscription))
    contexts = ContextFactory(validator, Channels.over(ChannelClient(registry)))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=websocket_routes(engine, contexts)), port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the WebSocket server did not start within 10 s"
        time.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    thread.join(timeout=10)


def transport(url: str, token: str | None) -> WebsocketsTransport:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    return WebsocketsTransport(
        url=url, init_payload=payload, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )


async def test_subscription_streams_every_event_then_completes(ws_url: str, issuer: DevIssuer) -> None:
    token = issuer.mint("RCB001-00042", "RCB001")
    async with Client(transport=transport(ws_url, token)) as session:
        events = [r["count"] async for r in session.subscribe(gql("subscription { count(to: 3) }"))]
        who = await session.execute(gql("{ whoami }"))
    assert events == ["RCB001-00042:1", "RCB001-00042:2", "RCB001-00042:3"]
    assert who == {"whoami": "RCB001-00042"}


async def test_invalid_document_is_an_error_message_not_a_closed_socket(
    ws_url: str, issuer: DevIssuer
) -> None:
    async with Client(transport=transport(ws_url, issuer.mint("RCB001-00042", "RCB001"))) as session:
        with pytest.raises(TransportQueryError, match="nope"):
            await session.execute(gql("subscription { nope }"))
        assert await session.execute(gql("{ whoami }")) == {"whoami": "RCB001-00042"}


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["missing", "bad"])
async def test_connection_without_a_valid_token_is_refused_with_4403(ws_url: str, token: str | None) -> None:
    with pytest.raises(TransportConnectionFailed) as refused:
        async with Client(transport=transport(ws_url, token)) as session:
            await session.execute(gql("{ whoami }"))
    closed = refused.value.__cause__
    assert isinstance(closed, ConnectionClosed)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4403
    assert closed.rcvd.reason.startswith("Forbidden: TOKEN_")
