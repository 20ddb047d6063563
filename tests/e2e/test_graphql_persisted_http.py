"""Persisted queries over real HTTP: Apollo APQ on the session BFF, trusted documents on a second one.

The trusted-documents BFF is registered the way an operator does it: `bff
register-documents FILE` against its Redis, from a .graphql file of named
operations or an Apollo persisted-query manifest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import redis
from graphql import parse, print_ast

from tests.support.graphql_http import JSON, BffClient, only_error, persisted, sha256
from tests.support.processes import RedisServer

APQ_TTL_S = 7 * 24 * 3600

TRUSTED_FILE = """
# The operations the app ships with; the fragment travels with the operation using it.
query TrustedProfile { me { profile { ...Greeting } } }

query TrustedAccounts {
  me { accounts { id name } }
}

fragment Greeting on CustomerProfile { name preferredLanguage }
"""
PROFILE_BODY = print_ast(
    parse(
        "query TrustedProfile { me { profile { ...Greeting } } } "
        "fragment Greeting on CustomerProfile { name preferredLanguage }"
    )
)
ACCOUNTS_BODY = print_ast(parse("query TrustedAccounts { me { accounts { id name } } }"))
MANIFEST_BODY = "query TrustedFeed { contentFeed(first: 2) { nodes { id title } } }"


def fresh_query() -> str:
    """A document no test has sent before (APQ state lives on in Redis and the BFF's memory)."""
    return f"query Apq{uuid.uuid4().hex} {{ me {{ memberBank }} }}"


def register_documents(path: Path, redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BFF_", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bff.cli", "register-documents", str(path)],
        env={**env, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def rejected_code(response: Any) -> str:
    body = response.json()
    assert "data" not in body, body
    code: str = only_error(body)["extensions"]["code"]
    return code


# --- automatic persisted queries (APQ) -------------------------------------------------------


def test_apq_unknown_hash_then_register_then_run_by_hash_over_post_and_get(
    bff: BffClient, redis_server: RedisServer
) -> None:
    query = fresh_query()
    digest = sha256(query)

    miss = bff.post({"extensions": persisted(digest)})
    assert miss.status_code == 200
    assert rejected_code(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert only_error(miss.json())["message"] == "PersistedQueryNotFound"
    assert "no-cache" in miss.headers["Cache-Control"]

    registered = bff.post({"query": query, "extensions": persisted(digest)})
    assert registered.status_code == 200
    assert registered.json() == {"data": {"me": {"memberBank": "RCB001"}}}

    by_hash = bff.post({"extensions": persisted(digest)})
    assert by_hash.json() == {"data": {"me": {"memberBank": "RCB001"}}}
    by_get = bff.get({"extensions": json.dumps(persisted(digest))}, headers={"graphql-preflight": "1"})
    assert by_get.status_code == 200
    assert by_get.json() == {"data": {"me": {"memberBank": "RCB001"}}}

    store = redis.Redis.from_url(redis_server.url)
    try:
        key = f"bff:doc:{{{digest}}}:apq"
        assert store.get(key) == query.encode(), "other BFF instances find it in Redis"
        assert 0 < store.ttl(key) <= APQ_TTL_S
    finally:
        store.close()


def test_apq_hash_that_is_not_the_sha256_of_the_query_is_refused(bff: BffClient) -> None:
    query = fresh_query()
    wrong = sha256(query + " ")
    for accept in ("application/graphql-response+json", JSON):
        response = bff.post({"query": query, "extensions": persisted(wrong)}, accept=accept)
        assert response.status_code == 400
        assert rejected_code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert rejected_code(bff.post({"extensions": persisted(wrong)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_anonymous_client_cannot_register_a_persisted_query(bff: BffClient) -> None:
    query = fresh_query()
    digest = sha256(query)
    anonymous = bff.post({"query": query, "extensions": persisted(digest)}, token=None)
    assert anonymous.status_code == 401
    assert rejected_code(bff.post({"extensions": persisted(digest)})) == "PERSISTED_QUERY_NOT_FOUND"


# --- trusted documents -----------------------------------------------------------------------


def test_trusted_mode_refuses_unregistered_documents_by_text_and_by_hash(trusted_bff: BffClient) -> None:
    query = fresh_query()
    digest = sha256(query)
    by_text = trusted_bff.post({"query": query})
    assert by_text.status_code == 400
    assert rejected_code(by_text) == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "bff register-documents" in only_error(by_text.json())["message"]
    # A client cannot register it either, the way APQ would.
    learn = trusted_bff.post({"query": query, "extensions": persisted(digest)})
    assert rejected_code(learn) == "PERSISTED_QUERY_NOT_ALLOWED"
    by_hash = trusted_bff.post({"extensions": persisted(digest)})
    assert rejected_code(by_hash) == "PERSISTED_QUERY_NOT_ALLOWED"


def test_registered_graphql_file_runs_by_hash_and_by_text_and_nothing_else_does(
    trusted_bff: BffClient, trusted_redis_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "app-operations.graphql"
    source.write_text(TRUSTED_FILE)
    before = trusted_bff.post({"query": ACCOUNTS_BODY})
    assert rejected_code(before) == "PERSISTED_QUERY_NOT_ALLOWED"

    done = register_documents(source, trusted_redis_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"{sha256(PROFILE_BODY)}  TrustedProfile" in lines
    assert f"{sha256(ACCOUNTS_BODY)}  TrustedAccounts" in lines
    assert lines[-1] == f"registered 2 documents (2 new) from {source}"

    by_hash = trusted_bff.post({"extensions": persisted(sha256(PROFILE_BODY))})
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json()["data"]["me"]["profile"]["name"]
    by_text = trusted_bff.post({"query": ACCOUNTS_BODY})
    assert by_text.status_code == 200, by_text.text
    assert by_text.json()["data"]["me"]["accounts"]
    by_get = trusted_bff.get(
        {"extensions": json.dumps(persisted(sha256(ACCOUNTS_BODY)))}, headers={"graphql-preflight": "1"}
    )
    assert by_get.json()["data"]["me"]["accounts"] == by_text.json()["data"]["me"]["accounts"]

    edited = ACCOUNTS_BODY.replace("name", "name maskedNumber")
    assert rejected_code(trusted_bff.post({"query": edited})) == "PERSISTED_QUERY_NOT_ALLOWED"

    again = register_documents(source, trusted_redis_url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == f"registered 2 documents (0 new) from {source}"


def test_registered_apollo_manifest_runs_by_hash(
    trusted_bff: BffClient, trusted_redis_url: str, tmp_path: Path
) -> None:
    digest = sha256(MANIFEST_BODY)
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": digest, "name": "TrustedFeed", "type": "query", "body": MANIFEST_BODY}],
    }
    source = tmp_path / "persisted-query-manifest.json"
    source.write_text(json.dumps(manifest))
    assert rejected_code(trusted_bff.post({"extensions": persisted(digest)})) == "PERSISTED_QUERY_NOT_ALLOWED"

    done = register_documents(source, trusted_redis_url)
    assert done.returncode == 0, done.stderr
    assert f"{digest}  TrustedFeed" in done.stdout.splitlines()

    response = trusted_bff.post({"extensions": persisted(digest)})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["contentFeed"]["nodes"]) == 2


def test_manifest_whose_id_is_not_the_body_hash_is_refused_and_registers_nothing(
    trusted_bff: BffClient, trusted_redis_url: str, tmp_path: Path
) -> None:
    body = "query TrustedMismatch { me { memberBank } }"
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha256(body + " "), "name": "TrustedMismatch", "type": "query", "body": body}],
    }
    source = tmp_path / "bad-manifest.json"
    source.write_text(json.dumps(manifest))
    done = register_documents(source, trusted_redis_url)
    assert done.returncode == 2
    assert "TrustedMismatch" in done.stderr
    assert sha256(body) in done.stderr
    assert rejected_code(trusted_bff.post({"query": body})) == "PERSISTED_QUERY_NOT_ALLOWED"
