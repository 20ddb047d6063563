"""Manifest signatures: a partner's signature verifies to the exact bytes; every forgery is refused."""

from __future__ import annotations

import base64
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from joserfc import jws
from joserfc.jwk import KeySet, OctKey

from bff.miniprograms.signing import (
    MANIFEST_JWS_TYPE,
    PartnerKey,
    SignatureErrorCode,
    SignatureRejected,
    generate_partner_key,
    public_jwk,
    read_partner_key,
    sign_manifest,
    verify_manifest,
    write_partner_key,
)

MANIFEST = b'{"appId": "com.parkservices.tenant", "version": "1.0.0"}\n'


@pytest.fixture(scope="module")
def ed_key() -> PartnerKey:
    return generate_partner_key("Ed25519", "park-2025")


@pytest.fixture(scope="module")
def es_key() -> PartnerKey:
    return generate_partner_key("ES256", "park-es-2025")


@pytest.fixture(scope="module")
def partner_keys(ed_key: PartnerKey, es_key: PartnerKey) -> list[dict[str, Any]]:
    """What the park-services partner registered: public JWKs only."""
    return [public_jwk(ed_key), public_jwk(es_key)]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: Mapping[str, Any], payload: bytes = MANIFEST, signature: str = "") -> str:
    return f"{b64url(orjson.dumps(header))}.{b64url(payload)}.{signature}"


def refusal(token: str, keys: list[dict[str, Any]], expected_kid: str | None = None) -> SignatureErrorCode:
    with pytest.raises(SignatureRejected) as caught:
        verify_manifest(token, keys, expected_kid)
    return caught.value.code


def test_ed25519_signature_verifies_to_the_exact_manifest_bytes(
    ed_key: PartnerKey, partner_keys: list[dict[str, Any]]
) -> None:
    token = sign_manifest(MANIFEST, ed_key, "park-2025")
    assert verify_manifest(token, partner_keys, expected_kid="park-2025") == MANIFEST


def test_es256_signature_verifies_to_the_exact_manifest_bytes(
    es_key: PartnerKey, partner_keys: list[dict[str, Any]]
) -> None:
    token = sign_manifest(MANIFEST, es_key, "park-es-2025")
    assert verify_manifest(token, KeySet.import_key_set({"keys": partner_keys})) == MANIFEST


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_legacy_eddsa_name_for_ed25519_is_accepted() -> None:
    key = generate_partner_key("EdDSA", "legacy")
    token = sign_manifest(MANIFEST, key.as_dict(private=True), "legacy")
    assert verify_manifest(token, [public_jwk(key)]) == MANIFEST


def test_signature_header_names_algorithm_kid_and_manifest_type(ed_key: PartnerKey) -> None:
    token = sign_manifest(MANIFEST, ed_key, "park-2025")
    header = orjson.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "Ed25519", "kid": "park-2025", "typ": MANIFEST_JWS_TYPE}


def test_alg_none_is_refused_as_algorithm_not_allowed(partner_keys: list[dict[str, Any]]) -> None:
    token = unsigned({"alg": "none", "kid": "park-2025", "typ": MANIFEST_JWS_TYPE})
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED


def test_hs256_is_refused_as_algorithm_not_allowed(partner_keys: list[dict[str, Any]]) -> None:
    # The classic confusion: an HMAC keyed with the partner's public key.
    secret = OctKey.import_key(orjson.dumps(partner_keys[0]))
    header = {"alg": "HS256", "kid": "park-2025", "typ": MANIFEST_JWS_TYPE}
    token = jws.serialize_compact(header, MANIFEST, secret, algorithms=["HS256"])
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED


def test_signature_by_another_partners_key_under_this_partners_kid_is_invalid(
    partner_keys: list[dict[str, Any]],
) -> None:
    other = generate_partner_key("Ed25519", "park-2025")
    token = sign_manifest(MANIFEST, other, "park-2025")
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_INVALID


def test_signature_by_another_partners_key_under_its_own_kid_is_unknown_key(
    partner_keys: list[dict[str, Any]],
) -> None:
    other = generate_partner_key("Ed25519", "farm-2025")
    token = sign_manifest(MANIFEST, other, "farm-2025")
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_KEY_UNKNOWN


def test_payload_changed_after_signing_is_invalid(
    ed_key: PartnerKey, partner_keys: list[dict[str, Any]]
) -> None:
    header, _, signature = sign_manifest(MANIFEST, ed_key, "park-2025").split(".")
    tampered = MANIFEST.replace(b"1.0.0", b"1.0.1")
    token = f"{header}.{b64url(tampered)}.{signature}"
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_INVALID


def test_kid_the_partner_never_registered_is_unknown_key(
    ed_key: PartnerKey, partner_keys: list[dict[str, Any]]
) -> None:
    token = sign_manifest(MANIFEST, ed_key, "park-2019")
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_KEY_UNKNOWN


def test_kid_other_than_the_expected_one_is_unknown_key(
    ed_key: PartnerKey, partner_keys: list[dict[str, Any]]
) -> None:
    token = sign_manifest(MANIFEST, ed_key, "park-2025")
    code = refusal(token, partner_keys, expected_kid="park-es-2025")
    assert code == SignatureErrorCode.SIGNATURE_KEY_UNKNOWN


def test_es256_header_over_an_ed25519_key_is_algorithm_not_allowed(
    partner_keys: list[dict[str, Any]],
) -> None:
    token = unsigned({"alg": "ES256", "kid": "park-2025", "typ": MANIFEST_JWS_TYPE}, signature="AAAA")
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_ALGORITHM_NOT_ALLOWED


def test_other_jws_type_is_refused(partner_keys: list[dict[str, Any]]) -> None:
    token = unsigned({"alg": "Ed25519", "kid": "park-2025", "typ": "at+jwt"}, signature="AAAA")
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_TYPE_UNEXPECTED


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a jws",
        "a.b",
        "a.b.c.d.e",
        "!!!.e30.AAAA",
        f"{b64url(b'[1, 2]')}.e30.AAAA",
        f"{b64url(b'not json')}.e30.AAAA",
    ],
)
def test_garbage_is_refused_as_malformed(garbage: str, partner_keys: list[dict[str, Any]]) -> None:
    assert refusal(garbage, partner_keys) == SignatureErrorCode.SIGNATURE_MALFORMED


def test_garbage_signature_of_the_right_shape_is_invalid(partner_keys: list[dict[str, Any]]) -> None:
    header = {"alg": "Ed25519", "kid": "park-2025", "typ": MANIFEST_JWS_TYPE}
    token = unsigned(header, signature=b64url(bytes(64)))
    assert refusal(token, partner_keys) == SignatureErrorCode.SIGNATURE_INVALID


def test_public_jwk_holds_no_private_part(ed_key: PartnerKey, es_key: PartnerKey) -> None:
    assert "d" not in public_jwk(ed_key)
    assert "d" not in public_jwk(es_key)
    assert public_jwk(es_key)["kid"] == "park-es-2025"


def test_partner_key_file_is_private_to_its_owner_and_reads_back(ed_key: PartnerKey, tmp_path: Path) -> None:
    path = write_partner_key(tmp_path / "keys" / "park-2025.jwk", ed_key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = sign_manifest(MANIFEST, read_partner_key(path), "park-2025")
    assert verify_manifest(token, [public_jwk(ed_key)]) == MANIFEST
