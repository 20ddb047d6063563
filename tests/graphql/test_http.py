"""GraphQL over HTTP: methods, media types, status codes, CSRF, body size, batching, GraphiQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.graphql.conftest import GRAPHQL_RESPONSE, Build, Harness

HELLO = "{ hello }"


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def test_post_query_answers_200_with_data_in_graphql_response_json(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_client_without_accept_gets_application_json(toy_app: Harness) -> None:
    response = await toy_app.client.post("/graphql", json={"query": HELLO})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_wildcard_accept_gets_application_json(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, accept="*/*")
    assert response.headers["content-type"] == "application/json"


async def test_graphql_response_json_is_preferred_when_both_are_accepted(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, accept=f"application/json, {GRAPHQL_RESPONSE}")
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_lower_quality_for_graphql_response_json_yields_application_json(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, accept=f"{GRAPHQL_RESPONSE};q=0.5, application/json")
    assert response.headers["content-type"] == "application/json"


async def test_accept_allowing_neither_json_type_is_406(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, accept="application/xml")
    assert response.status_code == 406
    assert codes(response) == ["NOT_ACCEPTABLE"]
    assert GRAPHQL_RESPONSE in response.json()["errors"][0]["message"]


async def test_put_is_405_with_allow_header(toy_app: Harness) -> None:
    response = await toy_app.client.put("/graphql", json={"query": HELLO})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_post_with_text_plain_is_415(toy_app: Harness) -> None:
    response = await toy_app.client.post(
        "/graphql", content=b'{"query": "{ hello }"}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert "application/json" in response.json()["errors"][0]["message"]


async def test_post_without_content_type_is_415(toy_app: Harness) -> None:
    response = await toy_app.client.post("/graphql", content=b'{"query": "{ hello }"}')
    assert response.status_code == 415


async def test_malformed_json_is_400_under_both_media_types(toy_app: Harness) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await toy_app.client.post(
            "/graphql",
            content=b'{"query": ',
            headers={"Content-Type": "application/json", "Accept": accept},
        )
        assert response.status_code == 400
        assert "not valid JSON" in response.json()["errors"][0]["message"]


async def test_missing_query_is_400_saying_what_to_send(toy_app: Harness) -> None:
    response = await toy_app.post({"variables": {}}, accept="application/json")
    assert response.status_code == 400
    assert "`query`" in response.json()["errors"][0]["message"]


async def test_non_object_variables_are_400(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO, "variables": [1, 2]}, accept="application/json")
    assert response.status_code == 400
    assert "`variables`" in response.json()["errors"][0]["message"]


async def test_syntax_error_is_400_under_graphql_response_json(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "{ hello "})
    assert response.status_code == 400
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]
    assert "data" not in response.json()


async def test_syntax_error_is_200_under_application_json(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "{ hello "}, accept="application/json")
    assert response.status_code == 200
    assert codes(response) == ["GRAPHQL_PARSE_FAILED"]


async def test_validation_error_is_400_under_graphql_response_json_and_200_under_json(
    toy_app: Harness,
) -> None:
    strict = await toy_app.post({"query": "{ nope }"})
    legacy = await toy_app.post({"query": "{ nope }"}, accept="application/json")
    assert (strict.status_code, legacy.status_code) == (400, 200)
    assert codes(strict) == codes(legacy) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_bad_variable_value_is_a_400_request_error(toy_app: Harness) -> None:
    query = "query Q($n: Int!) { accounts(first: $n) { id } }"
    response = await toy_app.post({"query": query, "variables": {"n": "three"}})
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "data" not in response.json()


async def test_unknown_operation_name_is_a_request_error_naming_the_known_ones(toy_app: Harness) -> None:
    response = await toy_app.post({"query": "query A { hello } query B { hello }", "operationName": "C"})
    assert response.status_code == 400
    assert codes(response) == ["OPERATION_RESOLUTION_FAILURE"]
    assert "A, B" in response.json()["errors"][0]["message"]


async def test_operation_name_selects_the_operation_to_run(toy_app: Harness) -> None:
    body = {"query": "query A { hello } query B { whoami }", "operationName": "B"}
    assert (await toy_app.post(body)).json() == {"data": {"whoami": "customer-1"}}


async def test_get_query_runs_with_preflight_header(toy_app: Harness) -> None:
    response = await toy_app.get(
        {"query": "query($n: String) { hello(name: $n) }", "variables": '{"n": "get"}'}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello get"}}


async def test_get_without_preflight_header_is_refused_as_possible_csrf(toy_app: Harness) -> None:
    response = await toy_app.client.get(
        "/graphql", params={"query": HELLO}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "Cross-Site Request Forgery" in message
    assert "x-apollo-operation-name, apollo-require-preflight" in message


async def test_get_with_apollo_operation_name_header_passes_csrf_check(toy_app: Harness) -> None:
    response = await toy_app.client.get(
        "/graphql", params={"query": HELLO}, headers={"X-Apollo-Operation-Name": "Hello"}
    )
    assert response.status_code == 200


async def test_get_with_empty_preflight_header_is_still_refused(toy_app: Harness) -> None:
    response = await toy_app.client.get(
        "/graphql", params={"query": HELLO}, headers={"Apollo-Require-Preflight": ""}
    )
    assert response.status_code == 400


async def test_mutation_over_get_is_405_with_allow_post(toy_app: Harness) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await toy_app.get({"query": 'mutation { rename(name: "x") }'}, accept=accept)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"


async def test_mutation_over_post_runs(toy_app: Harness) -> None:
    response = await toy_app.post({"query": 'mutation { rename(name: "x") }'})
    assert response.json() == {"data": {"rename": "renamed to x"}}


async def test_get_with_non_json_variables_is_400(toy_app: Harness) -> None:
    response = await toy_app.get({"query": HELLO, "variables": "{nope"})
    assert response.status_code == 400
    assert "variables" in response.json()["errors"][0]["message"]


async def test_body_over_declared_limit_is_413(build_toy_app: Build) -> None:
    app = await build_toy_app(max_body_bytes=100)
    response = await app.post({"query": "{ hello }" + " " * 200})
    assert response.status_code == 413
    assert codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert "100 bytes" in response.json()["errors"][0]["message"]


async def test_streamed_body_over_limit_is_413_without_content_length(build_toy_app: Build) -> None:
    app = await build_toy_app(max_body_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 20

    response = await app.client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_missing_token_is_401_with_bearer_challenge(toy_app: Harness) -> None:
    async with toy_app.anonymous_client() as anonymous:
        response = await anonymous.post("/graphql", json={"query": HELLO})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="bff"'
    assert response.json()["errors"][0]["extensions"]["reason"] == "TOKEN_MISSING"


async def test_bad_token_is_401_with_invalid_token_challenge_and_graphql_error(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, Authorization="Bearer stale")
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(
        'Bearer realm="bff", error="invalid_token", error_description="the token expired'
    )
    assert '\\"refresh\\"' in challenge
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == "TOKEN_EXPIRED"


async def test_batch_returns_one_result_per_request_in_order(toy_app: Harness) -> None:
    batch = [{"query": HELLO}, {"query": "{ whoami }"}, {"query": "{ nope }"}]
    response = await toy_app.post(batch)
    assert response.status_code == 200
    results = response.json()
    assert results[0] == {"data": {"hello": "hello world"}}
    assert results[1] == {"data": {"whoami": "customer-1"}}
    assert results[2]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_batch_larger_than_limit_is_400_naming_size_and_limit(toy_app: Harness) -> None:
    limit = toy_app.engine.limits.max_batch
    response = await toy_app.post([{"query": HELLO}] * (limit + 1), accept="application/json")
    assert response.status_code == 400
    assert codes(response) == ["BATCH_TOO_LARGE"]
    assert f"{limit + 1} operations; the limit is {limit}" in response.json()["errors"][0]["message"]


async def test_batch_is_refused_when_batching_is_off(build_toy_app: Build) -> None:
    app = await build_toy_app(batching=False)
    response = await app.post([{"query": HELLO}])
    assert response.status_code == 400


async def test_request_id_is_echoed_when_sane(toy_app: Harness) -> None:
    response = await toy_app.post({"query": HELLO}, **{"X-Request-ID": "req-123.abc"})
    assert response.headers["x-request-id"] == "req-123.abc"


async def test_request_id_is_generated_when_missing_or_unsafe(toy_app: Harness) -> None:
    fresh = await toy_app.post({"query": HELLO})
    unsafe = await toy_app.post({"query": HELLO}, **{"X-Request-ID": "bad id\twith spaces"})
    assert len(fresh.headers["x-request-id"]) == 32
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


async def test_graphiql_page_is_served_to_browsers_in_development(build_toy_app: Build) -> None:
    app = await build_toy_app(development=True)
    response = await app.client.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_page_is_not_served_in_production(toy_app: Harness) -> None:
    response = await toy_app.client.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert not response.headers["content-type"].startswith("text/html")
    assert response.status_code == 400
