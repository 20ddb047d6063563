"""Why a token was refused; each code maps to HTTP 401 with a message saying what to fix."""

from __future__ import annotations

from enum import StrEnum


class AuthErrorCode(StrEnum):
    TOKEN_MISSING = "TOKEN_MISSING"
    TOKEN_MALFORMED = "TOKEN_MALFORMED"
    ALGORITHM_NOT_ALLOWED = "TOKEN_ALGORITHM_NOT_ALLOWED"
    SIGNATURE_INVALID = "TOKEN_SIGNATURE_INVALID"
    EXPIRED = "TOKEN_EXPIRED"
    NOT_YET_VALID = "TOKEN_NOT_YET_VALID"
    WRONG_AUDIENCE = "TOKEN_WRONG_AUDIENCE"
    WRONG_ISSUER = "TOKEN_WRONG_ISSUER"
    CLAIM_MISSING = "TOKEN_CLAIM_MISSING"
    TENANT_MISSING = "TOKEN_TENANT_MISSING"
    ROLE_UNKNOWN = "TOKEN_ROLE_UNKNOWN"


class AuthError(Exception):
    def __init__(self, code: AuthErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
