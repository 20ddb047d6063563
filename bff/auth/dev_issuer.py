"""A development token issuer: an RS256 and an ES256 key on disk, and a minting function.

Only for the demo and tests. Production validates tokens of the bank's real
identity provider through its JWKS URL.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from bff.auth.validator import MEMBER_BANK_CLAIM, ROLES_CLAIM

DEV_ISSUER = "https://issuer.dev.bff.local"
DEV_AUDIENCE = "bff"


class DevIssuer:
    def __init__(self, directory: Path, issuer: str = DEV_ISSUER, audience: str = DEV_AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = _load_or_create(directory / "issuer-private-jwks.json")

    def public_jwks(self) -> dict[str, Any]:
        return dict(self.keys.as_dict(private=False))

    def write_public_jwks(self, path: Path) -> Path:
        path.write_bytes(orjson.dumps(self.public_jwks(), option=orjson.OPT_INDENT_2))
        return path

    def mint(
        self,
        subject: str,
        member_bank: str | None,
        roles: Iterable[str] = ("customer",),
        *,
        ttl_s: int = 3600,
        alg: str = "ES256",
        scope: str = "",
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
            ROLES_CLAIM: list(roles),
        }
        if member_bank is not None:
            claims[MEMBER_BANK_CLAIM] = member_bank
        if scope:
            claims["scope"] = scope
        claims.update(extra or {})
        key = self.keys.get_by_kid(f"dev-{alg.lower()}")
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "at+jwt"}, claims, key)


def _load_or_create(path: Path) -> KeySet:
    if path.exists():
        return KeySet.import_key_set(orjson.loads(path.read_bytes()))
    keys = KeySet(
        [
            RSAKey.generate_key(2048, parameters={"kid": "dev-rs256", "alg": "RS256", "use": "sig"}),
            ECKey.generate_key("P-256", parameters={"kid": "dev-es256", "alg": "ES256", "use": "sig"}),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Private keys: readable by the owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(orjson.dumps(keys.as_dict(private=True)))
    return keys
