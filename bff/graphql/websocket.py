"""GraphQL over WebSocket (the graphql-transport-ws protocol) for subscriptions, on the same path as HTTP.

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md): the client opens
the socket with subprotocol `graphql-transport-ws`, sends `connection_init`
(its payload carries `Authorization: Bearer <token>`, since browsers cannot set
headers on a WebSocket), waits for `connection_ack`, then runs operations with
`subscribe` {id, payload} and gets `next`, `error` and `complete` back; either
side ends one with `complete`. Breaches of the protocol close the socket with
the protocol's 44xx codes, so any compliant client reports them clearly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Final

import orjson
from graphql import ExecutionResult, GraphQLError, OperationType
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bff.auth.errors import AuthError
from bff.graphql.context import ContextFactory
from bff.graphql.engine import GraphQLEngine
from bff.graphql.errors import RequestRejected, format_error

logger = logging.getLogger("bff.graphql.websocket")

SUBPROTOCOL: Final = "graphql-transport-ws"
INIT_TIMEOUT_S: Final = 10.0
MAX_OPERATIONS: Final = 50  # per connection: a client that needs more opens another socket

# Close codes of the protocol.
BAD_REQUEST, UNAUTHORIZED, FORBIDDEN = 4400, 4401, 4403
SUBPROTOCOL_NOT_ACCEPTABLE, INIT_TIMEOUT, DUPLICATE_ID, TOO_MANY_INITS = 4406, 4408, 4409, 4429


class ProtocolBreach(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def websocket_routes(
    engine: GraphQLEngine, contexts: ContextFactory, path: str = "/graphql"
) -> list[WebSocketRoute]:
    async def endpoint(websocket: WebSocket) -> None:
        await Connection(websocket, engine, contexts).run()

    return [WebSocketRoute(path, endpoint)]


class Connection:
    def __init__(self, websocket: WebSocket, engine: GraphQLEngine, contexts: ContextFactory) -> None:
        self._ws = websocket
        self._engine = engine
        self._contexts = contexts
        self._headers: dict[str, str] | None = None
        self._operations: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        if SUBPROTOCOL not in self._ws.scope.get("subprotocols", []):
            await self._ws.close(SUBPROTOCOL_NOT_ACCEPTABLE, f"use the {SUBPROTOCOL} subprotocol")
            return
        await self._ws.accept(subprotocol=SUBPROTOCOL)
        try:
            await asyncio.wait_for(self._initialise(), INIT_TIMEOUT_S)
            while True:
                await self._handle(await self._receive())
        except TimeoutError:
            await self._close(INIT_TIMEOUT, "Connection initialisation timeout")
        except ProtocolBreach as breach:
            await self._close(breach.code, breach.reason)
        except WebSocketDisconnect:
            pass
        finally:
            for task in self._operations.values():
                task.cancel()

    async def _initialise(self) -> None:
        message = await self._receive()
        if message.get("type") != "connection_init":
            raise ProtocolBreach(UNAUTHORIZED, "Unauthorized: send connection_init first")
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            raise ProtocolBreach(BAD_REQUEST, "connection_init's payload must be an object")
        headers = {str(k).lower(): str(v) for k, v in payload.items() if isinstance(v, str)}
        try:
            self._contexts.for_headers(headers)  # checks the token now, so a bad one never gets an ack
        except AuthError as exc:
            raise ProtocolBreach(FORBIDDEN, f"Forbidden: {exc.code}: {exc}") from None
        self._headers = headers
        await self._send({"type": "connection_ack"})

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "connection_init":
            raise ProtocolBreach(TOO_MANY_INITS, "Too many initialisation requests")
        elif kind == "subscribe":
            self._subscribe(message)
        elif kind == "complete":
            task = self._operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
        else:
            raise ProtocolBreach(BAD_REQUEST, f"unknown message type {kind!r}")

    def _subscribe(self, message: dict[str, Any]) -> None:
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            raise ProtocolBreach(BAD_REQUEST, "subscribe needs a string id and a payload object")
        if operation_id in self._operations:
            raise ProtocolBreach(DUPLICATE_ID, f"Subscriber for {operation_id} already exists")
        if len(self._operations) >= MAX_OPERATIONS:
            raise ProtocolBreach(BAD_REQUEST, f"at most {MAX_OPERATIONS} operations per connection")
        task = asyncio.create_task(self._operate(operation_id, payload))
        self._operations[operation_id] = task
        task.add_done_callback(lambda _: self._operations.pop(operation_id, None))

    async def _operate(self, operation_id: str, payload: dict[str, Any]) -> None:
        assert self._headers is not None
        try:
            context = self._contexts.for_headers(self._headers)  # the token may have expired since init
            stream = await self._start(payload, context)
        except AuthError as exc:
            await self._error(
                operation_id, [GraphQLError(f"{exc.code}: {exc}", extensions={"code": "UNAUTHENTICATED"})]
            )
            return
        except RequestRejected as rejected:
            await self._error(operation_id, rejected.errors)
            return
        if isinstance(stream, ExecutionResult):
            if stream.data is None and stream.errors:
                await self._error(operation_id, stream.errors)
                return
            await self._next(operation_id, stream)
        else:
            try:
                async for result in stream:
                    await self._next(operation_id, result)
            except Exception as exc:  # a source failing (at its start or later) ends this operation only
                error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
                await self._error(operation_id, [error])
                return
            finally:
                close = getattr(stream, "aclose", None)  # ends the source's own listeners at once
                if close is not None:
                    await close()
        await self._send({"type": "complete", "id": operation_id})

    async def _start(
        self, payload: dict[str, Any], context: Any
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        query, variables = payload.get("query"), payload.get("variables")
        if not isinstance(query, str) or (variables is not None and not isinstance(variables, dict)):
            raise RequestRejected([GraphQLError("send the query as a string and variables as an object")])
        prepared = self._engine.prepare(query)
        operation = self._engine.plan(prepared, payload.get("operationName"), variables or {})
        if operation.type is OperationType.SUBSCRIPTION:
            return await self._engine.subscribe(prepared, operation, variables, context)
        return await self._engine.execute(prepared, operation, variables, context)

    async def _next(self, operation_id: str, result: ExecutionResult) -> None:
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_error(e, "") for e in result.errors]
        await self._send({"type": "next", "id": operation_id, "payload": body})

    async def _error(self, operation_id: str, errors: list[GraphQLError] | tuple[GraphQLError, ...]) -> None:
        await self._send(
            {"type": "error", "id": operation_id, "payload": [format_error(e, "") for e in errors]}
        )

    async def _receive(self) -> dict[str, Any]:
        text = await self._ws.receive_text()
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ProtocolBreach(BAD_REQUEST, "messages must be JSON objects") from None
        if not isinstance(message, dict):
            raise ProtocolBreach(BAD_REQUEST, "messages must be JSON objects")
        return message

    async def _send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._ws.send_text(orjson.dumps(message).decode())

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError):
            await self._ws.close(code, reason[:120])
