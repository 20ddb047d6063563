"""Errors: each exception kind maps to its code, unknown ones are masked, every error has the request id."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.requests import Request

from tests.graphql.conftest import Build, Harness


async def fail(toy_app: Harness, kind: str, request_id: str = "rid-1") -> dict[str, Any]:
    response = await toy_app.post(
        {"query": f'{{ hello fail(kind: "{kind}") }}'}, **{"X-Request-ID": request_id}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["data"] == {"hello": "hello world", "fail": None}
    [error] = body["errors"]
    assert error["path"] == ["fail"]
    assert error["extensions"]["requestId"] == request_id
    return error  # type: ignore[no-any-return]


async def test_downstream_failure_names_the_service_and_data_centre(toy_app: Harness) -> None:
    error = await fail(toy_app, "downstream")
    assert error["message"] == "core_banking is unavailable"
    assert error["extensions"] == {
        "code": "DOWNSTREAM_UNAVAILABLE",
        "service": "core_banking",
        "dataCentre": "dc-a",
        "reason": "timeout",
        "requestId": "rid-1",
    }


async def test_not_found_maps_to_not_found(toy_app: Harness) -> None:
    error = await fail(toy_app, "not_found")
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "no card c-9 for this customer"


async def test_business_rejection_keeps_the_service_code(toy_app: Harness) -> None:
    error = await fail(toy_app, "rejected")
    assert error["extensions"]["code"] == "INSUFFICIENT_FUNDS"
    assert error["extensions"]["service"] == "payments"


async def test_auth_error_in_a_resolver_maps_to_unauthenticated(toy_app: Harness) -> None:
    error = await fail(toy_app, "auth")
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == "TOKEN_EXPIRED"


async def test_forbidden_maps_to_forbidden(toy_app: Harness) -> None:
    error = await fail(toy_app, "forbidden")
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"] == "this field is for employees"


async def test_unexpected_exception_is_masked_with_request_id_and_logged(
    toy_app: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bff.graphql"):
        error = await fail(toy_app, "bug", request_id="rid-masked")
    assert error["message"] == "Internal error; quote request id rid-masked"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(error)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.request_id == "rid-masked"  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert "secret internal detail" in str(record.exc_info[1])


async def test_non_null_failure_nulls_data_with_a_masked_error(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "{ hello must }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


async def test_request_errors_carry_the_request_id(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "{ nope }"}, **{"X-Request-ID": "rid-2"})
    assert response.json()["errors"][0]["extensions"]["requestId"] == "rid-2"


async def test_failing_context_factory_is_a_masked_500_with_request_id(build_toy_app: Build) -> None:
    async def broken(request: Request) -> None:
        raise RuntimeError("could not reach the token issuer")

    app = await build_toy_app(context_factory=broken)
    response = await app.post({"query": "{ hello }"}, **{"X-Request-ID": "rid-500"})
    assert response.status_code == 500
    [error] = response.json()["errors"]
    assert error["message"] == "Internal error; quote request id rid-500"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "rid-500"}
