"""Mini-program bundles served at immutable, digest-addressed URLs with the sandbox's headers.

GET /miniprograms/bundles/{sha256}/{path} answers one file of the bundle with
the Content-Security-Policy of the manifest that named the bundle
(`bundle_index.py`); a digest no version named is 404, like a missing file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.miniprograms.bundle_index import BundleIndex
from bff.miniprograms.bundles import BundleRejected, BundleStore, bundle_entry, content_type_for
from bff.miniprograms.lifecycle import RegistryError
from bff.miniprograms.partner_problems import problem
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.sandbox import bundle_response_headers, content_security_policy

BUNDLE_PREFIX: Final = "/miniprograms/bundles"
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")


def bundle_routes(
    registry: MiniProgramRegistry,
    bundles: BundleStore,
    bundle_index: BundleIndex,
    bridge_origin: str,
    host_origins: Sequence[str],
) -> list[BaseRoute]:
    """The route serving stored bundles; `bridge_origin` and `host_origins` go into every CSP."""

    async def serve(request: Request) -> Response:
        digest, path = request.path_params["sha256"], request.path_params["path"]
        owner = await bundle_index.owner(digest) if _DIGEST.fullmatch(digest) else None
        if owner is None:
            return _not_found("no mini-program version has this bundle")
        try:
            manifest = (await registry.get_version(owner.app_id, owner.version)).manifest
        except RegistryError:
            return _not_found("the version of this bundle is gone")
        name = path or manifest.entry_page
        try:
            data = await run_in_threadpool(bundle_entry, bundles, digest, name)
        except BundleRejected:
            data = None
        if data is None:
            return _not_found(f"the bundle has no file {name!r}")
        csp = content_security_policy(manifest.network_domains, bridge_origin, host_origins)
        return Response(data, headers=bundle_response_headers(csp), media_type=content_type_for(name))

    return [Route(BUNDLE_PREFIX + "/{sha256}/{path:path}", serve, methods=["GET"])]


def _not_found(detail: str) -> Response:
    return problem(404, "BUNDLE_NOT_FOUND", detail)
