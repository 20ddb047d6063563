"""The app's side of the host: which mini-programs a customer gets, consent, and launch.

The GraphQL layer calls only this; it composes the registry (which version a
customer gets), the consent store, the bridge token issuer and the sandbox
policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bff.auth.principal import Principal
from bff.channels.models import CustomerScope
from bff.miniprograms.access_log import AccessEntry, AccessLog
from bff.miniprograms.bridge_tokens import BridgeTokenIssuer
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.lifecycle import ErrorCode, RegistryError, Release
from bff.miniprograms.manifest import Manifest
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.registry_records import App, Version
from bff.miniprograms.sandbox import content_security_policy

if TYPE_CHECKING:
    from bff.miniprograms.release_cache import ReleaseCache


@dataclass(frozen=True, slots=True)
class Offer:
    """A mini-program this customer may open: the version they get and their consent state."""

    app: App
    version: Version
    granted: frozenset[str]

    @property
    def manifest(self) -> Manifest:
        return self.version.manifest

    @property
    def missing(self) -> frozenset[str]:
        """Requested scopes not granted yet: what the customer must be asked before launch."""
        return self.manifest.scope_names - self.granted


@dataclass(frozen=True, slots=True)
class Launch:
    app_id: str
    version: str
    bundle_url: str
    entry_url: str
    content_security_policy: str
    bridge_token: str
    expires_at: int
    scopes: frozenset[str]
    missing: frozenset[str]  # requested but not granted: calls needing these are refused


class LaunchRefused(Exception):
    def __init__(self, code: str, message: str, missing: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = missing


@dataclass(frozen=True, slots=True)
class HostOrigins:
    public_url: str  # where bundles are served, e.g. https://bff.bank.example
    bridge_origin: str  # the origin of /miniprogram/bridge/v1
    host_origins: tuple[str, ...]  # who may frame a mini-program (the app's web view origin)


class MiniProgramHost:
    def __init__(
        self,
        registry: MiniProgramRegistry,
        consents: ConsentStore,
        issuer: BridgeTokenIssuer,
        access_log: AccessLog,
        origins: HostOrigins,
        releases: ReleaseCache | None = None,
    ) -> None:
        self._releases = releases
        self._registry = registry
        self._consents = consents
        self._issuer = issuer
        self._access_log = access_log
        self._origins = origins

    async def offers(self, principal: Principal) -> list[Offer]:
        """The catalog: every released, unsuspended mini-program this customer gets."""
        ids = await (self._releases.app_ids() if self._releases else self._registry.app_ids())
        found = await asyncio.gather(*(self.offer(principal, app_id) for app_id in ids))
        return [offer for offer in found if offer is not None]

    async def names_available(
        self, principal: Principal, app_ids: Sequence[str], language: str
    ) -> dict[str, str]:
        """Which of `app_ids` this customer gets now (released to them, not suspended), with their names.

        For home-screen tiles: read through the in-process release cache when there is one, so a
        home screen costs no registry reads; consent plays no part (the launch asks for it).
        """
        customer = _customer(principal)
        found: dict[str, str] = {}
        for app_id in app_ids:
            served = await self._served(customer, app_id)
            if served is not None:
                names = dict(served[1].manifest.names)
                found[app_id] = names.get(language) or names.get("zh-CN") or names.get("en") or app_id
        return found

    async def offer(self, principal: Principal, app_id: str) -> Offer | None:
        """The app as this customer gets it now: through the release cache when there is one."""
        customer = _customer(principal)
        served = await self._served(customer, app_id)
        if served is None:
            return None
        app, version = served
        granted = await self._consents.granted(customer, app_id)
        return Offer(app, version, granted & version.manifest.scope_names)

    async def _served(self, customer: CustomerScope, app_id: str) -> tuple[App, Version] | None:
        """The app and the version released to this customer, if any and if it serves their bank."""
        try:
            app, release = await self._app_state(app_id)
            chosen = release.version_for(customer.customer_id, customer.member_bank) if release else None
            if chosen is None:
                return None
            version = await self._version(app_id, chosen)
        except RegistryError:
            return None
        if not version.manifest.serves_member_bank(customer.member_bank):
            return None
        return app, version

    async def _app_state(self, app_id: str) -> tuple[App, Release | None]:
        if self._releases is None:
            return await self._registry.app_state(app_id)
        state = await self._releases.app_state(app_id)
        if state is None:
            raise RegistryError(ErrorCode.APP_NOT_FOUND, f"no mini-program {app_id!r}")
        return state

    async def _version(self, app_id: str, version: str) -> Version:
        if self._releases is None:
            return await self._registry.get_version(app_id, version)
        return await self._releases.version(app_id, version)

    async def grant(self, principal: Principal, app_id: str, scopes: Iterable[str]) -> Offer:
        offer = await self._require(principal, app_id)
        await self._consents.grant(
            _customer(principal),
            app_id,
            scopes,
            app_version=offer.version.version,
            requested=offer.manifest.scope_names,
        )
        return await self._require(principal, app_id)

    async def revoke(self, principal: Principal, app_id: str, scopes: Iterable[str] | None) -> Offer | None:
        customer = _customer(principal)
        try:
            app = await self._registry.get_app(app_id)
        except RegistryError:
            raise LaunchRefused("MINIPROGRAM_NOT_AVAILABLE", f"{app_id!r} is not available to you") from None
        await self._consents.revoke(customer, app_id, scopes)
        # After the consent change, so a token issued concurrently sees it (bridge_tokens.issue).
        await self._issuer.revoke_for(customer, app_id, app.partner_id)
        return await self.offer(principal, app_id)

    async def launch(self, principal: Principal, app_id: str) -> Launch:
        """Open the app with the scopes granted so far (none is fine): calls needing others are refused.

        As in other super-apps, consent is asked where it is needed: the app asks
        for `missing` before or during the run, and a new grant reaches the
        mini-program with its next bridge token.
        """
        offer = await self._require(principal, app_id)
        manifest = offer.manifest
        issued = await self._issuer.issue(principal, app_id, offer.app.partner_id, offer.granted)
        base = f"{self._origins.public_url}/miniprograms/bundles/{offer.version.bundle_sha256}/"
        csp = content_security_policy(
            manifest.network_domains, self._origins.bridge_origin, self._origins.host_origins
        )
        return Launch(
            app_id=app_id,
            version=offer.version.version,
            bundle_url=base,
            entry_url=base + manifest.entry_page,
            content_security_policy=csp,
            bridge_token=issued.token,
            expires_at=issued.expires_at,
            scopes=issued.scopes,
            missing=offer.missing,
        )

    async def access_log(self, principal: Principal, limit: int) -> list[AccessEntry]:
        return await self._access_log.read(_customer(principal), limit=limit)

    async def _require(self, principal: Principal, app_id: str) -> Offer:
        offer = await self.offer(principal, app_id)
        if offer is None:
            raise LaunchRefused("MINIPROGRAM_NOT_AVAILABLE", f"{app_id!r} is not available to you")
        return offer


def _customer(principal: Principal) -> CustomerScope:
    scope = principal.customer_scope
    if scope is None:
        raise LaunchRefused("CUSTOMERS_ONLY", "mini-programs are launched by customers")
    return scope
