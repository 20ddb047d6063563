"""The partner REST API under /partner/v1: apps, signed version uploads, review, release and the kill switch.

Who may do what (checked here; the registry checks ownership again where it takes a partner id):

- a partner (role `partner`, token subject = partner id) creates apps it then
  owns, uploads and submits versions of them, and reads them;
- an admin (role `admin`) reviews versions and registers partners' keys;
- release, halt, suspend, resume and rollback are open to the owning partner
  and to admins, so the bank can pull a mini-program (the kill switch) without
  waiting for its partner.

Every refusal is an RFC 9457 problem (`partner_problems.py`); the whole API is
described by schemas/partner-api.openapi.json, served at /partner/v1/openapi.json.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.auth.bearer import principal_from_headers
from bff.auth.principal import Principal, Role
from bff.auth.validator import TokenValidator
from bff.miniprograms.bundle_index import BundleIndex, BundleOwner
from bff.miniprograms.bundles import MAX_BUNDLE_BYTES, BundleStore, check_bundle
from bff.miniprograms.lifecycle import ErrorCode, RegistryError
from bff.miniprograms.manifest import load_manifest, permission_diff
from bff.miniprograms.partner_keys import PartnerKeys
from bff.miniprograms.partner_problems import DOMAIN_ERRORS, PartnerApiError, problem_for
from bff.miniprograms.partner_requests import (
    CreateApp,
    HaltRequest,
    RegisterKey,
    ReleaseRequest,
    ResumeRequest,
    ReviewDecision,
    RollbackRequest,
    SuspendRequest,
    read_json,
    read_upload,
)
from bff.miniprograms.partner_views import (
    app_view,
    audit_view,
    release_view,
    version_detail,
    version_view,
)
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.signing import SignatureErrorCode, SignatureRejected, verify_manifest

PREFIX: Final = "/partner/v1"
OPENAPI_PATH: Final = Path(__file__).resolve().parents[2] / "schemas" / "partner-api.openapi.json"
# The bundle limit plus room for the manifest (64 KiB at most), its signature and the multipart framing.
DEFAULT_MAX_UPLOAD_BYTES: Final = MAX_BUNDLE_BYTES + 1024 * 1024
MAX_AUDIT_EVENTS: Final = 1000

Handler = Callable[[Request], Awaitable[Response]]


def partner_routes(
    registry: MiniProgramRegistry,
    bundles: BundleStore,
    partner_keys: PartnerKeys,
    validator: TokenValidator,
    bundle_index: BundleIndex,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    openapi_path: Path = OPENAPI_PATH,
) -> list[BaseRoute]:
    """The routes of the partner API, over the given registry, bundle store and key registry."""
    api = PartnerApi(registry, bundles, partner_keys, validator, bundle_index, max_upload_bytes)
    openapi = openapi_path.read_bytes()

    async def openapi_document(request: Request) -> Response:
        return Response(openapi, media_type="application/json")

    app = PREFIX + "/apps/{app_id}"
    version = app + "/versions/{version}"
    table: list[tuple[str, Handler, str]] = [
        (PREFIX + "/openapi.json", openapi_document, "GET"),
        (PREFIX + "/partners/{partner_id}/keys", api.register_key, "POST"),
        (PREFIX + "/partners/{partner_id}/keys", api.list_keys, "GET"),
        (PREFIX + "/apps", api.create_app, "POST"),
        (app, api.get_app, "GET"),
        (app + "/versions", api.add_version, "POST"),
        (app + "/versions", api.list_versions, "GET"),
        (version, api.get_version, "GET"),
        (version + "/submit", api.submit, "POST"),
        (version + "/review", api.review, "POST"),
        (app + "/release", api.release, "POST"),
        (app + "/release", api.get_release, "GET"),
        (app + "/halt", api.halt, "POST"),
        (app + "/suspend", api.suspend, "POST"),
        (app + "/resume", api.resume, "POST"),
        (app + "/rollback", api.rollback, "POST"),
        (app + "/audit", api.audit, "GET"),
    ]
    return [Route(path, _refusals(handler), methods=[method]) for path, handler, method in table]


def _refusals(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except DOMAIN_ERRORS as exc:
            return problem_for(exc)

    return answered


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


class PartnerApi:
    def __init__(
        self,
        registry: MiniProgramRegistry,
        bundles: BundleStore,
        partner_keys: PartnerKeys,
        validator: TokenValidator,
        bundle_index: BundleIndex,
        max_upload_bytes: int,
    ) -> None:
        self._registry = registry
        self._bundles = bundles
        self._keys = partner_keys
        self._validator = validator
        self._index = bundle_index
        self._max_upload_bytes = max_upload_bytes

    # --- who is calling ---

    def _principal(self, request: Request, *roles: Role) -> Principal:
        principal = principal_from_headers(request.headers, self._validator)
        if not any(principal.has(role) for role in roles):
            needed = " or ".join(role.value for role in roles)
            raise PartnerApiError(
                403, "ROLE_REQUIRED", f"this operation needs a token with the role {needed}"
            )
        return principal

    async def _owner(self, request: Request, *, admin_too: bool) -> Principal:
        """The caller, if it owns the app in the path (or, with `admin_too`, is an admin)."""
        principal = self._principal(request, Role.PARTNER, *([Role.ADMIN] if admin_too else []))
        app = await self._registry.get_app(request.path_params["app_id"])
        if admin_too and principal.has(Role.ADMIN):
            return principal
        if not principal.has(Role.PARTNER) or app.partner_id != principal.subject:
            raise RegistryError(
                ErrorCode.NOT_APP_OWNER, f"{app.app_id} belongs to another partner; only its owner may use it"
            )
        return principal

    # --- partner keys ---

    async def register_key(self, request: Request) -> Response:
        self._principal(request, Role.ADMIN)
        body = await read_json(request, RegisterKey)
        public = await self._keys.register(request.path_params["partner_id"], body.jwk)
        return _json(public, 201)

    async def list_keys(self, request: Request) -> Response:
        principal = self._principal(request, Role.PARTNER, Role.ADMIN)
        partner_id = request.path_params["partner_id"]
        if not principal.has(Role.ADMIN) and principal.subject != partner_id:
            raise PartnerApiError(403, "NOT_PARTNER", "a partner may list only its own keys")
        return _json({"keys": await self._keys.keys_for(partner_id)})

    # --- apps and versions ---

    async def create_app(self, request: Request) -> Response:
        principal = self._principal(request, Role.PARTNER)
        body = await read_json(request, CreateApp)
        app = await self._registry.create_app(body.app_id, principal.subject, actor=principal.subject)
        return _json(app_view(app), 201, {"Location": f"{PREFIX}/apps/{app.app_id}"})

    async def get_app(self, request: Request) -> Response:
        await self._owner(request, admin_too=True)
        return _json(app_view(await self._registry.get_app(request.path_params["app_id"])))

    async def add_version(self, request: Request) -> Response:
        """Verify a signed manifest and its bundle, store the bundle and add the version as a draft."""
        principal = await self._owner(request, admin_too=False)
        app_id = request.path_params["app_id"]
        parts = await read_upload(request, self._max_upload_bytes)
        manifest_bytes, bundle = parts["manifest"], parts["bundle"]
        manifest = load_manifest(manifest_bytes)
        if manifest.app_id != app_id:
            raise RegistryError(
                ErrorCode.MANIFEST_MISMATCH, f"the manifest is for {manifest.app_id}, not {app_id}"
            )
        signature = await self._verify_signature(principal.subject, parts["signature"], manifest_bytes)
        await run_in_threadpool(
            check_bundle, bundle, manifest.bundle_sha256, manifest.bundle_size, manifest.entry_page
        )
        # Content-addressed: storing before the registry decides is safe, the same bytes get the same name.
        await run_in_threadpool(self._bundles.put, bundle)
        version = await self._registry.add_version(
            app_id, principal.subject, manifest, manifest_bytes, signature, actor=principal.subject
        )
        await self._index.remember(version.bundle_sha256, BundleOwner(app_id, version.version))
        location = f"{PREFIX}/apps/{app_id}/versions/{version.version}"
        return _json(version_view(version), 201, {"Location": location})

    async def _verify_signature(self, partner_id: str, raw: bytes, manifest_bytes: bytes) -> str:
        try:
            signature = raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise SignatureRejected(
                SignatureErrorCode.SIGNATURE_MALFORMED, "the signature part is not a compact JWS (ASCII)"
            ) from exc
        keys = await self._keys.keys_for(partner_id)
        if not keys:
            raise SignatureRejected(
                SignatureErrorCode.SIGNATURE_KEY_UNKNOWN,
                f"{partner_id} has no registered signing key; ask the bank to register your public key",
            )
        signed = verify_manifest(signature, keys)
        if signed != manifest_bytes:
            raise PartnerApiError(
                422,
                "SIGNATURE_PAYLOAD_MISMATCH",
                "the signature is over other bytes than the uploaded manifest; sign the exact manifest bytes",
            )
        return signature

    async def list_versions(self, request: Request) -> Response:
        await self._owner(request, admin_too=True)
        versions = await self._registry.list_versions(request.path_params["app_id"])
        return _json({"versions": [version_view(version) for version in versions]})

    async def get_version(self, request: Request) -> Response:
        await self._owner(request, admin_too=True)
        app_id, name = request.path_params["app_id"], request.path_params["version"]
        version = await self._registry.get_version(app_id, name)
        # The diff a reviewer would see now: against the version being released, as review() computes it.
        release = await self._registry.get_release(app_id)
        base = release.version if release else None
        base_manifest = (await self._registry.get_version(app_id, base)).manifest if base else None
        diff = permission_diff(base_manifest, version.manifest)
        return _json(version_detail(version, diff, base))

    async def submit(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=False)
        version = await self._registry.submit(
            request.path_params["app_id"], request.path_params["version"], principal.subject
        )
        return _json(version_view(version))

    async def review(self, request: Request) -> Response:
        principal = self._principal(request, Role.ADMIN)
        body = await read_json(request, ReviewDecision)
        version = await self._registry.review(
            request.path_params["app_id"],
            request.path_params["version"],
            principal.subject,
            approve=body.approve,
            reason=body.reason,
        )
        return _json(version_view(version))

    # --- release and the kill switch ---

    async def release(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=True)
        body = await read_json(request, ReleaseRequest)
        release = await self._registry.release(
            request.path_params["app_id"], body.version, body.percent_bp, body.banks, principal.subject
        )
        return _json(release_view(release))

    async def get_release(self, request: Request) -> Response:
        await self._owner(request, admin_too=True)
        app_id = request.path_params["app_id"]
        release = await self._registry.get_release(app_id)
        if release is None:
            raise RegistryError(ErrorCode.NOT_RELEASED, f"{app_id} has no release yet")
        return _json(release_view(release))

    async def halt(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=True)
        body = await read_json(request, HaltRequest)
        release = await self._registry.halt(request.path_params["app_id"], body.reason, principal.subject)
        return _json(release_view(release))

    async def suspend(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=True)
        body = await read_json(request, SuspendRequest)
        release = await self._registry.suspend(
            request.path_params["app_id"], body.member_bank, principal.subject, body.reason
        )
        return _json(release_view(release))

    async def resume(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=True)
        body = await read_json(request, ResumeRequest)
        release = await self._registry.resume(
            request.path_params["app_id"], body.member_bank, principal.subject
        )
        return _json(release_view(release))

    async def rollback(self, request: Request) -> Response:
        principal = await self._owner(request, admin_too=True)
        body = await read_json(request, RollbackRequest)
        release = await self._registry.rollback(
            request.path_params["app_id"], body.version, principal.subject
        )
        return _json(release_view(release))

    async def audit(self, request: Request) -> Response:
        await self._owner(request, admin_too=True)
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_AUDIT_EVENTS:
            raise PartnerApiError(
                422,
                "QUERY_INVALID",
                f"limit is a whole number from 1 to {MAX_AUDIT_EVENTS}",
                [{"path": "/limit", "message": f"expected 1 to {MAX_AUDIT_EVENTS}, got {raw!r}"}],
            )
        events = await self._registry.audit(request.path_params["app_id"], limit=int(raw))
        return _json({"events": [audit_view(event) for event in events]})
