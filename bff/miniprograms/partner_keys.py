"""Partners' public signing keys (JWKs), kept in Redis by partner id and key id.

    bff:mp:partner:{<partner_id>}:keys    hash: kid -> public JWK (JSON)

One hash tag per partner, so a partner's keys sit in one Redis Cluster slot.
A key id, once registered, always names the same key: a manifest signed with
it stays verifiable, and nobody can swap a key under an existing kid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from joserfc.jwk import ECKey, OKPKey

from bff.store.client import RedisClient, text
from bff.store.keys import tag

# The key shapes signing.py verifies: Ed25519 (OKP) and P-256 (EC).
_ACCEPTED_CURVES = {"OKP": "Ed25519", "EC": "P-256"}
# The public members of those key types plus the optional JWK metadata partners send.
_PUBLIC_MEMBERS = frozenset({"kty", "crv", "x", "y", "kid", "alg", "use", "key_ops"})


class PartnerKeyErrorCode(StrEnum):
    KEY_PRIVATE = "KEY_PRIVATE"
    KEY_INVALID = "KEY_INVALID"
    KEY_EXISTS = "KEY_EXISTS"


class PartnerKeyRejected(Exception):
    def __init__(self, code: PartnerKeyErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def partner_keys_key(partner_id: str) -> str:
    return f"bff:mp:partner:{tag(partner_id)}:keys"


class PartnerKeys:
    """The registry of partners' public manifest-signing keys."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def register(self, partner_id: str, jwk: Mapping[str, Any]) -> dict[str, Any]:
        """Register a public key for `partner_id`; the same key again is a no-op, another key under its kid is refused."""
        public = public_partner_jwk(jwk)
        kid = public["kid"]
        stored = json.dumps(public, sort_keys=True)
        added = await self._redis.hsetnx(partner_keys_key(partner_id), kid, stored)
        if not added:
            existing = await self._redis.hget(partner_keys_key(partner_id), kid)
            if existing is not None and text(existing) != stored:
                raise PartnerKeyRejected(
                    PartnerKeyErrorCode.KEY_EXISTS,
                    f"{partner_id} already has a different key with kid {kid!r}; register a new kid instead",
                )
        return public

    async def keys_for(self, partner_id: str) -> list[dict[str, Any]]:
        """Every public key `partner_id` registered, sorted by kid."""
        stored = await self._redis.hgetall(partner_keys_key(partner_id))
        return [json.loads(text(stored[kid])) for kid in sorted(stored, key=text)]


def public_partner_jwk(jwk: Mapping[str, Any]) -> dict[str, Any]:
    """`jwk` checked to be a public Ed25519 or P-256 key with a kid; PartnerKeyRejected otherwise."""
    if "d" in jwk:
        # The private part must never leave the partner; refusing it also tells them it leaked.
        raise PartnerKeyRejected(
            PartnerKeyErrorCode.KEY_PRIVATE,
            "the JWK holds a private key ('d'); send only the public key, and replace this key since it was exposed",
        )
    kty, crv, kid = jwk.get("kty"), jwk.get("crv"), jwk.get("kid")
    if kty not in _ACCEPTED_CURVES or crv != _ACCEPTED_CURVES[kty]:
        raise PartnerKeyRejected(
            PartnerKeyErrorCode.KEY_INVALID,
            f"partner keys are OKP Ed25519 or EC P-256 JWKs, not kty {kty!r} crv {crv!r}",
        )
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        raise PartnerKeyRejected(
            PartnerKeyErrorCode.KEY_INVALID, "the JWK needs a 'kid' of 1 to 200 characters"
        )
    unknown = sorted(set(jwk) - _PUBLIC_MEMBERS)
    if unknown:
        raise PartnerKeyRejected(
            PartnerKeyErrorCode.KEY_INVALID,
            f"the JWK has members a public key does not: {', '.join(unknown)}",
        )
    try:
        key = OKPKey.import_key(dict(jwk)) if kty == "OKP" else ECKey.import_key(dict(jwk))
    except Exception as exc:  # joserfc raises several types for a bad key
        raise PartnerKeyRejected(
            PartnerKeyErrorCode.KEY_INVALID, f"the JWK is not a valid key: {exc}"
        ) from exc
    public = dict(key.as_dict(private=False))
    public.update({name: jwk[name] for name in ("kid", "alg", "use") if name in jwk})
    return public
