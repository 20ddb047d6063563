"""TokenValidator: which tokens become a Principal, and why each bad one is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc.jwk import KeySet, RSAKey

from bff.auth.dev_issuer import DevIssuer
from bff.auth.errors import AuthError, AuthErrorCode
from bff.auth.principal import Role
from bff.auth.validator import TokenValidator
from tests.support.tuning import FakeClock

NOW = 1_800_000_000  # every token's times are relative to this fixed clock
LEEWAY_S = 30
CUSTOMER = "RCB001-00042"


class CountingKeys:
    """A key-set source that counts how often the validator asks for keys (one per verification)."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys
        self.calls = 0

    def __call__(self) -> KeySet:
        self.calls += 1
        return self._keys


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    """Another issuer: same issuer name and audience, its own keys."""
    return DevIssuer(tmp_path_factory.mktemp("stranger"))


def validator_for(issuer: DevIssuer, clock: Any = lambda: float(NOW), keys: Any = None) -> TokenValidator:
    return TokenValidator(
        keys or (lambda: issuer.keys), issuer.issuer, issuer.audience, leeway_s=LEEWAY_S, clock=clock
    )


def mint(
    issuer: DevIssuer,
    *,
    subject: str = CUSTOMER,
    member_bank: str | None = "RCB001",
    roles: tuple[str, ...] = ("customer",),
    alg: str = "ES256",
    scope: str = "",
    **claims: Any,
) -> str:
    """A token valid at NOW for 10 minutes, unless `claims` say otherwise."""
    times = {"iat": NOW, "nbf": NOW, "exp": NOW + 600}
    return issuer.mint(subject, member_bank, roles, alg=alg, scope=scope, extra=times | claims)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(value: Any) -> str:
    return b64url(orjson.dumps(value))


def good_claims(issuer: DevIssuer) -> dict[str, Any]:
    return {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": CUSTOMER,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 600,
        "member_bank": "RCB001",
        "roles": ["customer"],
    }


