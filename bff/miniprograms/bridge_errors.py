"""Why a bridge call or a bridge token was refused: one error type, a machine-readable code."""

from __future__ import annotations

import enum


class BridgeErrorCode(enum.StrEnum):
    # The token (HTTP 401 at the bridge).
    BRIDGE_TOKEN_MISSING = "BRIDGE_TOKEN_MISSING"
    BRIDGE_TOKEN_MALFORMED = "BRIDGE_TOKEN_MALFORMED"
    BRIDGE_TOKEN_SIGNATURE_INVALID = "BRIDGE_TOKEN_SIGNATURE_INVALID"
    BRIDGE_TOKEN_WRONG_ISSUER = "BRIDGE_TOKEN_WRONG_ISSUER"
    BRIDGE_TOKEN_EXPIRED = "BRIDGE_TOKEN_EXPIRED"
    BRIDGE_TOKEN_NOT_YET_VALID = "BRIDGE_TOKEN_NOT_YET_VALID"
    BRIDGE_TOKEN_WRONG_AUDIENCE = "BRIDGE_TOKEN_WRONG_AUDIENCE"
    BRIDGE_TOKEN_REVOKED = "BRIDGE_TOKEN_REVOKED"
    # The call (HTTP 403 at the bridge).
    BRIDGE_API_UNKNOWN = "BRIDGE_API_UNKNOWN"
    BRIDGE_SCOPE_MISSING = "BRIDGE_SCOPE_MISSING"
    # The token exchange (HTTP 400/403 where the host asks for a token).
    BRIDGE_SUBJECT_NOT_CUSTOMER = "BRIDGE_SUBJECT_NOT_CUSTOMER"
    BRIDGE_SUBJECT_TOKEN_EXPIRED = "BRIDGE_SUBJECT_TOKEN_EXPIRED"
    BRIDGE_CONSENT_MISSING = "BRIDGE_CONSENT_MISSING"


class BridgeAuthError(Exception):
    """A bridge token or call was refused; `code` is machine-readable, `message` says what to do."""

    def __init__(self, code: BridgeErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
