"""Automatic persisted queries and trusted documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from bff.graphql.errors import RequestRejected
from bff.graphql.persisted import (
    DocumentStore,
    apq_key,
    document_hash,
    read_documents,
    register_documents,
    trusted_key,
)
from tests.graphql.conftest import Build, Harness

QUERY = "query Greeting { hello }"


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_hash(query)}}


def code(response_json: dict[str, Any]) -> str:
    return str(response_json["errors"][0]["extensions"]["code"])


async def test_unknown_hash_answers_persisted_query_not_found_with_200(toy_app: Harness) -> None:
    for accept in ("application/graphql-response+json", "application/json"):
        response = await toy_app.post({"extensions": persisted(QUERY)}, accept=accept)
        assert response.status_code == 200
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        assert code(response.json()) == "PERSISTED_QUERY_NOT_FOUND"
        assert "no-cache" in response.headers["cache-control"]


async def test_query_with_hash_is_stored_then_runs_from_its_hash(toy_app: Harness) -> None:
    first = await toy_app.post({"query": QUERY, "extensions": persisted(QUERY)})
    assert first.json() == {"data": {"hello": "hello world"}}
    stored = await toy_app.redis.get(apq_key(document_hash(QUERY)))
    assert stored == QUERY.encode()
    assert 0 < await toy_app.redis.ttl(apq_key(document_hash(QUERY))) <= 600
    again = await toy_app.post({"extensions": persisted(QUERY)})
    assert again.json() == {"data": {"hello": "hello world"}}
    assert toy_app.engine.parse_count == 1


async def test_hash_only_get_runs_a_stored_query(toy_app: Harness) -> None:
    await toy_app.post({"query": QUERY, "extensions": persisted(QUERY)})
    response = await toy_app.get({"extensions": orjson.dumps(persisted(QUERY)).decode()})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_another_instance_finds_the_query_in_redis(build_toy_app: Build) -> None:
    one, two = await build_toy_app(), await build_toy_app()
    await one.post({"query": QUERY, "extensions": persisted(QUERY)})
    response = await two.post({"extensions": persisted(QUERY)})
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_known_hash_is_served_from_the_local_cache_without_redis(toy_app: Harness) -> None:
    await toy_app.post({"query": QUERY, "extensions": persisted(QUERY)})
    await toy_app.redis.delete(apq_key(document_hash(QUERY)))
    response = await toy_app.post({"extensions": persisted(QUERY)})
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_hash_that_does_not_match_the_query_is_400(toy_app: Harness) -> None:
    for accept in ("application/graphql-response+json", "application/json"):
        body = {"query": QUERY, "extensions": persisted("{ whoami }")}
        response = await toy_app.post(body, accept=accept)
        assert response.status_code == 400
        assert code(response.json()) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert await toy_app.redis.get(apq_key(document_hash("{ whoami }"))) is None


async def test_invalid_query_is_not_stored(toy_app: Harness) -> None:
    bad = "{ nope }"
    response = await toy_app.post({"query": bad, "extensions": persisted(bad)})
    assert code(response.json()) == "GRAPHQL_VALIDATION_FAILED"
    assert await toy_app.redis.get(apq_key(document_hash(bad))) is None


async def test_unsupported_persisted_query_version_is_400(toy_app: Harness) -> None:
    body = {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": document_hash(QUERY)}}}
    response = await toy_app.post(body)
    assert response.status_code == 400
    assert code(response.json()) == "PERSISTED_QUERY_NOT_SUPPORTED"


GRAPHQL_FILE = """
# Screens of the app.
query Greeting { hello }

query Me {
  whoami
  ...Accounts
}

fragment Accounts on Query { accounts(first: 2) { name } }

