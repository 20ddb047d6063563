"""One place mapping exceptions to GraphQL errors, machine codes and HTTP statuses.

Every error leaving the BFF carries `extensions.code` and `extensions.requestId`.
Errors the BFF does not know are masked: the client sees only the request id,
the log has the exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from graphql import GraphQLError

from bff.auth.errors import AuthError, AuthErrorCode
from bff.channels.errors import ChannelFailure, ChannelRejected, NotFound
from bff.graphql.exceptions import ResolverError

logger = logging.getLogger("bff.graphql")


class Code(StrEnum):
    """Values of `extensions.code` this layer produces (resolver errors bring their own)."""

    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    DOCUMENT_STORE_UNAVAILABLE = "DOCUMENT_STORE_UNAVAILABLE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    DOWNSTREAM_UNAVAILABLE = "DOWNSTREAM_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class RequestRejected(Exception):
    """The request was refused before execution started.

    `status` is the HTTP status under application/graphql-response+json;
    `json_status` the one under application/json, where the GraphQL-over-HTTP
    spec asks for 200 on every well-formed request.
    """

    def __init__(
        self,
        errors: list[GraphQLError],
        *,
        status: int = 400,
        json_status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
        self.status = status
        self.json_status = json_status
        self.headers: Mapping[str, str] = headers or {}

    @property
    def code(self) -> str:
        first = self.errors[0].extensions or {}
        return str(first.get("code", Code.BAD_REQUEST))


def request_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """A GraphQL error raised before execution, with its machine code."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """A copy of a graphql-core error (parse, validation, coercion) carrying `code`."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def bad_request(
    message: str,
    code: str = Code.BAD_REQUEST,
    status: int = 400,
    headers: Mapping[str, str] | None = None,
) -> RequestRejected:
    """A malformed HTTP request: the same status under both media types."""
    return RequestRejected([request_error(message, code)], status=status, json_status=status, headers=headers)


def authentication_failed(error: AuthError) -> RequestRejected:
    """HTTP 401 with the RFC 6750 challenge; the body says what is wrong with the token."""
    if error.code is AuthErrorCode.TOKEN_MISSING:
        # RFC 6750 section 3.1: no error code when the request carried no credentials.
        challenge = 'Bearer realm="bff"'
    else:
        description = error.message.replace("\\", "\\\\").replace('"', '\\"')
        challenge = f'Bearer realm="bff", error="invalid_token", error_description="{description}"'
    gql_error = request_error(error.message, Code.UNAUTHENTICATED, reason=error.code.value)
    return RequestRejected([gql_error], status=401, json_status=401, headers={"WWW-Authenticate": challenge})


def format_error(error: GraphQLError, request_id: str, *, debug: bool = False) -> dict[str, Any]:
    """The JSON form of `error`, mapped by the exception behind it, with the request id."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        formatted: dict[str, Any] = dict(error.formatted)
        # Copy: cached validation errors share their extensions dict across requests.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", Code.INTERNAL_SERVER_ERROR)
        extensions["requestId"] = request_id
        formatted["extensions"] = extensions
        return formatted
    message, extensions = describe(original, error, request_id, debug=debug)
    extensions["requestId"] = request_id
    formatted = {"message": message}
    if error.locations is not None:
        formatted["locations"] = [loc.formatted for loc in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = extensions
    return formatted


def describe(
    exc: BaseException, error: GraphQLError | None, request_id: str, *, debug: bool = False
) -> tuple[str, dict[str, Any]]:
    """Message and extensions a client may see for `exc`; unknown exceptions are masked and logged."""
    if isinstance(exc, ChannelFailure):
        return f"{exc.service} is unavailable", {
            "code": Code.DOWNSTREAM_UNAVAILABLE,
            "service": exc.service,
            "dataCentre": exc.data_centre,
            "reason": exc.reason.value,
        }
    if isinstance(exc, NotFound):
        return exc.reason_text, {"code": Code.NOT_FOUND, "service": exc.service}
    if isinstance(exc, ChannelRejected):
        return exc.reason_text, {"code": exc.code, "service": exc.service}
    if isinstance(exc, AuthError):
        return exc.message, {"code": Code.UNAUTHENTICATED, "reason": exc.code.value}
    if isinstance(exc, ResolverError):
        return exc.message, {"code": exc.code}
    where = ".".join(str(p) for p in error.path) if error is not None and error.path else "request"
    logger.error(
        "unexpected error in %s",
        where,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    extensions: dict[str, Any] = {"code": Code.INTERNAL_SERVER_ERROR}
    if debug:
        extensions["exception"] = f"{type(exc).__name__}: {exc}"
    return f"Internal error; quote request id {request_id}", extensions