def refusal(validator: TokenValidator, token: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        validator.validate(token)
    return caught.value


def test_valid_es256_token_gives_the_customer_principal(issuer: DevIssuer) -> None:
    token = mint(issuer, scope="accounts:read payments:write", jti="token-1")
    principal = validator_for(issuer).validate(token)
    assert principal.subject == CUSTOMER
    assert principal.member_bank == "RCB001"
    assert principal.roles == frozenset({Role.CUSTOMER})
    assert principal.scopes == frozenset({"accounts:read", "payments:write"})
    assert principal.token_id == "token-1"
    assert principal.expires_at == NOW + 600
    assert principal.customer_scope is not None
    assert principal.customer_scope.customer_id == CUSTOMER


def test_valid_rs256_token_gives_its_principal(issuer: DevIssuer) -> None:
    token = mint(issuer, alg="RS256", subject="emp-7", member_bank="RCB002", roles=("employee", "admin"))
    principal = validator_for(issuer).validate(token)
    assert principal.subject == "emp-7"
    assert principal.member_bank == "RCB002"
    assert principal.roles == frozenset({Role.EMPLOYEE, Role.ADMIN})
    assert principal.scopes == frozenset()
    assert principal.customer_scope is None, "an employee reads no customer's data as their own"


def test_unsigned_alg_none_token_is_refused(issuer: DevIssuer) -> None:
    token = f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{b64json(good_claims(issuer))}."
    error = refusal(validator_for(issuer), token)
    assert error.code is AuthErrorCode.ALGORITHM_NOT_ALLOWED
    assert "'none'" in error.message
    assert "RS256, ES256" in error.message


def test_hs256_token_signed_with_the_public_key_is_refused(issuer: DevIssuer) -> None:
    # The algorithm-confusion attack: HMAC keyed with the issuer's *public* key, which anyone has.
    public_key = issuer.keys.get_by_kid("dev-rs256")
    assert isinstance(public_key, RSAKey)
    public_pem = public_key.as_pem(private=False)
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'dev-rs256'})}.{b64json(good_claims(issuer))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    error = refusal(validator_for(issuer), f"{signing_input}.{b64url(signature)}")
    assert error.code is AuthErrorCode.ALGORITHM_NOT_ALLOWED
    assert "'HS256'" in error.message
    assert "RS256, ES256" in error.message


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_token_signed_by_another_issuers_key_is_refused(
    issuer: DevIssuer, stranger: DevIssuer, alg: str
) -> None:
    error = refusal(validator_for(issuer), mint(stranger, alg=alg))
    assert error.code is AuthErrorCode.SIGNATURE_INVALID
    assert "signature" in error.message


def test_token_with_altered_claims_is_refused(issuer: DevIssuer) -> None:
    header, _, signature = mint(issuer).split(".")
    forged = f"{header}.{b64json(good_claims(issuer) | {'sub': 'RCB001-00043'})}.{signature}"
    assert refusal(validator_for(issuer), forged).code is AuthErrorCode.SIGNATURE_INVALID


def test_token_expired_beyond_the_leeway_is_refused(issuer: DevIssuer) -> None:
    token = mint(issuer, iat=NOW - 900, nbf=NOW - 900, exp=NOW - LEEWAY_S - 1)
    error = refusal(validator_for(issuer), token)
    assert error.code is AuthErrorCode.EXPIRED
    assert "get a new one" in error.message


def test_token_expired_within_the_leeway_is_accepted(issuer: DevIssuer) -> None:
    token = mint(issuer, iat=NOW - 900, nbf=NOW - 900, exp=NOW - LEEWAY_S + 5)
    assert validator_for(issuer).validate(token).subject == CUSTOMER


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_token_not_valid_until_later_is_refused(issuer: DevIssuer, claim: str) -> None:
    later: dict[str, Any] = {claim: NOW + LEEWAY_S + 60}
    token = mint(issuer, **later)
    error = refusal(validator_for(issuer), token)
    assert error.code is AuthErrorCode.NOT_YET_VALID
    assert "not valid yet" in error.message


def test_token_for_another_audience_is_refused(issuer: DevIssuer) -> None:
    error = refusal(validator_for(issuer), mint(issuer, aud="payments-portal"))
    assert error.code is AuthErrorCode.WRONG_AUDIENCE
    assert repr(issuer.audience) in error.message, "the message names the audience to ask for"


def test_token_from_another_issuer_name_is_refused(issuer: DevIssuer) -> None:
    error = refusal(validator_for(issuer), mint(issuer, iss="https://issuer.evil.example"))
    assert error.code is AuthErrorCode.WRONG_ISSUER
    assert repr(issuer.issuer) in error.message, "the message names the issuer to use"


@pytest.mark.parametrize("member_bank", [None, ""])
def test_token_without_a_member_bank_is_refused(issuer: DevIssuer, member_bank: str | None) -> None:
    error = refusal(validator_for(issuer), mint(issuer, member_bank=member_bank))
    assert error.code is AuthErrorCode.TENANT_MISSING
    assert "'member_bank'" in error.message


def test_token_with_an_unknown_role_is_refused(issuer: DevIssuer) -> None:
    error = refusal(validator_for(issuer), mint(issuer, roles=("customer", "wizard")))
    assert error.code is AuthErrorCode.ROLE_UNKNOWN
    assert "customer, employee, partner, admin" in error.message, "the message lists the known roles"


@pytest.mark.parametrize("roles", [[], "customer", None])
def test_token_without_a_list_of_roles_is_refused(issuer: DevIssuer, roles: Any) -> None:
    token = issuer.mint(CUSTOMER, "RCB001", extra={"iat": NOW, "nbf": NOW, "exp": NOW + 600, "roles": roles})
    error = refusal(validator_for(issuer), token)
    assert error.code is AuthErrorCode.CLAIM_MISSING
    assert "'roles'" in error.message


def test_token_without_a_subject_is_refused(issuer: DevIssuer) -> None:
    error = refusal(validator_for(issuer), mint(issuer, sub=None))
    assert error.code is AuthErrorCode.CLAIM_MISSING
    assert "sub" in error.message


@pytest.mark.parametrize(
    "raw",
    ["", "garbage", "not a token at all", "a.b.c", "%%%.%%%.%%%", f"{b64json(['ES256'])}.e30.sig"],
)
def test_garbage_is_refused_as_malformed(issuer: DevIssuer, raw: str) -> None:
    error = refusal(validator_for(issuer), raw)
    assert error.code is AuthErrorCode.TOKEN_MALFORMED
    assert error.message


@pytest.mark.parametrize("raw", ["header.payload", f"{b64json({'alg': 'ES256'})}.e30"])
def test_two_segment_string_is_refused_as_not_a_compact_jws(issuer: DevIssuer, raw: str) -> None:
    error = refusal(validator_for(issuer), raw)
    assert error.code is AuthErrorCode.TOKEN_MALFORMED
    assert "header.payload.signature" in error.message


def test_cached_token_returns_the_same_principal_without_verifying_again(issuer: DevIssuer) -> None:
    keys = CountingKeys(issuer.keys)
    validator = validator_for(issuer, keys=keys)
    token = mint(issuer)
    first = validator.validate(token)
    again = [validator.validate(token) for _ in range(5)]
    assert all(principal is first for principal in again)
    assert keys.calls == 1


def test_cached_token_is_not_served_once_expired(issuer: DevIssuer) -> None:
    clock = FakeClock(start=NOW)
    keys = CountingKeys(issuer.keys)
    validator = validator_for(issuer, clock=clock, keys=keys)
    token = mint(issuer, exp=NOW + 60)
    validator.validate(token)
    clock.advance(60 + LEEWAY_S - 1)
    validator.validate(token)
    assert keys.calls == 1, "still inside the leeway: served from the cache"
    clock.advance(2)
    assert refusal(validator, token).code is AuthErrorCode.EXPIRED
    assert keys.calls == 2, "the expired token was verified again, not served from the cache"


def test_refused_token_is_not_cached(issuer: DevIssuer, stranger: DevIssuer) -> None:
    keys = CountingKeys(issuer.keys)
    validator = validator_for(issuer, keys=keys)
    token = mint(stranger)
    for _ in range(3):
        assert refusal(validator, token).code is AuthErrorCode.SIGNATURE_INVALID
    assert keys.calls == 3


def test_dev_issuer_reuses_its_keys_from_the_directory(issuer: DevIssuer, tmp_path: Path) -> None:
    first = DevIssuer(tmp_path)
    again = DevIssuer(tmp_path)
    assert again.public_jwks() == first.public_jwks()
    assert validator_for(again).validate(mint(first)).subject == CUSTOMER
