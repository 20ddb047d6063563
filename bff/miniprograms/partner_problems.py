"""Every refusal of the partner API as an RFC 9457 problem (application/problem+json), in one place.

Each domain exception maps to one HTTP status by its code; the body carries
the code, so a partner's tooling can branch on it without parsing prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson
from starlette.responses import Response

from bff.auth.errors import AuthError
from bff.miniprograms.bundles import BundleErrorCode, BundleRejected
from bff.miniprograms.lifecycle import ErrorCode, RegistryError
from bff.miniprograms.manifest import ManifestError
from bff.miniprograms.partner_keys import PartnerKeyErrorCode, PartnerKeyRejected
from bff.miniprograms.signing import SignatureErrorCode, SignatureRejected

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_BASE: Final = "https://bff.bank.example/problems/"

_REGISTRY_STATUS: Final[Mapping[ErrorCode, int]] = {
    ErrorCode.INVALID_APP_ID: 422,
    ErrorCode.APP_EXISTS: 409,
    ErrorCode.APP_NOT_FOUND: 404,
    ErrorCode.NOT_APP_OWNER: 403,
    ErrorCode.MANIFEST_MISMATCH: 422,
    ErrorCode.VERSION_EXISTS: 409,
    ErrorCode.VERSION_NOT_GREATER: 409,
    ErrorCode.VERSION_NOT_FOUND: 404,
    ErrorCode.INVALID_TRANSITION: 409,
    ErrorCode.REASON_REQUIRED: 422,
    ErrorCode.SECOND_REVIEWER_REQUIRED: 409,
    ErrorCode.NOT_APPROVED: 409,
    ErrorCode.NOT_RELEASED: 404,
    ErrorCode.PERCENT_OUT_OF_RANGE: 422,
    ErrorCode.MEMBER_BANKS_EMPTY: 422,
    ErrorCode.MEMBER_BANK_NOT_SERVED: 422,
    ErrorCode.ROLLBACK_NOT_EARLIER: 409,
    ErrorCode.CONCURRENT_CHANGE: 409,
}
# A signature that cannot be read is a bad request; one that reads but proves nothing is unprocessable.
_SIGNATURE_STATUS: Final[Mapping[SignatureErrorCode, int]] = {
    code: 400 if code is SignatureErrorCode.SIGNATURE_MALFORMED else 422 for code in SignatureErrorCode
}
_BUNDLE_STATUS: Final[Mapping[BundleErrorCode, int]] = {
    code: 413 if code is BundleErrorCode.BUNDLE_TOO_LARGE else 422 for code in BundleErrorCode
}
_KEY_STATUS: Final[Mapping[PartnerKeyErrorCode, int]] = {
    PartnerKeyErrorCode.KEY_PRIVATE: 422,
    PartnerKeyErrorCode.KEY_INVALID: 422,
    PartnerKeyErrorCode.KEY_EXISTS: 409,
}
_TITLES: Final[Mapping[int, str]] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
}


class PartnerApiError(Exception):
    """A refusal decided by the HTTP layer itself (request shape, role, size)."""

    def __init__(self, status: int, code: str, detail: str, errors: Sequence[Mapping[str, str]] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors)


DomainError = (
    AuthError | RegistryError | SignatureRejected | BundleRejected | ManifestError | PartnerKeyRejected
)
DOMAIN_ERRORS: Final = (
    AuthError,
    RegistryError,
    SignatureRejected,
    BundleRejected,
    ManifestError,
    PartnerKeyRejected,
    PartnerApiError,
)


def problem_for(exc: DomainError | PartnerApiError) -> Response:
    """The problem response for a refused request."""
    if isinstance(exc, AuthError):
        # RFC 6750 section 3: a refused token is answered with the Bearer challenge.
        challenge = 'Bearer realm="partner", error="invalid_token"'
        if exc.code == "TOKEN_MISSING":
            challenge = 'Bearer realm="partner"'
        return problem(401, exc.code, exc.message, headers={"WWW-Authenticate": challenge})
    if isinstance(exc, ManifestError):
        errors = [{"path": p.path, "message": p.message} for p in exc.problems]
        return problem(422, "MANIFEST_INVALID", str(exc), errors=errors)
    if isinstance(exc, PartnerApiError):
        return problem(exc.status, exc.code, exc.detail, errors=exc.errors)
    if isinstance(exc, RegistryError):
        return problem(_REGISTRY_STATUS.get(exc.code, 409), exc.code, exc.message)
    if isinstance(exc, SignatureRejected):
        return problem(_SIGNATURE_STATUS[exc.code], exc.code, exc.message)
    if isinstance(exc, BundleRejected):
        return problem(_BUNDLE_STATUS[exc.code], exc.code, exc.message)
    return problem(_KEY_STATUS[exc.code], exc.code, exc.message)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": _TITLES.get(status, "Request refused"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = list(errors)
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
