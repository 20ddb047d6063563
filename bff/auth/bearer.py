"""From an HTTP request's Authorization header to a Principal."""

from __future__ import annotations

from collections.abc import Mapping

from bff.auth.errors import AuthError, AuthErrorCode
from bff.auth.principal import Principal
from bff.auth.validator import TokenValidator


def principal_from_headers(headers: Mapping[str, str], validator: TokenValidator) -> Principal:
    header = headers.get("authorization")
    if not header:
        raise AuthError(AuthErrorCode.TOKEN_MISSING, "send an access token: Authorization: Bearer <token>")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(AuthErrorCode.TOKEN_MALFORMED, "the Authorization header must be 'Bearer <token>'")
    return validator.validate(token.strip())
