"""The GraphQL request parameters of GraphQL over HTTP, read from a JSON body or a query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from bff.graphql.errors import bad_request

_EMPTY: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None

    @property
    def variable_values(self) -> Mapping[str, Any]:
        return self.variables if self.variables is not None else _EMPTY


def params_from_body(body: Any, where: str = "the request body") -> GraphQLParams:
    """Parameters from a decoded JSON body (one request of a batch, or the only one)."""
    if not isinstance(body, dict):
        raise bad_request(f"{where} must be a JSON object with a `query` string.")
    query = body.get("query")
    operation_name = body.get("operationName")
    variables = body.get("variables")
    extensions = body.get("extensions")
    if variables is not None and not isinstance(variables, dict):
        raise bad_request(f"`variables` in {where} must be a JSON object (or null), keyed by variable name.")
    if extensions is not None and not isinstance(extensions, dict):
        raise bad_request(f"`extensions` in {where} must be a JSON object (or null).")
    return _checked(query, operation_name, variables, extensions, where)


def params_from_query_string(params: Mapping[str, str]) -> GraphQLParams:
    """Parameters of a GET request; `variables` and `extensions` are JSON-encoded objects."""
    variables = _json_object(params.get("variables"), "variables")
    extensions = _json_object(params.get("extensions"), "extensions")
    return _checked(
        params.get("query") or None, params.get("operationName") or None, variables, extensions, "the URL"
    )


def _json_object(raw: str | None, name: str) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = _NOT_JSON
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"The `{name}` URL parameter must be a URL-encoded JSON object, e.g. {name}={{}}.")
    return value


_NOT_JSON = object()


def _checked(
    query: Any,
    operation_name: Any,
    variables: dict[str, Any] | None,
    extensions: dict[str, Any] | None,
    where: str,
) -> GraphQLParams:
    if query is not None and not isinstance(query, str):
        raise bad_request(f"`query` in {where} must be a string holding the GraphQL document.")
    if query is None and not (extensions and extensions.get("persistedQuery") is not None):
        raise bad_request(
            f"{where[0].upper()}{where[1:]} has no `query`; send the GraphQL document as `query`, "
            "or its hash in extensions.persistedQuery."
        )
    if operation_name is not None and not isinstance(operation_name, str):
        raise bad_request(f"`operationName` in {where} must be a string (or null).")
    return GraphQLParams(query, operation_name, variables, extensions)
