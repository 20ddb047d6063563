"""The app's GraphQL client: persisted queries by hash, as Apollo's clients send them.

The app knows its operations (schemas/app-operations/*.graphql, printed and
hashed exactly as `bff register-documents` registers them). Each request
carries only `extensions.persistedQuery.sha256Hash`; on
PERSISTED_QUERY_NOT_FOUND (a server running automatic persisted queries that
has not seen the hash yet) it sends the same request once more with the text.

What counts as a failed request: an HTTP status other than 200, any GraphQL
error (a downstream service failing shows up as a null field with an error,
which the app would show as a broken section), and a result the caller
rejects. Business refusals that are data (TransferRefused, MiniProgramRefused)
are answers, not failures, unless the caller says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager

from bff.graphql.persisted import TrustedDocument, read_documents
from loadtests.config import REPO

OPERATIONS_DIR = REPO / "schemas" / "app-operations"
GRAPHQL_RESPONSE = "application/graphql-response+json"
APQ_MISS = "PERSISTED_QUERY_NOT_FOUND"

# Returns why a result is wrong, or None when it is an acceptable answer.
Check = Callable[[dict[str, Any]], str | None]


@cache
def app_operations() -> Mapping[str, TrustedDocument]:
    """Every named operation of the app, by name."""
    return {
        document.name: document
        for path in sorted(OPERATIONS_DIR.glob("*.graphql"))
        for document in read_documents(path)
    }


class AppGraphQL:
    """One signed-in app session talking to one BFF worker."""

    def __init__(self, client: FastHttpSession, token: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE}

    def call(
        self,
        operation: str,
        variables: Mapping[str, Any] | None = None,
        *,
        check: Check | None = None,
        label: str | None = None,
    ) -> dict[str, Any] | None:
        """The operation's data, or None when the request failed (recorded as `graphql <label>`)."""
        document = app_operations()[operation]
        body: dict[str, Any] = {
            "operationName": operation,
            "variables": dict(variables or {}),
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document.sha256}},
        }
        name = f"graphql {label or operation}"
        data, missed = self._post(body, name, check)
        if missed:
            body["query"] = document.body
            data, _ = self._post(body, name, check)
        return data

    def _post(
        self, body: dict[str, Any], name: str, check: Check | None
    ) -> tuple[dict[str, Any] | None, bool]:
        with self._client.post(
            "/graphql", json=body, headers=self._headers, name=name, catch_response=True
        ) as response:
            return _judge(response, name, check)


def _judge(
    response: ResponseContextManager, name: str, check: Check | None
) -> tuple[dict[str, Any] | None, bool]:
    """(data, whether the server asked for the document's text); marks the request failed or not."""
    try:
        payload = response.json()
    except ValueError:
        response.failure(f"HTTP {response.status_code}, not JSON")
        return None, False
    errors = payload.get("errors") or []
    if errors and _code(errors[0]) == APQ_MISS:
        # The protocol's first step, not a failure: count it apart from the operation itself.
        response.request_meta["name"] = f"{name} (APQ miss)"
        response.success()
        return None, True
    if response.status_code != 200 or errors:
        response.failure(f"HTTP {response.status_code}: {_describe(errors)}")
        return None, False
    data = payload.get("data")
    if not isinstance(data, dict):
        response.failure("no data")
        return None, False
    problem = check(data) if check else None
    if problem:
        response.failure(problem)
        return None, False
    response.success()
    return data, False


def _code(error: Mapping[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code", "NO_CODE"))


def _describe(errors: list[dict[str, Any]]) -> str:
    """The first error's code, path and service: stable text, so locust groups the failures."""
    if not errors:
        return "no errors in the body"
    first = errors[0]
    extensions = first.get("extensions") or {}
    path = ".".join(str(p) for p in first.get("path") or []) or "-"
    service = f" service={extensions['service']}" if "service" in extensions else ""
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{_code(first)} at {path}{service}{more}"
