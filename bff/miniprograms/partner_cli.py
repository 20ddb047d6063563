"""`bff miniprogram ...`: the partner's tools to validate, sign, publish and follow a mini-program.

A mini-program folder holds `manifest.json`, the bundle sources in `bundle/`
(zipped reproducibly by bundle_build.py) or a built `bundle.zip`, and, once
signed, `manifest.jws`. Every refusal, local or from the partner API, is
printed with the path of the field it concerns and ends the command with exit
status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import httpx

from bff.api_cli import CommandFailed, ProblemPrinter, api_client, call, error, run_command
from bff.miniprograms.bundle_build import build_bundle
from bff.miniprograms.bundles import BundleRejected, check_bundle, sha256_hex
from bff.miniprograms.manifest import ManifestError, Problem, load_manifest
from bff.miniprograms.signing import (
    generate_partner_key,
    public_jwk,
    read_partner_key,
    sign_manifest,
    write_partner_key,
)

MANIFEST_FILE: Final = "manifest.json"
SIGNATURE_FILE: Final = "manifest.jws"
BUNDLE_SOURCES: Final = "bundle"
BUNDLE_ZIP: Final = "bundle.zip"
_PROBLEMS: Final = ProblemPrinter()
TOKEN_ENV: Final = "BFF_PARTNER_TOKEN"
API_PREFIX: Final = "/partner/v1"
_UPLOAD_CHUNK: Final = 64 * 1024


def run(parsed: argparse.Namespace) -> int:
    """Run one `bff miniprogram` subcommand; 0 on success, 2 on any refusal."""
    commands = {
        "validate": _validate_command,
        "sign": _sign_command,
        "keygen": _keygen_command,
        "publish": _publish_command,
        "status": _status_command,
    }
    return run_command(commands, parsed.miniprogram_command, parsed)


# --- validate -----------------------------------------------------------------


@dataclass(frozen=True)
class Folder:
    """A mini-program folder read from disk: the manifest's exact bytes and the bundle zip."""

    path: Path
    manifest_bytes: bytes
    bundle: bytes

    @classmethod
    def read(cls, path: Path) -> Folder:
        manifest_bytes = (path / MANIFEST_FILE).read_bytes()
        return cls(path, manifest_bytes, read_bundle(path))


def read_bundle(path: Path) -> bytes:
    """The bundle of a mini-program folder: built from `bundle/` when present, else `bundle.zip`."""
    sources = path / BUNDLE_SOURCES
    if sources.is_dir():
        return build_bundle(sources)
    zipped = path / BUNDLE_ZIP
    if not zipped.is_file():
        error(f"{path} has neither a {BUNDLE_SOURCES}/ folder nor a {BUNDLE_ZIP}")
        raise CommandFailed
    return zipped.read_bytes()


def validate(folder: Folder) -> list[Problem]:
    """Every problem of the folder's manifest and bundle, each with the path of its field."""
    problems = _bundle_field_problems(folder)
    try:
        manifest = load_manifest(folder.manifest_bytes)
    except ManifestError as exc:
        return sorted(set(problems + exc.problems), key=lambda p: p.path)
    if problems:
        return problems
    try:
        check_bundle(folder.bundle, manifest.bundle_sha256, manifest.bundle_size, manifest.entry_page)
    except BundleRejected as exc:
        return [Problem("/bundle", f"{exc.code}: {exc.message}")]
    present = _bundle_names(folder.bundle)
    missing = [(f"/pages/{i}", page) for i, page in enumerate(manifest.pages) if page not in present]
    missing += [(f"/icons/{size}", icon) for size, icon in manifest.icons if icon not in present]
    return [Problem(path, f"{name!r} is not in the bundle") for path, name in missing]


def _bundle_field_problems(folder: Folder) -> list[Problem]:
    declared = _bundle_field(folder.manifest_bytes)
    actual = {"sha256": sha256_hex(folder.bundle), "size": len(folder.bundle)}
    return [
        Problem(f"/bundle/{key}", f"is {declared.get(key)!r} but the bundle's is {value!r}; run with --write")
        for key, value in actual.items()
        if key in declared and declared[key] != value
    ]


