"""The partner REST API over a real registry in Redis: the publishing path and each refusal with its code."""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Route

from bff.auth.dev_issuer import DevIssuer
from bff.auth.validator import TokenValidator
from bff.miniprograms.bundle_index import BundleIndex
from bff.miniprograms.bundle_serving import bundle_routes
from bff.miniprograms.bundles import DirectoryBundleStore
from bff.miniprograms.partner_api import OPENAPI_PATH, partner_routes
from bff.miniprograms.partner_keys import PartnerKeys
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.signing import PartnerKey, generate_partner_key, public_jwk, sign_manifest
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

PARTNER_API_DB = 11
PARTNER = "partner-parks"
OTHER_PARTNER = "partner-bills"
UPLOAD_LIMIT = 200_000
PARKS_KEY = generate_partner_key("Ed25519", "parks-1")
BILLS_KEY = generate_partner_key("ES256", "bills-1")
BRIDGE = "https://bridge.bank.example"
HOST = "https://app.bank.example"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, PARTNER_API_DB) as client:
        yield client


@pytest.fixture
async def client(
    redis_client: aioredis.Redis, issuer: DevIssuer, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    registry = MiniProgramRegistry(redis_client)
    bundles = DirectoryBundleStore(tmp_path / "bundles")
    index = BundleIndex(redis_client)
    validator = TokenValidator(lambda: issuer.keys, issuer.issuer, issuer.audience)
    routes = partner_routes(
        registry, bundles, PartnerKeys(redis_client), validator, index, max_upload_bytes=UPLOAD_LIMIT
    )
    routes += bundle_routes(registry, bundles, index, BRIDGE, [HOST])
    app = Starlette(routes=routes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff") as http:
        yield http


def bearer(issuer: DevIssuer, subject: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.mint(subject=subject, member_bank='*', roles=[role])}"}


@pytest.fixture
def parks(issuer: DevIssuer) -> dict[str, str]:
    return bearer(issuer, PARTNER, "partner")


@pytest.fixture
def bills(issuer: DevIssuer) -> dict[str, str]:
    return bearer(issuer, OTHER_PARTNER, "partner")


@pytest.fixture
def admin(issuer: DevIssuer) -> dict[str, str]:
    return bearer(issuer, "reviewer-a", "admin")


@pytest.fixture
def app_id() -> str:
    return f"com.parks.t{uuid.uuid4().hex[:12]}"


def bundle_zip(marker: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "index.html", f"<!doctype html><title>Parks</title><script src=app.js></script>{marker}"
        )
        archive.writestr("app.js", "console.log('parks')")
        archive.writestr("icons/96.png", b"\x89PNG\r\n")
    return out.getvalue()


def manifest_bytes(app_id: str, version: str, bundle: bytes, **changes: Any) -> bytes:
    document = {
        "appId": app_id,
        "version": version,
        "names": {"en": "Park services"},
        "icons": {"96": "icons/96.png"},
        "entryPage": "index.html",
        "pages": ["index.html"],
        "bridgeApis": [{"api": "user.info", "purpose": "Greet you by name"}],
        "scopes": [{"scope": "profile.name", "purpose": "Greet you by name"}],
        "networkDomains": ["https://api.parks.example.com"],
        "memberBanks": ["*"],
        "minAppVersion": "5.2.0",
        "bundle": {"sha256": hashlib.sha256(bundle).hexdigest(), "size": len(bundle)},
        "rateLimits": {"perCustomerPerMinute": 60, "perAppPerSecond": 200},
        **changes,
    }
    return json.dumps(document).encode()


def upload_files(manifest: bytes, signature: str, bundle: bytes) -> dict[str, Any]:
    return {
        "manifest": ("manifest.json", manifest, "application/json"),
        "signature": (None, signature),
        "bundle": ("bundle.zip", bundle, "application/zip"),
    }


async def register_key(http: httpx.AsyncClient, admin: dict[str, str], partner: str, key: PartnerKey) -> None:
    answer = await http.post(
        f"/partner/v1/partners/{partner}/keys", json={"jwk": public_jwk(key)}, headers=admin
    )
    assert answer.status_code == 201, answer.text


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    app_id: str,
    version: str,
    *,
    key: PartnerKey = PARKS_KEY,
    bundle: bytes | None = None,
    manifest: bytes | None = None,
) -> httpx.Response:
    bundle = bundle_zip(version) if bundle is None else bundle
    manifest = manifest_bytes(app_id, version, bundle) if manifest is None else manifest
    signature = sign_manifest(manifest, key, str(key.kid))
    files = upload_files(manifest, signature, bundle)
    return await http.post(f"/partner/v1/apps/{app_id}/versions", files=files, headers=headers)


@pytest.fixture
async def created(
    client: httpx.AsyncClient, parks: dict[str, str], admin: dict[str, str], app_id: str
) -> str:
    answer = await client.post("/partner/v1/apps", json={"appId": app_id}, headers=parks)
    assert answer.status_code == 201, answer.text
    await register_key(client, admin, PARTNER, PARKS_KEY)
    await register_key(client, admin, OTHER_PARTNER, BILLS_KEY)
    return app_id


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


async def test_partner_publishes_reviewer_approves_and_release_serves_the_bundle(
    client: httpx.AsyncClient, parks: dict[str, str], admin: dict[str, str], created: str
) -> None:
    app_id = created
    bundle = bundle_zip()
    answer = await upload(client, parks, app_id, "1.0.0", bundle=bundle)
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "draft"
    digest = hashlib.sha256(bundle).hexdigest()
    assert answer.json()["bundleSha256"] == digest

    base = f"/partner/v1/apps/{app_id}"
    submitted = await client.post(f"{base}/versions/1.0.0/submit", headers=parks)
    assert submitted.json()["state"] == "submitted"
    approved = await client.post(f"{base}/versions/1.0.0/review", json={"approve": True}, headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"

    released = await client.post(
        f"{base}/release", json={"version": "1.0.0", "percent": 10, "memberBanks": ["*"]}, headers=parks
    )
    assert released.status_code == 200, released.text
    release = (await client.get(f"{base}/release", headers=parks)).json()
    assert release["version"] == "1.0.0"
    assert release["percentBasisPoints"] == 1000
    assert release["memberBanks"] == ["*"]

    detail = (await client.get(f"{base}/versions/1.0.0", headers=admin)).json()
    assert detail["state"] == "approved"
    assert detail["reviews"][0]["reviewer"] == "reviewer-a"
    assert detail["manifest"]["appId"] == app_id
    assert "permissionDiff" in detail
    actions = [
        event["action"] for event in (await client.get(f"{base}/audit", headers=parks)).json()["events"]
    ]
    assert actions == [
        "app.created",
        "version.added",
        "version.submitted",
        "version.approved",
        "release.started",
    ]

    page = await client.get(f"/miniprograms/bundles/{digest}/index.html")
    assert page.status_code == 200
    assert page.text.startswith("<!doctype html>")
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in page.headers["cache-control"]
    csp = page.headers["content-security-policy"]
    assert f"connect-src {BRIDGE} https://api.parks.example.com" in csp
    assert f"frame-ancestors {HOST}" in csp
    script = await client.get(f"/miniprograms/bundles/{digest}/app.js")
    assert script.headers["content-type"].startswith("text/javascript")


async def test_decimal_percent_becomes_basis_points_and_admin_can_pull_the_kill_switch(
    client: httpx.AsyncClient, parks: dict[str, str], admin: dict[str, str], created: str
) -> None:
    base = f"/partner/v1/apps/{created}"
    assert (await upload(client, parks, created, "1.0.0")).status_code == 201
    await client.post(f"{base}/versions/1.0.0/submit", headers=parks)
    await client.post(f"{base}/versions/1.0.0/review", json={"approve": True}, headers=admin)
    released = await client.post(
        f"{base}/release",
        json={"version": "1.0.0", "percent": 12.25, "memberBanks": ["RCB001"]},
        headers=admin,
    )
    assert released.json()["percentBasisPoints"] == 1225
    suspended = await client.post(f"{base}/suspend", json={"reason": "fraud report"}, headers=admin)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended"] == ["*"]
    resumed = await client.post(f"{base}/resume", json={}, headers=admin)
    assert resumed.json()["suspended"] == []
    too_fine = await client.post(
        f"{base}/release", json={"version": "1.0.0", "percent": 1.005, "memberBanks": ["*"]}, headers=parks
    )
    assert_problem(too_fine, 422, "BODY_INVALID")


async def test_tampered_bundle_is_refused_with_a_digest_mismatch(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    bundle = bundle_zip()
    manifest = manifest_bytes(created, "1.0.0", bundle)
    tampered = bundle_zip("x")[: len(bundle)].ljust(len(bundle), b"\0")
    answer = await upload(client, parks, created, "1.0.0", bundle=tampered, manifest=manifest)
    assert_problem(answer, 422, "BUNDLE_DIGEST_MISMATCH")


async def test_signature_over_other_bytes_is_refused(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    bundle = bundle_zip()
    manifest = manifest_bytes(created, "1.0.0", bundle)
    signature = sign_manifest(manifest_bytes(created, "1.0.1", bundle), PARKS_KEY, "parks-1")
    files = upload_files(manifest, signature, bundle)
    answer = await client.post(f"/partner/v1/apps/{created}/versions", files=files, headers=parks)
    assert_problem(answer, 422, "SIGNATURE_PAYLOAD_MISMATCH")


async def test_broken_signature_is_refused(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    bundle = bundle_zip()
    manifest = manifest_bytes(created, "1.0.0", bundle)
    header, payload, sig = sign_manifest(manifest, PARKS_KEY, "parks-1").split(".")
    forged = f"{header}.{payload}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    answer = await client.post(
        f"/partner/v1/apps/{created}/versions", files=upload_files(manifest, forged, bundle), headers=parks
    )
    assert_problem(answer, 422, "SIGNATURE_INVALID")


async def test_signature_by_another_partners_key_is_refused(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    answer = await upload(client, parks, created, "1.0.0", key=BILLS_KEY)
    assert_problem(answer, 422, "SIGNATURE_KEY_UNKNOWN")


async def test_reused_and_lower_versions_are_refused(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    assert (await upload(client, parks, created, "1.2.0")).status_code == 201
    assert_problem(await upload(client, parks, created, "1.2.0"), 409, "VERSION_EXISTS")
    assert_problem(await upload(client, parks, created, "1.1.0"), 409, "VERSION_NOT_GREATER")


async def test_invalid_manifest_lists_each_field_path(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    bundle = bundle_zip()
    manifest = manifest_bytes(created, "1.0.0", bundle, minAppVersion="five")
    body = assert_problem(
        await upload(client, parks, created, "1.0.0", manifest=manifest), 422, "MANIFEST_INVALID"
    )
    assert "/minAppVersion" in [error["path"] for error in body["errors"]]


async def test_manifest_for_another_app_is_refused(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    bundle = bundle_zip()
    manifest = manifest_bytes("com.parks.other", "1.0.0", bundle)
    answer = await upload(client, parks, created, "1.0.0", manifest=manifest, bundle=bundle)
    assert_problem(answer, 422, "MANIFEST_MISMATCH")


async def test_other_partners_app_is_forbidden(
    client: httpx.AsyncClient, bills: dict[str, str], created: str
) -> None:
    assert_problem(await client.get(f"/partner/v1/apps/{created}", headers=bills), 403, "NOT_APP_OWNER")
    assert_problem(await upload(client, bills, created, "1.0.0", key=BILLS_KEY), 403, "NOT_APP_OWNER")
    halted = await client.post(f"/partner/v1/apps/{created}/halt", json={"reason": "mine now"}, headers=bills)
    assert_problem(halted, 403, "NOT_APP_OWNER")


async def test_partner_cannot_review(client: httpx.AsyncClient, parks: dict[str, str], created: str) -> None:
    await upload(client, parks, created, "1.0.0")
    await client.post(f"/partner/v1/apps/{created}/versions/1.0.0/submit", headers=parks)
    answer = await client.post(
        f"/partner/v1/apps/{created}/versions/1.0.0/review", json={"approve": True}, headers=parks
    )
    assert_problem(answer, 403, "ROLE_REQUIRED")


async def test_missing_or_bad_token_is_401_with_a_bearer_challenge(
    client: httpx.AsyncClient, created: str
) -> None:
    missing = await client.get(f"/partner/v1/apps/{created}")
    assert_problem(missing, 401, "TOKEN_MISSING")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    bad = await client.get(f"/partner/v1/apps/{created}", headers={"Authorization": "Bearer a.b.c"})
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]


async def test_oversize_upload_is_413(client: httpx.AsyncClient, parks: dict[str, str], created: str) -> None:
    bundle = bundle_zip() + b"\0" * UPLOAD_LIMIT
    answer = await upload(client, parks, created, "1.0.0", bundle=bundle)
    assert_problem(answer, 413, "REQUEST_TOO_LARGE")


async def test_private_keys_are_refused_and_only_admins_register_keys(
    client: httpx.AsyncClient, parks: dict[str, str], admin: dict[str, str]
) -> None:
    private = dict(PARKS_KEY.as_dict(private=True))
    answer = await client.post(f"/partner/v1/partners/{PARTNER}/keys", json={"jwk": private}, headers=admin)
    assert_problem(answer, 422, "KEY_PRIVATE")
    by_partner = await client.post(
        f"/partner/v1/partners/{PARTNER}/keys", json={"jwk": public_jwk(PARKS_KEY)}, headers=parks
    )
    assert_problem(by_partner, 403, "ROLE_REQUIRED")
    swapped = {**public_jwk(BILLS_KEY), "kid": "parks-1"}
    await register_key(client, admin, PARTNER, PARKS_KEY)
    await register_key(client, admin, PARTNER, PARKS_KEY)  # the same key again is fine
    conflict = await client.post(f"/partner/v1/partners/{PARTNER}/keys", json={"jwk": swapped}, headers=admin)
    assert_problem(conflict, 409, "KEY_EXISTS")


async def test_unknown_bundle_digest_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"/miniprograms/bundles/{'0' * 64}/index.html")
    assert_problem(answer, 404, "BUNDLE_NOT_FOUND")


async def test_openapi_document_is_3_1_and_describes_every_route(client: httpx.AsyncClient) -> None:
    answer = await client.get("/partner/v1/openapi.json")
    document = answer.json()
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document == json.loads(OPENAPI_PATH.read_text())
    flows = document["components"]["securitySchemes"]["bearer"]["flows"]
    assert "clientCredentials" in flows

    app = client._transport.app  # type: ignore[attr-defined]
    routes = {
        (re.sub(r"\{(\w+)(?::\w+)?\}", "{}", route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (re.sub(r"\{\w+\}", "{}", path), method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == routes


async def test_unreadable_bodies_are_problems_not_server_errors(
    client: httpx.AsyncClient, parks: dict[str, str], created: str
) -> None:
    versions = f"/partner/v1/apps/{created}/versions"
    no_boundary = await client.post(
        versions, content=b"--x\r\n", headers={**parks, "Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400, no_boundary.text
    not_multipart = await client.post(versions, json={}, headers=parks)
    assert_problem(not_multipart, 415, "MEDIA_TYPE_UNSUPPORTED")
    missing_part = await client.post(versions, files={"manifest": ("m.json", b"{}")}, headers=parks)
    assert_problem(missing_part, 422, "UPLOAD_PART_MISSING")
    not_json = await client.post(
        "/partner/v1/apps", content=b"{", headers={**parks, "Content-Type": "application/json"}
    )
    assert_problem(not_json, 400, "BODY_NOT_JSON")
    invalid = await client.post("/partner/v1/apps", json={"appId": 7}, headers=parks)
    assert [e["path"] for e in assert_problem(invalid, 422, "BODY_INVALID")["errors"]] == ["/appId"]
