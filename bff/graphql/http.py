"""GraphQL over HTTP (graphql.github.io/graphql-over-http): the Starlette endpoint.

Order of checks on a request, each with its own status:

    method GET/POST (405) -> GraphiQL page (development, browsers) -> Accept (406)
    -> GET: CSRF (400) | POST: Content-Type application/json (415), body size
    (413), JSON (400) -> parameters and batch size (400) -> context factory,
    i.e. authentication (401) -> persisted document -> parse, validate,
    limits (400) -> GET runs queries only (405) -> execute (200)

Authentication comes before any document work, so an anonymous client can
neither fill the document caches nor register persisted queries. Under
application/json every well-formed request gets 200, as the spec asks;
under application/graphql-response+json a request error (parse,
validation, limits) gets 400.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import ExecutionResult, OperationType
from prometheus_client import CollectorRegistry
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from bff.auth.errors import AuthError
from bff.channels.request_id import current_request_id
from bff.channels.timing import DownstreamTiming, current_timing, request_deadline
from bff.graphql.csrf import PREFLIGHT_HEADERS, csrf_refusal
from bff.graphql.engine import GraphQLEngine
from bff.graphql.errors import (
    Code,
    RequestRejected,
    authentication_failed,
    bad_request,
    describe,
    format_error,
    with_code,
)
from bff.graphql.limits import batch_too_large
from bff.graphql.metrics import ANONYMOUS, GraphQLMetrics, Outcome
from bff.graphql.negotiation import CONTENT_TYPES, MediaType, essence, negotiate, wants_html
from bff.graphql.params import GraphQLParams, params_from_body, params_from_query_string
from bff.graphql.persisted import DocumentStore

# One line per operation; set this logger to WARNING to drop them.
access_log = logging.getLogger("bff.graphql.access")

ContextFactory = Callable[[Request], Awaitable[Any]]

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def graphql_routes(
    engine: GraphQLEngine,
    documents: DocumentStore,
    context_factory: ContextFactory,
    *,
    metrics_registry: CollectorRegistry,
    path: str = "/graphql",
    max_body_bytes: int = 1_000_000,
    csrf_headers: Sequence[str] = PREFLIGHT_HEADERS,
    batching: bool = True,
    request_budget_s: float | None = None,
) -> list[Route]:
    """The GraphQL route: mount it in the app's route list."""
    endpoint = GraphQLEndpoint(
        engine,
        documents,
        context_factory,
        metrics=GraphQLMetrics(metrics_registry),
        max_body_bytes=max_body_bytes,
        csrf_headers=tuple(h.lower() for h in csrf_headers),
        batching=batching,
        request_budget_s=request_budget_s,
    )
    return [Route(path, endpoint, name="graphql")]