def _bundle_field(manifest_bytes: bytes) -> dict[str, Any]:
    try:
        document = json.loads(manifest_bytes)
    except ValueError:
        return {}  # load_manifest reports why
    bundle = document.get("bundle") if isinstance(document, dict) else None
    return bundle if isinstance(bundle, dict) else {}


def _bundle_names(bundle: bytes) -> frozenset[str]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return frozenset(archive.namelist())


def write_bundle_field(folder: Folder) -> Folder:
    """Set the manifest's bundle.sha256 and bundle.size to the bundle's, keeping its key order."""
    document = json.loads(folder.manifest_bytes)
    document["bundle"] = {"sha256": sha256_hex(folder.bundle), "size": len(folder.bundle)}
    manifest_bytes = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if manifest_bytes != folder.manifest_bytes:
        (folder.path / MANIFEST_FILE).write_bytes(manifest_bytes)
        print(f"updated {folder.path / MANIFEST_FILE}: bundle.sha256 and bundle.size (sign it again)")
    return Folder(folder.path, manifest_bytes, folder.bundle)


def _validate_command(parsed: argparse.Namespace) -> None:
    folder = Folder.read(Path(parsed.dir))
    if parsed.write:
        # A manifest that is not a JSON object is left alone: validate() says why, with its path.
        with contextlib.suppress(ValueError, TypeError):
            folder = write_bundle_field(folder)
    _require_valid(folder)
    manifest = load_manifest(folder.manifest_bytes)
    print(
        f"ok: {manifest.app_id} {manifest.version}, bundle {manifest.bundle_sha256} "
        f"({manifest.bundle_size} bytes)"
    )


def _require_valid(folder: Folder) -> None:
    problems = validate(folder)
    for problem in problems:
        print(f"{folder.path / MANIFEST_FILE}: {problem}", file=sys.stderr)
    if problems:
        count = len(problems)
        error(f"{count} problem{'s' if count != 1 else ''} found")
        raise CommandFailed


# --- keys and signing -----------------------------------------------------------


def _keygen_command(parsed: argparse.Namespace) -> None:
    out = Path(parsed.out)
    if out.exists() and not parsed.force:
        error(f"{out} exists; pass --force to replace it")
        raise CommandFailed
    key = generate_partner_key(parsed.alg, parsed.kid)
    write_partner_key(out, key)
    print(
        f"wrote the private key {out} (mode 0600); register this public key with the bank:", file=sys.stderr
    )
    print(json.dumps(public_jwk(key), indent=2))


def _sign_command(parsed: argparse.Namespace) -> None:
    folder = Folder.read(Path(parsed.dir))
    _require_valid(folder)
    key = read_partner_key(Path(parsed.key))
    kid = parsed.kid or key.kid
    if not kid:
        error("the key has no kid; pass --kid")
        raise CommandFailed
    token = sign_manifest(folder.manifest_bytes, key, kid)
    (folder.path / SIGNATURE_FILE).write_text(token + "\n", encoding="ascii")
    print(f"wrote {folder.path / SIGNATURE_FILE} (key {kid})")


# --- the partner API ------------------------------------------------------------


def _client(parsed: argparse.Namespace) -> httpx.Client:
    return api_client(parsed, TOKEN_ENV, "partner", API_PREFIX)


