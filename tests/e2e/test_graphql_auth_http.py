"""Bad access tokens over real HTTP: 401, an RFC 6750 challenge, and a reason naming the problem."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest

from bff.auth.dev_issuer import DevIssuer
from tests.support.graphql_http import CUSTOMER_A, BffClient, downstream_calls, only_error
from tests.support.sim_control import SimControl

ME = {"query": "query Me { me { id profile { name } } }", "operationName": "Me"}


def b64url(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def unsigned_token() -> str:
    """A token with `alg: none` and otherwise perfect claims (the classic JWT bypass)."""
    now = int(time.time())
    claims = {
        "iss": "https://issuer.dev.bff.local",
        "aud": "bff",
        "sub": CUSTOMER_A,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "member_bank": "RCB001",
        "roles": ["customer"],
    }
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."


BAD_TOKENS: dict[str, Callable[..., str | None]] = {
    "TOKEN_MISSING": lambda mint, foreign: None,
    "TOKEN_ALGORITHM_NOT_ALLOWED": lambda mint, foreign: unsigned_token(),
    "TOKEN_SIGNATURE_INVALID": lambda mint, foreign: foreign.mint(CUSTOMER_A, "RCB001"),
    "TOKEN_EXPIRED": lambda mint, foreign: mint(ttl_s=-3600),
    "TOKEN_WRONG_AUDIENCE": lambda mint, foreign: mint(extra={"aud": "another-api"}),
    "TOKEN_WRONG_ISSUER": lambda mint, foreign: mint(extra={"iss": "https://issuer.example.com"}),
    "TOKEN_TENANT_MISSING": lambda mint, foreign: mint(member_bank=None),
}


@pytest.mark.parametrize("reason", list(BAD_TOKENS))
def test_bad_token_is_401_with_bearer_challenge_and_the_reason(
    bff: BffClient,
    mint: Callable[..., str],
    foreign_issuer: DevIssuer,
    sim_control: SimControl,
    reason: str,
) -> None:
    token = BAD_TOKENS[reason](mint, foreign_issuer)
    sim_control.reset_stats()
    response = bff.post(ME, token=token)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="bff"')
    if reason == "TOKEN_MISSING":
        assert "error=" not in challenge, "RFC 6750: no error code when no credentials were sent"
    else:
        assert 'error="invalid_token"' in challenge
    body = response.json()
    assert "data" not in body
    error = only_error(body)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == reason
    assert error["message"]
    assert downstream_calls(sim_control) == {}, "nothing downstream runs for an unauthenticated caller"


def test_the_same_customer_with_a_good_token_gets_data(bff: BffClient, mint: Callable[..., str]) -> None:
    response = bff.post(ME, token=mint())
    assert response.status_code == 200
    assert response.json()["data"]["me"]["profile"]["name"]


def test_bad_token_is_401_under_application_json_too(bff: BffClient, mint: Callable[..., str]) -> None:
    response = bff.post(ME, token=mint(ttl_s=-3600), accept="application/json")
    assert response.status_code == 401
    assert only_error(response.json())["extensions"]["reason"] == "TOKEN_EXPIRED"
