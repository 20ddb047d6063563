"""A GraphQL-over-HTTP client for a running BFF, and the operations the end-to-end tests send."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.support.sim_control import SimControl

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# The deepest valid operation of the real schema is 7 levels
# (me.cards.transactions.edges.node.amount.amount), under the default limit of
# 12; the session BFF runs with 6 so that the depth limit can be exercised.
SESSION_MAX_DEPTH = 6

CUSTOMER_A = "RCB001-00042"
CUSTOMER_B = "RCB001-00043"  # same member bank as A
OTHER_BANK_CUSTOMER = "RCB002-00042"

# The app's home screen, as the app (and benchmarks/home_screen.py) sends it.
HOME_QUERY = (
    Path(__file__).resolve().parents[2] / "schemas" / "app-operations" / "home_screen.graphql"
).read_text()
HOME_SERVICES = ("core_banking", "crm", "cards", "loans", "wealth", "messages", "content")

_SIGNED_IN = object()


class BffClient:
    """Talks to one BFF process; requests carry `token` unless a call passes its own (None: no header)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15)
        self.token = token

    def post(
        self,
        body: Any,
        *,
        token: Any = _SIGNED_IN,
        accept: str = GRAPHQL_RESPONSE,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.post(
            "/graphql", json=body, headers={"Accept": accept, **self._auth(token), **(headers or {})}
        )

    def get(
        self,
        params: dict[str, str],
        *,
        token: Any = _SIGNED_IN,
        accept: str = GRAPHQL_RESPONSE,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A GET; pass the CSRF preflight header yourself (`graphql-preflight`) when the test wants it."""
        return self.http.get(
            "/graphql", params=params, headers={"Accept": accept, **self._auth(token), **(headers or {})}
        )

    def home(self, token: Any = _SIGNED_IN) -> httpx.Response:
        return self.post({"query": HOME_QUERY, "operationName": "HomeScreen"}, token=token)

    def data(self, query: str, token: Any = _SIGNED_IN, **variables: Any) -> dict[str, Any]:
        """The data of an operation that must succeed without errors."""
        response = self.post({"query": query, "variables": variables}, token=token)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def metrics(self) -> str:
        return self.http.get("/metrics").text

    def close(self) -> None:
        self.http.close()

    def _auth(self, token: Any) -> dict[str, str]:
        if token is _SIGNED_IN:
            token = self.token
        return {} if token is None else {"Authorization": f"Bearer {token}"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def downstream_calls(control: SimControl) -> dict[str, int]:
    """Requests per service since the last reset, dc-a and dc-b together; services not called are absent."""
    calls: Counter[str] = Counter()
    for key, counters in control.stats().items():
        service, slash, _dc = key.partition("/")
        if slash:
            calls[service] += int(counters["requests"])
    return {service: count for service, count in calls.items() if count}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors")
    assert errors is not None, body
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error