def _call(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    return call(client, method, path, "partner API", **options)


def _publish_command(parsed: argparse.Namespace) -> None:
    folder = Folder.read(Path(parsed.dir))
    signature = (folder.path / SIGNATURE_FILE).read_bytes()
    app_id, version = _app_and_version(folder)
    with _client(parsed) as client:
        _ensure_app(client, app_id)
        _upload(client, app_id, folder, signature)
        submitted = _PROBLEMS.expect(_call(client, "POST", f"/apps/{app_id}/versions/{version}/submit"), 200)
        detail = _PROBLEMS.expect(_call(client, "GET", f"/apps/{app_id}/versions/{version}"), 200)
    print(f"{app_id} {version}: {submitted['state']}")
    _print_diff(detail["permissionDiff"])


def _app_and_version(folder: Folder) -> tuple[str, str]:
    # The server validates the manifest; here only the two fields naming the upload are needed.
    try:
        document = json.loads(folder.manifest_bytes)
        return str(document["appId"]), str(document["version"])
    except (ValueError, KeyError, TypeError) as exc:
        error(f"{folder.path / MANIFEST_FILE} names no appId and version; run `validate` first")
        raise CommandFailed from exc


def _ensure_app(client: httpx.Client, app_id: str) -> None:
    response = _call(client, "POST", "/apps", json={"appId": app_id})
    if response.status_code == 201:
        print(f"created app {app_id}")
    elif response.status_code == 409 and response.json().get("code") == "APP_EXISTS":
        print(f"app {app_id} exists")
    else:
        raise _PROBLEMS.refused(response)


def _upload(client: httpx.Client, app_id: str, folder: Folder, signature: bytes) -> None:
    files: dict[str, tuple[str, bytes | IO[bytes], str]] = {
        "manifest": (MANIFEST_FILE, folder.manifest_bytes, "application/json"),
        "signature": (SIGNATURE_FILE, signature, "application/jose"),
        "bundle": (BUNDLE_ZIP, io.BytesIO(folder.bundle), "application/zip"),
    }
    request = client.build_request("POST", f"/apps/{app_id}/versions", files=files)
    total = int(request.headers["Content-Length"])
    headers = {"Content-Type": request.headers["Content-Type"], "Content-Length": str(total)}
    chunks = _with_progress(request.stream, total)
    response = _call(client, "POST", f"/apps/{app_id}/versions", content=chunks, headers=headers)
    version = _PROBLEMS.expect(response, 201)
    print(f"uploaded {version['version']}: bundle {version['bundleSha256']}")


def _with_progress(stream: Any, total: int) -> Iterator[bytes]:
    """The upload's chunks, printing bytes sent at each tenth of the total and at the end."""
    sent, shown = 0, -1
    for chunk in stream:
        for start in range(0, len(chunk), _UPLOAD_CHUNK):
            piece = chunk[start : start + _UPLOAD_CHUNK]
            sent += len(piece)
            tenth = sent * 10 // total
            if tenth != shown:
                shown = tenth
                print(f"upload: {sent}/{total} bytes ({sent * 100 // total}%)")
            yield piece


def _print_diff(diff: dict[str, Any]) -> None:
    print(f"permission diff (against {diff.get('baseVersion') or 'no released version'}):")
    labels = {
        "addedScopes": "+ scopes",
        "removedScopes": "- scopes",
        "addedBridgeApis": "+ bridge APIs",
        "removedBridgeApis": "- bridge APIs",
        "addedNetworkDomains": "+ network domains",
        "removedNetworkDomains": "- network domains",
    }
    for key, label in labels.items():
        if diff.get(key):
            print(f"  {label}: {', '.join(diff[key])}")
    print(f"  needs second review: {'yes' if diff.get('needsSecondReview') else 'no'}")
    print(f"  needs new consent: {'yes' if diff.get('needsNewConsent') else 'no'}")


# --- status ---------------------------------------------------------------------


def _status_command(parsed: argparse.Namespace) -> None:
    app_id = parsed.app_id
    with _client(parsed) as client:
        app = _PROBLEMS.expect(_call(client, "GET", f"/apps/{app_id}"), 200)
        versions = _PROBLEMS.expect(_call(client, "GET", f"/apps/{app_id}/versions"), 200)["versions"]
        release_response = _call(client, "GET", f"/apps/{app_id}/release")
        release = None if release_response.status_code == 404 else _PROBLEMS.expect(release_response, 200)
    print(f"app {app['appId']} (partner {app['partnerId']}, created {app['createdAt']})")
    print("versions:")
    for version in versions:
        print(f"  {version['version']}: {version['state']}")
    if not versions:
        print("  (none)")
    print(f"release: {_release_line(release)}")


def _release_line(release: dict[str, Any] | None) -> str:
    if release is None:
        return "none"
    line = f"{release['version']} to {release['percent']}% of {', '.join(release['memberBanks'])}"
    if release.get("halted"):
        line += f"; halted: {release.get('haltReason')}"
    if release.get("suspended"):
        line += f"; suspended for {', '.join(release['suspended'])}"
    return line
