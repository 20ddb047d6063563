"""principal_from_headers: the Authorization header in, a Principal or a precise refusal out."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from bff.auth.bearer import principal_from_headers
from bff.auth.dev_issuer import DevIssuer
from bff.auth.errors import AuthError, AuthErrorCode
from bff.auth.validator import TokenValidator


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture
def validator(issuer: DevIssuer) -> TokenValidator:
    return TokenValidator(lambda: issuer.keys, issuer.issuer, issuer.audience)


def refusal(headers: dict[str, str], validator: TokenValidator) -> AuthError:
    with pytest.raises(AuthError) as caught:
        principal_from_headers(Headers(headers), validator)
    return caught.value


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_token_gives_its_principal_whatever_the_scheme_case(
    issuer: DevIssuer, validator: TokenValidator, scheme: str
) -> None:
    token = issuer.mint("RCB002-00042", "RCB002")
    principal = principal_from_headers(Headers({"Authorization": f"{scheme} {token}"}), validator)
    assert (principal.subject, principal.member_bank) == ("RCB002-00042", "RCB002")


def test_surrounding_whitespace_around_the_token_is_ignored(
    issuer: DevIssuer, validator: TokenValidator
) -> None:
    token = issuer.mint("RCB002-00042", "RCB002")
    principal = principal_from_headers(Headers({"authorization": f"Bearer   {token}  "}), validator)
    assert principal.subject == "RCB002-00042"


@pytest.mark.parametrize("headers", [{}, {"Authorization": ""}, {"X-Authorization": "Bearer abc"}])
def test_missing_authorization_header_is_token_missing(
    validator: TokenValidator, headers: dict[str, str]
) -> None:
    error = refusal(headers, validator)
    assert error.code is AuthErrorCode.TOKEN_MISSING
    assert "Authorization: Bearer <token>" in error.message


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Token abc.def.ghi", "abc.def.ghi", "Bearer-abc"])
def test_wrong_scheme_is_refused_as_malformed(validator: TokenValidator, value: str) -> None:
    error = refusal({"Authorization": value}, validator)
    assert error.code is AuthErrorCode.TOKEN_MALFORMED
    assert "'Bearer <token>'" in error.message


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer     "])
def test_bearer_without_a_token_is_refused_as_malformed(validator: TokenValidator, value: str) -> None:
    error = refusal({"Authorization": value}, validator)
    assert error.code is AuthErrorCode.TOKEN_MALFORMED
    assert "'Bearer <token>'" in error.message


def test_bad_bearer_token_is_refused_with_the_validators_reason(validator: TokenValidator) -> None:
    error = refusal({"Authorization": "Bearer not-a-jwt"}, validator)
    assert error.code is AuthErrorCode.TOKEN_MALFORMED
    assert "header.payload.signature" in error.message
