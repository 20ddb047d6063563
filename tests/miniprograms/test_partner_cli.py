"""`bff miniprogram ...`: validate, keygen, sign, and publish the sample mini-programs to a real BFF."""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from pathlib import Path

import httpx
import pytest

from bff.cli import main
from bff.miniprograms.bundle_build import build_bundle
from bff.miniprograms.bundles import sha256_hex
from bff.miniprograms.signing import public_jwk, read_partner_key, verify_manifest
from tests.conftest import Mint
from tests.support.bff_process import BffServer

SAMPLES = Path(__file__).resolve().parents[2] / "miniprograms"
DEMO_KEY = SAMPLES / "demo-partner-key.json"
DEMO_KID = "demo-partner-1"
PARTNER = "partner-demo"


def cli(*args: str) -> int:
    return main(["miniprogram", *args])


def sample_copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(SAMPLES / name, target)
    return target


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(changes)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


@pytest.mark.parametrize("sample", ["park-services", "utility-bills"])
def test_committed_samples_validate_and_their_signatures_verify_with_the_demo_key(
    sample: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("validate", str(SAMPLES / sample)) == 0
    assert "ok: " in capsys.readouterr().out
    token = (SAMPLES / sample / "manifest.jws").read_text().strip()
    manifest = (SAMPLES / sample / "manifest.json").read_bytes()
    assert verify_manifest(token, [public_jwk(read_partner_key(DEMO_KEY))]) == manifest


def test_validate_reports_every_problem_with_its_field_path_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sample_copy("utility-bills", tmp_path)
    edit_manifest(folder, version="v1", scopes=[], colour="blue", bundle={"sha256": "0" * 64, "size": 5})

    assert cli("validate", str(folder)) == 2

    errors = capsys.readouterr().err
    assert "/version: " in errors
    assert "/colour: unknown key 'colour'" in errors
    assert "/bridgeApis/0/api: " in errors  # payment.request without payments.initiate
    assert "/bundle/sha256: is '000" in errors
    assert "/bundle/size: is 5 but the bundle's is" in errors
    assert "problems found" in errors


def test_validate_reports_a_page_missing_from_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sample_copy("park-services", tmp_path)
    (folder / "bundle" / "payroll.html").unlink()

    assert cli("validate", "--write", str(folder)) == 2

    assert "/pages/3: 'payroll.html' is not in the bundle" in capsys.readouterr().err


def test_validate_write_fills_the_bundle_digest_and_size(tmp_path: Path) -> None:
    folder = sample_copy("utility-bills", tmp_path)
    (folder / "bundle" / "index.html").write_text("<!doctype html><title>Bills v2</title>")

    assert cli("validate", str(folder)) == 2
    assert cli("validate", "--write", str(folder)) == 0

    bundle = json.loads((folder / "manifest.json").read_text())["bundle"]
    built = build_bundle(folder / "bundle")
    assert bundle == {"sha256": sha256_hex(built), "size": len(built)}


def test_bundle_zip_has_the_same_digest_when_built_twice_whatever_the_file_times(tmp_path: Path) -> None:
    folder = sample_copy("park-services", tmp_path)
    first = build_bundle(folder / "bundle")
    for path in (folder / "bundle").rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    (folder / "bundle" / ".DS_Store").write_bytes(b"finder litter")

    assert sha256_hex(build_bundle(folder / "bundle")) == sha256_hex(first)
    assert (
        sha256_hex(first)
        == json.loads((SAMPLES / "park-services" / "manifest.json").read_text())["bundle"]["sha256"]
    )


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_keygen_then_sign_gives_a_signature_that_verifies_with_the_printed_public_key(
    alg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sample_copy("park-services", tmp_path)
    key_file = tmp_path / "partner-key.json"

    assert cli("keygen", "--out", str(key_file), "--kid", "parks-2", "--alg", alg) == 0
    public = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "d" not in public
    assert cli("sign", str(folder), "--key", str(key_file), "--kid", "parks-2") == 0

    token = (folder / "manifest.jws").read_text().strip()
    assert verify_manifest(token, [public]) == (folder / "manifest.json").read_bytes()


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "partner-key.json"
    key_file.write_text("{}")

    assert cli("keygen", "--out", str(key_file), "--kid", "k") == 2
    assert "pass --force" in capsys.readouterr().err
    assert key_file.read_text() == "{}"


def test_sign_refuses_a_manifest_with_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = sample_copy("utility-bills", tmp_path)
    (folder / "manifest.jws").unlink()
    edit_manifest(folder, entryPage="home.html")

    assert cli("sign", str(folder), "--key", str(DEMO_KEY)) == 2
    assert "/entryPage: " in capsys.readouterr().err
    assert not (folder / "manifest.jws").exists()


# --- against the session BFF --------------------------------------------------


@pytest.fixture(scope="module")
def partner_token(bff_server: BffServer, mint: Mint) -> str:
    """A partner token for PARTNER, whose demo public key an admin has registered."""
    admin = mint("reviewer-a", member_bank="*", roles=["admin"])
    response = httpx.post(
        f"{bff_server.url}/partner/v1/partners/{PARTNER}/keys",
        json={"jwk": public_jwk(read_partner_key(DEMO_KEY))},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code in (200, 201), response.text
    return mint(PARTNER, member_bank="*", roles=["partner"])


def test_publish_uploads_and_submits_both_samples_and_status_shows_them_submitted(
    bff_server: BffServer, partner_token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = ["--api", bff_server.url, "--token", partner_token]
    for sample, app_id in [
        ("park-services", "com.parkservices.tenant"),
        ("utility-bills", "com.utilitybills.pay"),
    ]:
        assert cli("publish", str(SAMPLES / sample), *api) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert f"created app {app_id}" in out
        assert "upload: " in out
        assert "(100%)" in out
        assert f"{app_id} 1.0.0: submitted" in out

        assert cli("status", app_id, *api) == 0
        status = capsys.readouterr().out
        assert f"app {app_id} (partner {PARTNER}" in status
        assert "  1.0.0: submitted" in status
        assert "release: none" in status


def test_publish_shows_the_permission_diff_of_a_new_app(
    bff_server: BffServer, partner_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = resigned_copy("utility-bills", tmp_path)

    assert cli("publish", str(folder), "--api", bff_server.url, "--token", partner_token) == 0

    out = capsys.readouterr().out
    assert "+ scopes: payments.initiate" in out
    assert "+ bridge APIs: payment.request" in out
    assert "needs second review: yes" in out


def test_publish_of_a_bundle_edited_after_signing_is_refused_with_the_servers_code(
    bff_server: BffServer, partner_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = resigned_copy("park-services", tmp_path)
    page = folder / "bundle" / "index.html"
    page.write_text(page.read_text() + "<!-- changed after signing -->\n")

    code = cli("publish", str(folder), "--api", bff_server.url, "--token", partner_token)

    assert code == 2
    errors = capsys.readouterr().err
    assert "error: Unprocessable content (422) BUNDLE_SIZE_MISMATCH" in errors
    assert "but the manifest says" in errors


def test_publish_of_a_built_zip_with_a_changed_byte_is_refused_for_its_digest(
    bff_server: BffServer, partner_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = sample_copy("utility-bills", tmp_path)
    (folder / "bundle.zip").write_bytes(build_bundle(folder / "bundle"))
    shutil.rmtree(folder / "bundle")
    edit_manifest(folder, appId=f"com.demo.t{uuid.uuid4().hex[:12]}")
    assert cli("validate", "--write", str(folder)) == 0
    assert cli("sign", str(folder), "--key", str(DEMO_KEY), "--kid", DEMO_KID) == 0
    zipped = bytearray((folder / "bundle.zip").read_bytes())
    zipped[40] ^= 0xFF
    (folder / "bundle.zip").write_bytes(bytes(zipped))

    code = cli("publish", str(folder), "--api", bff_server.url, "--token", partner_token)

    assert code == 2
    assert "(422) BUNDLE_DIGEST_MISMATCH" in capsys.readouterr().err


def test_publish_takes_the_token_from_the_environment_and_explains_a_refused_one(
    bff_server: BffServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BFF_PARTNER_TOKEN", "not-a-token")

    assert cli("publish", str(SAMPLES / "utility-bills"), "--api", bff_server.url) == 2

    assert "Unauthorized (401)" in capsys.readouterr().err


def resigned_copy(sample: str, tmp_path: Path) -> Path:
    """A copy of a sample under a fresh app id, validated (--write) and signed with the demo key."""
    folder = sample_copy(sample, tmp_path)
    edit_manifest(folder, appId=f"com.demo.t{uuid.uuid4().hex[:12]}")
    assert cli("validate", "--write", str(folder)) == 0
    assert cli("sign", str(folder), "--key", str(DEMO_KEY), "--kid", DEMO_KID) == 0
    return folder
