"""JWT access token validation against the issuer's key set (RS256 and ES256 only).

Signature and claims are checked with joserfc, the JOSE library of the
authlib project (authlib.jose is deprecated in its favour). Validated tokens
are cached until they expire, because a signature check (about 0.1 ms for
ES256) on every request is the largest fixed cost of a cheap query.
"""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

from bff.auth.errors import AuthError, AuthErrorCode
from bff.auth.principal import Principal, Role

ALGORITHMS = ("RS256", "ES256")
MEMBER_BANK_CLAIM = "member_bank"
ROLES_CLAIM = "roles"


class TokenValidator:
    def __init__(
        self,
        keys: Callable[[], KeySet],
        issuer: str,
        audience: str,
        leeway_s: int = 30,
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._clock = clock
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size

    def validate(self, raw: str) -> Principal:
        """The principal of a valid token, or AuthError saying what is wrong with it."""
        cached = self._cache.get(raw)
        if cached is not None and cached.expires_at + self._leeway_s > self._clock():
            return cached
        principal = self._validate(raw)
        self._cache[raw] = principal
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def forget(self) -> None:
        """Drop every cached verdict: call when the key set changes (rotation, revocation)."""
        self._cache.clear()

    def _validate(self, raw: str) -> Principal:
        header = _header(raw)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError(
                AuthErrorCode.ALGORITHM_NOT_ALLOWED,
                f"token algorithm {alg!r} is not accepted; sign with one of {', '.join(ALGORITHMS)}",
            )
        try:
            token = jwt.decode(raw, self._keys(), algorithms=list(ALGORITHMS))
        except (jose_errors.BadSignatureError, jose_errors.InvalidKeyIdError, ValueError) as exc:
            raise AuthError(
                AuthErrorCode.SIGNATURE_INVALID, "token signature does not match any key of the issuer"
            ) from exc
        except jose_errors.JoseError as exc:
            raise AuthError(
                AuthErrorCode.TOKEN_MALFORMED, f"token cannot be read: {exc.description}"
            ) from exc
        self._check_claims(token.claims)
        return _principal(token.claims)

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=self._leeway_s,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(dict(claims))
        except jose_errors.ExpiredTokenError as exc:
            raise AuthError(AuthErrorCode.EXPIRED, "token has expired; get a new one") from exc
        except jose_errors.MissingClaimError as exc:
            raise AuthError(
                AuthErrorCode.CLAIM_MISSING, f"token lacks a required claim: {exc.claim}"
            ) from exc
        except jose_errors.InvalidClaimError as exc:
            raise _claim_error(exc.claim, self._issuer, self._audience) from exc


def _claim_error(claim: str, issuer: str, audience: str) -> AuthError:
    if claim == "aud":
        return AuthError(AuthErrorCode.WRONG_AUDIENCE, f"token audience must include {audience!r}")
    if claim == "iss":
        return AuthError(AuthErrorCode.WRONG_ISSUER, f"token issuer must be {issuer!r}")
    if claim in ("nbf", "iat"):
        return AuthError(AuthErrorCode.NOT_YET_VALID, "token is not valid yet (nbf/iat in the future)")
    return AuthError(AuthErrorCode.TOKEN_MALFORMED, f"token claim {claim!r} is invalid")


def _header(raw: str) -> dict[str, Any]:
    parts = raw.split(".")
    if len(parts) != 3:
        raise AuthError(
            AuthErrorCode.TOKEN_MALFORMED, "token is not a compact JWS (header.payload.signature)"
        )
    try:
        padded = parts[0] + "=" * (-len(parts[0]) % 4)
        header = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise AuthError(AuthErrorCode.TOKEN_MALFORMED, "token header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise AuthError(AuthErrorCode.TOKEN_MALFORMED, "token header is not a JSON object")
    return header


def _principal(claims: Mapping[str, Any]) -> Principal:
    member_bank = claims.get(MEMBER_BANK_CLAIM)
    if not isinstance(member_bank, str) or not member_bank:
        raise AuthError(
            AuthErrorCode.TENANT_MISSING, f"token has no {MEMBER_BANK_CLAIM!r} claim naming the member bank"
        )
    raw_roles = claims.get(ROLES_CLAIM, [])
    if not isinstance(raw_roles, list) or not raw_roles:
        raise AuthError(AuthErrorCode.CLAIM_MISSING, f"token needs a non-empty {ROLES_CLAIM!r} list")
    try:
        roles = frozenset(Role(r) for r in raw_roles)
    except ValueError as exc:
        known = ", ".join(r.value for r in Role)
        raise AuthError(AuthErrorCode.ROLE_UNKNOWN, f"token has an unknown role; known: {known}") from exc
    scope = claims.get("scope", "")
    return Principal(
        subject=str(claims["sub"]),
        member_bank=member_bank,
        roles=roles,
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        token_id=str(claims["jti"]) if "jti" in claims else None,
        expires_at=float(claims["exp"]),
    )
