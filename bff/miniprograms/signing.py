"""Manifest signatures: a partner signs the exact manifest bytes as a compact JWS.

The host verifies against the keys the partner registered, so a manifest can
only come from its partner and cannot change after signing. Only asymmetric
algorithms are accepted: an HMAC key would have to be shared with the host,
and "none" proves nothing. Ed25519 appears under two names: "Ed25519" from
RFC 9864 (fully specified, what this module signs with) and the older
"EdDSA" that partner tooling predating RFC 9864 still emits.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import orjson
from joserfc import errors as jose_errors
from joserfc import jws
from joserfc.jwk import ECKey, KeySet, OKPKey

MANIFEST_JWS_TYPE = "miniprogram-manifest+jws"

PartnerKey = OKPKey | ECKey
SigningAlgorithm = Literal["Ed25519", "EdDSA", "ES256"]

# The key type and curve each accepted algorithm needs. Checked before
# joserfc runs so that a header cannot pair an algorithm with the wrong kind
# of key (EdDSA would otherwise also accept Ed448).
_KEY_SHAPE: dict[str, tuple[str, str]] = {
    "Ed25519": ("OKP", "Ed25519"),
    "EdDSA": ("OKP", "Ed25519"),
    "ES256": ("EC", "P-256"),
}
ALGORITHMS = tuple(_KEY_SHAPE)


class SignatureErrorCode(StrEnum):
    SIGNATURE_MALFORMED = "SIGNATURE_MALFORMED"
    SIGNATURE_TYPE_UNEXPECTED = "SIGNATURE_TYPE_UNEXPECTED"
    SIGNATURE_ALGORITHM_NOT_ALLOWED = "SIGNATURE_ALGORITHM_NOT_ALLOWED"
    SIGNATURE_KEY_UNKNOWN = "SIGNATURE_KEY_UNKNOWN"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"


class SignatureRejected(Exception):
    def __init__(self, code: SignatureErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sign_manifest(manifest_bytes: bytes, private_key: PartnerKey | Mapping[str, Any], kid: str) -> str:
    """A compact JWS whose payload is exactly `manifest_bytes`, signed with the partner's key."""
    key = _import_key(private_key)
    alg = _signing_algorithm(key)
    header = {"alg": alg, "kid": kid, "typ": MANIFEST_JWS_TYPE}
    return jws.serialize_compact(header, manifest_bytes, key, algorithms=[alg])


def verify_manifest(
    token: str, partner_keys: KeySet | Sequence[Mapping[str, Any]], expected_kid: str | None = None
) -> bytes:
    """The manifest bytes if `token` was signed by one of the partner's keys; SignatureRejected otherwise."""
    header = _header(token)
    alg = _allowed_algorithm(header)
    kid = _kid(header, expected_kid)
    key = _partner_key(_key_set(partner_keys), kid, alg)
    try:
        return jws.deserialize_compact(token, key, algorithms=[alg]).payload
    except jose_errors.BadSignatureError as exc:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_INVALID,
            f"manifest signature does not verify with partner key {kid!r}: the manifest changed after "
            "signing or another key signed it",
        ) from exc
    except (jose_errors.JoseError, ValueError) as exc:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_MALFORMED, f"manifest signature cannot be read: {exc}"
        ) from exc


def generate_partner_key(alg: SigningAlgorithm, kid: str) -> PartnerKey:
    """A new private signing key for a partner, bound to `alg` so it cannot sign with another."""
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters={"kid": kid, "alg": alg, "use": "sig"})
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid, "alg": alg, "use": "sig"})


def public_jwk(key: PartnerKey) -> dict[str, Any]:
    """The public half of a partner key as a JWK, the form a partner registers with the host."""
    return dict(key.as_dict(private=False))


def write_partner_key(path: Path, key: PartnerKey) -> Path:
    """Write a private partner key as a JWK readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(orjson.dumps(key.as_dict(private=True)))
    return path


def read_partner_key(path: Path) -> PartnerKey:
    """A private partner key written by write_partner_key."""
    return _import_key(orjson.loads(path.read_bytes()))


def _import_key(key: PartnerKey | Mapping[str, Any]) -> PartnerKey:
    if isinstance(key, OKPKey | ECKey):
        return key
    kty = key.get("kty")
    if kty == "OKP":
        return OKPKey.import_key(dict(key))
    if kty == "EC":
        return ECKey.import_key(dict(key))
    raise ValueError(f"partner keys are OKP (Ed25519) or EC (P-256) JWKs, not kty {kty!r}")


def _signing_algorithm(key: PartnerKey) -> str:
    # A key registered for one algorithm signs with it; otherwise the key's
    # shape decides, preferring the RFC 9864 name for Ed25519.
    bound = key.get("alg")
    if isinstance(bound, str):
        if bound not in _KEY_SHAPE or _KEY_SHAPE[bound] != (key.key_type, key.curve_name):
            raise ValueError(f"key is bound to algorithm {bound!r}; partner keys use one of {ALGORITHMS}")
        return bound
    for alg, shape in _KEY_SHAPE.items():
        if shape == (key.key_type, key.curve_name):
            return alg
    raise ValueError(f"partner keys are Ed25519 or P-256, not {key.key_type} {key.curve_name}")


def _key_set(partner_keys: KeySet | Sequence[Mapping[str, Any]]) -> KeySet:
    if isinstance(partner_keys, KeySet):
        return partner_keys
    return KeySet.import_key_set({"keys": [dict(jwk) for jwk in partner_keys]})


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_MALFORMED,
            "manifest signature is not a compact JWS (header.payload.signature)",
        )
    try:
        header = orjson.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_MALFORMED, "manifest signature header is not base64url JSON"
        ) from exc
    if not isinstance(header, dict):
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_MALFORMED, "manifest signature header is not a JSON object"
        )
    return header


def _allowed_algorithm(header: Mapping[str, Any]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in _KEY_SHAPE:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED,
            f"manifest signature algorithm {alg!r} is not accepted; sign with one of {', '.join(ALGORITHMS)}",
        )
    # typ keeps a partner's other JWS (an access token, say) from passing as a manifest.
    if header.get("typ") != MANIFEST_JWS_TYPE:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_TYPE_UNEXPECTED,
            f"manifest signature header must have typ {MANIFEST_JWS_TYPE!r}, not {header.get('typ')!r}",
        )
    return alg


def _kid(header: Mapping[str, Any], expected_kid: str | None) -> str:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_KEY_UNKNOWN, "manifest signature header names no key (kid)"
        )
    if expected_kid is not None and kid != expected_kid:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_KEY_UNKNOWN,
            f"manifest signature names key {kid!r}; this manifest must be signed with key {expected_kid!r}",
        )
    return kid


def _partner_key(keys: KeySet, kid: str, alg: str) -> PartnerKey:
    key = next((k for k in keys.keys if k.kid == kid), None)
    if key is None:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_KEY_UNKNOWN,
            f"manifest signature names key {kid!r}, which the partner has not registered",
        )
    if not isinstance(key, OKPKey | ECKey) or _KEY_SHAPE[alg] != (key.key_type, key.curve_name):
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED,
            f"partner key {kid!r} cannot verify algorithm {alg!r}",
        )
    # A key registered for one algorithm verifies only that one (RFC 7517 section 4.4).
    bound = key.get("alg")
    if bound is not None and bound != alg:
        raise SignatureRejected(
            SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED,
            f"partner key {kid!r} is registered for {bound!r}, not {alg!r}",
        )
    return key
