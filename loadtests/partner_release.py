"""A new version of a sample mini-program, built as its partner would: new version number, rebuilt and signed.

The sample folder is copied, its entry page touched so the bundle really
changes, the bundle rebuilt (reproducible zip), the manifest's version and
bundle digest rewritten, and the manifest signed with the demo partner's key.
The upload is the partner API's multipart body (manifest, signature, bundle).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from bff.miniprograms.bundle_build import build_bundle
from bff.miniprograms.bundles import sha256_hex
from bff.miniprograms.signing import read_partner_key, sign_manifest
from loadtests.config import REPO

SAMPLES = REPO / "miniprograms"
DEMO_KEY = SAMPLES / "demo-partner-key.json"
PARTNER = "partner-demo"


@dataclass(frozen=True)
class SignedVersion:
    app_id: str
    version: str
    manifest: bytes
    signature: str
    bundle: bytes

    def upload(self) -> tuple[bytes, str]:
        """The multipart body of POST /apps/{appId}/versions, and its content type."""
        files = {
            "manifest": ("manifest.json", self.manifest, "application/json"),
            "signature": ("manifest.jws", self.signature.encode("ascii"), "application/jose"),
            "bundle": ("bundle.zip", self.bundle, "application/zip"),
        }
        request = httpx.Request("POST", "http://partner.invalid/", files=files)
        return request.read(), request.headers["Content-Type"]


def new_version(sample: str, version: str) -> SignedVersion:
    """Version `version` of sample folder `sample` (e.g. "park-services"), signed with the demo key."""
    folder = SAMPLES / sample
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="loadtest-partner-") as scratch:
        sources = Path(scratch) / "bundle"
        shutil.copytree(folder / "bundle", sources)
        entry = sources / manifest["entryPage"]
        entry.write_text(entry.read_text(encoding="utf-8") + f"<!-- build {version} -->\n", encoding="utf-8")
        bundle = build_bundle(sources)
    manifest["version"] = version
    manifest["bundle"] = {"sha256": sha256_hex(bundle), "size": len(bundle)}
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    key = read_partner_key(DEMO_KEY)
    signature = sign_manifest(manifest_bytes, key, key.kid or "demo-partner-1")
    return SignedVersion(manifest["appId"], version, manifest_bytes, signature, bundle)
