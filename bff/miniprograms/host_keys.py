"""The host's own secrets for mini-programs: the bridge token signing key and the pairwise secret.

Production passes them in (files mounted from the secret store); development
creates them once under var/ so tokens and pairwise ids survive restarts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import orjson
from joserfc.jwk import ECKey

BRIDGE_KID = "bridge-es256-1"


def load_or_create_bridge_key(path: Path) -> ECKey:
    """An ES256 private key with a kid, read from `path` (a JWK), created there if missing."""
    if path.exists():
        return ECKey.import_key(orjson.loads(path.read_bytes()))
    key = ECKey.generate_key("P-256", parameters={"kid": BRIDGE_KID, "alg": "ES256", "use": "sig"})
    _write_private(path, orjson.dumps(key.as_dict(private=True)))
    return key


def load_bridge_key(path: Path) -> ECKey:
    key = ECKey.import_key(orjson.loads(path.read_bytes()))
    if not key.is_private or not key.kid:
        raise ValueError(f"{path}: the bridge key must be a private P-256 JWK with a kid")
    return key


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(size)
    _write_private(path, secret.hex().encode())
    return secret


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