def inbound_request_id(value: str | None) -> str:
    """The caller's X-Request-ID when it is a plain token of at most 128 characters, else a fresh one."""
    if value is not None and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class _Reply:
    """An HTTP response, sent as two ASGI messages without a Response object."""

    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)

    async def send(self, send: Send, request_id: str, server_timing: str) -> None:
        raw = [
            (b"content-type", self.content_type.encode()),
            (b"content-length", str(len(self.body)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"server-timing", server_timing.encode()),
        ]
        raw.extend((name.lower().encode(), value.encode("latin-1")) for name, value in self.headers.items())
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


@dataclass(slots=True)
class _Answer:
    """One operation's response body, statuses per media type, and what to record."""

    body: dict[str, Any]
    outcome: Outcome
    operation: str | None
    code: str | None = None
    status: int = 200
    json_status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


class GraphQLEndpoint:
    """A raw ASGI app: it reads the body and writes the response itself, for speed.

    A Starlette Request is built only for the context factory, which must not
    read the body (it has been consumed).
    """

    def __init__(
        self,
        engine: GraphQLEngine,
        documents: DocumentStore,
        context_factory: ContextFactory,
        *,
        metrics: GraphQLMetrics,
        max_body_bytes: int,
        csrf_headers: tuple[str, ...],
        batching: bool,
        request_budget_s: float | None = None,
    ) -> None:
        self._engine = engine
        self._documents = documents
        self._context_factory = context_factory
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes
        self._csrf_headers = csrf_headers
        self._batching = batching
        self._request_budget_s = request_budget_s
        self._debug = engine.development
        self._graphiql = get_graphql_ide_html("graphiql").encode() if engine.development else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = _headers(scope)
        request_id = inbound_request_id(headers.get("x-request-id"))
        token = current_request_id.set(request_id)
        timing = DownstreamTiming()
        timing_token = current_timing.set(timing)
        budget = None if self._request_budget_s is None else time.monotonic() + self._request_budget_s
        budget_token = request_deadline.set(budget)
        try:
            reply = await self._respond(scope, receive, headers, request_id, started)
        except ClientDisconnect:
            return
        finally:
            current_request_id.reset(token)
            current_timing.reset(timing_token)
            request_deadline.reset(budget_token)
        await reply.send(send, request_id, timing.server_timing(time.perf_counter() - started))

    async def _respond(
        self, scope: Scope, receive: Receive, headers: dict[str, str], request_id: str, started: float
    ) -> _Reply:
        method: str = scope["method"]
        if method not in ("GET", "POST"):
            rejection = bad_request(
                f"{method} is not supported here; send GraphQL requests with GET (queries) or POST.",
                Code.METHOD_NOT_ALLOWED,
                status=405,
                headers={"Allow": "GET, POST"},
            )
            return self._refuse(rejection, MediaType.JSON, request_id, started)
        accept = headers.get("accept")
        is_get = method == "GET"
        query_params = QueryParams(scope["query_string"]) if is_get else None
        if query_params is not None and self._graphiql is not None and _is_page_request(query_params, accept):
            return _Reply(200, self._graphiql, "text/html; charset=utf-8")
        media = negotiate(accept)
        if media is None:
            rejection = bad_request(
                f"Accept allows no type this endpoint sends; accept {MediaType.GRAPHQL_RESPONSE} "
                f"or {MediaType.JSON}.",
                Code.NOT_ACCEPTABLE,
                status=406,
            )
            return self._refuse(rejection, MediaType.JSON, request_id, started)
        try:
            batch, is_batch = await self._read(receive, headers, query_params)
            context = await self._context_factory(Request(scope, receive))
        except AuthError as exc:
            return self._refuse(authentication_failed(exc), media, request_id, started)
        except RequestRejected as rejection:
            return self._refuse(rejection, media, request_id, started)
        except Exception as exc:  # the context factory failed: masked, logged with the request id
            answer = self._internal_error(exc, request_id, None)
            self._record(answer, request_id, started)
            return _Reply(500, orjson.dumps(answer.body), CONTENT_TYPES[media])
        if not is_batch:
            answer = await self._run(batch[0], context, is_get, request_id)
            self._record(answer, request_id, started)
            status = answer.status if media is MediaType.GRAPHQL_RESPONSE else answer.json_status
            extra = {**answer.headers, "Vary": "Accept"} if is_get else answer.headers
            return _Reply(status, orjson.dumps(answer.body), CONTENT_TYPES[media], extra)
        # Like Apollo Server, the operations of a batch run concurrently.
        answers = await asyncio.gather(*(self._run(p, context, is_get, request_id) for p in batch))
        for answer in answers:
            self._record(answer, request_id, started)
        return _Reply(200, orjson.dumps([a.body for a in answers]), CONTENT_TYPES[media])

    async def _read(
        self, receive: Receive, headers: Mapping[str, str], query_params: QueryParams | None
    ) -> tuple[list[GraphQLParams], bool]:
        """The request's GraphQL parameters, and whether it was a batch (a JSON array)."""
        if query_params is not None:
            # Only GET can be a "simple" request: a POST must be application/json
            # (checked next), which browsers always preflight.
            refusal = csrf_refusal(headers, self._csrf_headers)
            if refusal is not None:
                raise bad_request(refusal)
            return [params_from_query_string(query_params)], False
        content_type = essence(headers.get("content-type"))
        if content_type != "application/json":
            raise bad_request(
                f"Send the request body as application/json (the Content-Type was {content_type or 'missing'}).",
                Code.UNSUPPORTED_MEDIA_TYPE,
                status=415,
            )
        try:
            decoded = orjson.loads(await self._body(receive, headers))
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(decoded, list):
            return [params_from_body(decoded)], False
        if not self._batching:
            raise bad_request("Batched requests (a JSON array) are not accepted; send one request per POST.")
        if not decoded:
            raise bad_request("The batch is empty; send at least one request in the JSON array.")
        limit = self._engine.limits.max_batch
        if len(decoded) > limit:
            raise RequestRejected([batch_too_large(len(decoded), limit)], status=400, json_status=400)
        return [params_from_body(item, f"request {i} of the batch") for i, item in enumerate(decoded)], True

    async def _body(self, receive: Receive, headers: Mapping[str, str]) -> bytes:
        limit = self._max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)  # a missing or lying Content-Length
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _run(self, params: GraphQLParams, context: Any, is_get: bool, request_id: str) -> _Answer:
        """Resolve, check and execute one operation."""
        name = params.operation_name
        try:
            resolved = await self._documents.resolve(params.query, params.extensions)
            prepared = self._engine.prepare(resolved.text)
            name = prepared.operation_label(name)
            operation = self._engine.plan(prepared, params.operation_name, params.variable_values)
            name = operation.name
            if operation.type is not OperationType.QUERY:
                _check_operation_type(operation.type, is_get)
            if resolved.learn is not None:
                await self._documents.learn(resolved)
            result = await self._engine.execute(
                prepared, operation, params.variables, context, params.extensions
            )
        except RequestRejected as rejection:
            return self._rejected(rejection, request_id, name)
        except Exception as exc:  # a failure of this layer or a store, not of a resolver
            return self._internal_error(exc, request_id, name)
        return self._executed(result, request_id, name)

    def _internal_error(self, exc: Exception, request_id: str, name: str | None) -> _Answer:
        message, extensions = describe(exc, None, request_id, debug=self._debug)
        body = {"errors": [{"message": message, "extensions": {**extensions, "requestId": request_id}}]}
        return _Answer(body, Outcome.ERROR, name, Code.INTERNAL_SERVER_ERROR, 500, 500)

    def _executed(self, result: ExecutionResult, request_id: str, name: str | None) -> _Answer:
        errors = result.errors
        if not errors:
            return _Answer({"data": result.data}, Outcome.OK, name)
        if result.data is None and all(e.path is None for e in errors):
            # Variable coercion failed: execution never started, so this is a request error.
            coded = [with_code(e, Code.BAD_USER_INPUT) for e in errors]
            return self._rejected(RequestRejected(coded), request_id, name)
        formatted = [format_error(e, request_id, debug=self._debug) for e in errors]
        outcome = Outcome.ERROR if result.data is None else Outcome.PARTIAL
        code = formatted[0]["extensions"].get("code")
        return _Answer({"data": result.data, "errors": formatted}, outcome, name, code)

    def _rejected(self, rejection: RequestRejected, request_id: str, name: str | None) -> _Answer:
        body = {"errors": [format_error(e, request_id, debug=self._debug) for e in rejection.errors]}
        return _Answer(
            body,
            Outcome.REJECTED,
            name,
            rejection.code,
            rejection.status,
            rejection.json_status,
            rejection.headers,
        )

    def _refuse(
        self, rejection: RequestRejected, media: MediaType, request_id: str, started: float
    ) -> _Reply:
        """A whole request refused before any operation ran."""
        answer = self._rejected(rejection, request_id, None)
        self._record(answer, request_id, started)
        status = answer.status if media is MediaType.GRAPHQL_RESPONSE else answer.json_status
        return _Reply(status, orjson.dumps(answer.body), CONTENT_TYPES[media], answer.headers)

    def _record(self, answer: _Answer, request_id: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self._metrics.observe(answer.operation, answer.outcome, seconds)
        access_log.info(
            "graphql operation %s: %s",
            answer.operation or ANONYMOUS,
            answer.outcome.value,
            extra={
                "request_id": request_id,
                "operation": answer.operation or ANONYMOUS,
                "outcome": answer.outcome.value,
                "code": answer.code,
                "latency_ms": round(seconds * 1000, 3),
            },
        )


def _check_operation_type(kind: OperationType, is_get: bool) -> None:
    if kind is OperationType.SUBSCRIPTION:
        raise bad_request(
            "Subscriptions are not served over HTTP; use the graphql-transport-ws WebSocket protocol."
        )
    if is_get:
        # GraphQL over HTTP: a mutation over GET is 405, whatever the media type.
        raise bad_request(
            f"{kind.value.capitalize()}s cannot be sent with GET; send them with POST.",
            Code.METHOD_NOT_ALLOWED,
            status=405,
            headers={"Allow": "POST"},
        )


def _is_page_request(params: QueryParams, accept: str | None) -> bool:
    return wants_html(accept) and "query" not in params and "extensions" not in params


def _too_large(limit: int) -> RequestRejected:
    return bad_request(
        f"The request body is larger than {limit} bytes; send a smaller document, or register it "
        "and send only its hash (persisted queries).",
        Code.PAYLOAD_TOO_LARGE,
        status=413,
    )


def _headers(scope: Scope) -> dict[str, str]:
    # One pass over the raw ASGI headers (names arrive lowercased); a repeated header keeps its last value.
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