mutation Rename($name: String!) { rename(name: $name) }
"""


@pytest.fixture
def graphql_file(tmp_path: Path) -> Path:
    path = tmp_path / "operations.graphql"
    path.write_text(GRAPHQL_FILE)
    return path


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    body = "query Hello($n: String) { hello(name: $n) }"
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": document_hash(body), "name": "Hello", "type": "query", "body": body}],
    }
    path = tmp_path / "persisted-query-manifest.json"
    path.write_bytes(orjson.dumps(manifest))
    return path


async def test_graphql_file_registers_each_operation_with_the_fragments_it_uses(
    redis_client: aioredis.Redis, graphql_file: Path
) -> None:
    registration = await register_documents(redis_client, graphql_file)
    assert (registration.total, registration.added) == (3, 3)
    documents = {d.name: d for d in registration.documents}
    assert documents["Greeting"].body == "query Greeting {\n  hello\n}"
    assert "fragment Accounts on Query" in documents["Me"].body
    assert "fragment" not in documents["Rename"].body
    for document in registration.documents:
        assert document.sha256 == document_hash(document.body)
        assert await redis_client.get(trusted_key(document.sha256)) == document.body.encode()
        assert await redis_client.ttl(trusted_key(document.sha256)) == -1  # never expires
    again = await register_documents(redis_client, graphql_file)
    assert (again.total, again.added) == (3, 0)


def test_anonymous_operation_in_a_graphql_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ops.graphql"
    path.write_text("query Named { hello }\n{ whoami }\n")
    with pytest.raises(ValueError, match="line 2"):
        read_documents(path)


def test_manifest_entry_whose_id_is_not_the_body_hash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    operation = {"id": "0" * 64, "name": "Hello", "type": "query", "body": "query Hello { hello }"}
    path.write_bytes(
        orjson.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]})
    )
    with pytest.raises(ValueError, match="Hello"):
        read_documents(path)


async def test_trusted_mode_refuses_an_unregistered_document_by_text(build_toy_app: Build) -> None:
    app = await build_toy_app(trusted_only=True)
    response = await app.post({"query": "{ hello }"})
    assert response.status_code == 400
    assert code(response.json()) == "PERSISTED_QUERY_NOT_ALLOWED"


async def test_trusted_mode_refuses_an_unregistered_hash_and_does_not_learn_it(build_toy_app: Build) -> None:
    app = await build_toy_app(trusted_only=True)
    with_text = await app.post({"query": QUERY, "extensions": persisted(QUERY)})
    hash_only = await app.post({"extensions": persisted(QUERY)})
    assert code(with_text.json()) == code(hash_only.json()) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert await app.redis.get(apq_key(document_hash(QUERY))) is None


async def test_trusted_mode_runs_operations_registered_from_a_graphql_file(
    build_toy_app: Build, graphql_file: Path
) -> None:
    app = await build_toy_app(trusted_only=True)
    registration = await register_documents(app.redis, graphql_file)
    me = next(d for d in registration.documents if d.name == "Me")
    by_hash = await app.post({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": me.sha256}}})
    by_text = await app.post({"query": me.body})
    expected = {"data": {"whoami": "customer-1", "accounts": [{"name": "account 0"}, {"name": "account 1"}]}}
    assert by_hash.json() == by_text.json() == expected


async def test_trusted_mode_runs_operations_registered_from_an_apollo_manifest(
    build_toy_app: Build, manifest_file: Path
) -> None:
    app = await build_toy_app(trusted_only=True)
    registration = await register_documents(app.redis, manifest_file)
    [hello] = registration.documents
    body = {
        "variables": {"n": "manifest"},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hello.sha256}},
    }
    response = await app.get(
        {
            "variables": orjson.dumps(body["variables"]).decode(),
            "extensions": orjson.dumps(body["extensions"]).decode(),
        }
    )
    assert response.json() == {"data": {"hello": "hello manifest"}}


async def test_apq_mode_also_runs_registered_trusted_documents_by_hash(
    toy_app: Harness, manifest_file: Path
) -> None:
    [hello] = (await register_documents(toy_app.redis, manifest_file)).documents
    response = await toy_app.post(
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hello.sha256}}}
    )
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_unreachable_redis_turns_a_hash_only_request_into_a_miss_under_apq() -> None:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    store = DocumentStore(unreachable)
    with pytest.raises(RequestRejected) as refused:
        await store.resolve(None, persisted(QUERY))
    assert (refused.value.code, refused.value.status) == ("PERSISTED_QUERY_NOT_FOUND", 200)
    resolved = await store.resolve(QUERY, persisted(QUERY))
    await store.learn(resolved)  # logged, not raised: the client's full text still runs
    await unreachable.aclose()


async def test_unreachable_redis_in_trusted_mode_is_503() -> None:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    store = DocumentStore(unreachable, trusted_only=True)
    with pytest.raises(RequestRejected) as refused:
        await store.resolve(QUERY, None)
    assert (refused.value.code, refused.value.status) == ("DOCUMENT_STORE_UNAVAILABLE", 503)
    await unreachable.aclose()
