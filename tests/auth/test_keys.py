"""JwksSource from a file: load, rotate by rewriting the file, and refuse a bad file by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bff.auth.dev_issuer import DevIssuer
from bff.auth.errors import AuthError, AuthErrorCode
from bff.auth.keys import JwksSource, KeySetUnavailable
from bff.auth.validator import TokenValidator


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture(scope="module")
def successor(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    """The same identity provider after a key rotation: same name, new keys."""
    return DevIssuer(tmp_path_factory.mktemp("successor"))


def validator_over(source: JwksSource, issuer: DevIssuer) -> TokenValidator:
    # A fresh validator per check, so its cache of validated tokens never answers for the keys.
    return TokenValidator(source, issuer.issuer, issuer.audience)


def accepts(source: JwksSource, issuer: DevIssuer, token: str) -> bool:
    """True if the source's keys verify `token`; any refusal must be the signature's."""
    try:
        validator_over(source, issuer).validate(token)
    except AuthError as exc:
        refused = exc
    else:
        return True
    assert refused.code is AuthErrorCode.SIGNATURE_INVALID
    return False


async def test_loaded_file_validates_the_issuers_tokens(issuer: DevIssuer, tmp_path: Path) -> None:
    source = JwksSource(file=issuer.write_public_jwks(tmp_path / "jwks.json"))
    await source.load()
    assert accepts(source, issuer, issuer.mint("RCB001-00042", "RCB001", alg="ES256"))
    assert accepts(source, issuer, issuer.mint("RCB001-00042", "RCB001", alg="RS256"))


def test_public_jwks_file_holds_no_private_key_material(issuer: DevIssuer, tmp_path: Path) -> None:
    keys = issuer.public_jwks()["keys"]
    assert {key["kid"] for key in keys} == {"dev-rs256", "dev-es256"}
    private_params = {"d", "p", "q", "dp", "dq", "qi"}
    assert all(private_params.isdisjoint(key) for key in keys)


async def test_rewriting_the_file_and_loading_again_rotates_the_keys(
    issuer: DevIssuer, successor: DevIssuer, tmp_path: Path
) -> None:
    path = issuer.write_public_jwks(tmp_path / "jwks.json")
    source = JwksSource(file=path)
    await source.load()
    old_token = issuer.mint("RCB001-00042", "RCB001")
    new_token = successor.mint("RCB001-00042", "RCB001")
    assert accepts(source, issuer, old_token)
    assert not accepts(source, successor, new_token)

    successor.write_public_jwks(path)
    assert accepts(source, issuer, old_token), "nothing changes until load() runs"
    await source.load()
    assert accepts(source, successor, new_token)
    assert not accepts(source, issuer, old_token)


def test_key_set_before_the_first_load_is_unavailable(tmp_path: Path) -> None:
    source = JwksSource(file=tmp_path / "jwks.json")
    with pytest.raises(KeySetUnavailable, match=r"load\(\)"):
        source()


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"{}", b"[]", b'{"keys": []}', b'{"keys": [{"kty": "nope"}]}'],
    ids=["empty", "not-json", "no-keys", "a-list", "empty-keys", "unknown-key-type"],
)
async def test_bad_file_is_key_set_unavailable_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "jwks.json"
    path.write_bytes(content)
    with pytest.raises(KeySetUnavailable) as caught:
        await JwksSource(file=path).load()
    assert str(path) in str(caught.value)


async def test_missing_file_is_key_set_unavailable_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "jwks.json"
    with pytest.raises(KeySetUnavailable) as caught:
        await JwksSource(file=path).load()
    assert str(path) in str(caught.value)


async def test_failed_reload_keeps_the_last_good_keys(issuer: DevIssuer, tmp_path: Path) -> None:
    path = issuer.write_public_jwks(tmp_path / "jwks.json")
    source = JwksSource(file=path)
    await source.load()
    path.write_bytes(b"{ half a file")
    with pytest.raises(KeySetUnavailable):
        await source.load()
    assert accepts(source, issuer, issuer.mint("RCB001-00042", "RCB001"))


@pytest.mark.parametrize(
    "where", [{}, {"url": "https://idp.example/jwks", "file": Path("jwks.json")}], ids=["neither", "both"]
)
def test_source_needs_exactly_one_of_url_and_file(where: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JwksSource(**where)  # type: ignore[arg-type]
