"""Builds the mini-program host's parts from settings: the app factory calls only this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import ECKey
from starlette.routing import BaseRoute

from bff.auth.validator import TokenValidator
from bff.miniprograms.access_log import AccessLog
from bff.miniprograms.bridge_api import ProfileSource, bridge_routes
from bff.miniprograms.bridge_tokens import BridgeTokenIssuer, BridgeTokenVerifier
from bff.miniprograms.bundle_index import BundleIndex
from bff.miniprograms.bundle_serving import bundle_routes
from bff.miniprograms.bundles import DirectoryBundleStore
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.host import HostOrigins, MiniProgramHost
from bff.miniprograms.host_keys import load_bridge_key, load_or_create_bridge_key, load_or_create_secret
from bff.miniprograms.partner_api import partner_routes
from bff.miniprograms.partner_keys import PartnerKeys
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.release_cache import KillSwitch, ReleaseCache, watch_kill_switch
from bff.miniprograms.release_guard import ReleaseGuard
from bff.miniprograms.simulator_page import simulator_routes
from bff.settings import Settings
from bff.store.client import RedisClient

DEV_SECRETS_DIR = Path("var/dev-secrets")


class HostSecretsMissing(RuntimeError):
    """Production needs the host's own secrets; the message names the settings."""


@dataclass(frozen=True, slots=True)
class MiniProgramParts:
    host: MiniProgramHost
    routes: list[BaseRoute]
    releases: ReleaseCache
    guard: ReleaseGuard

    async def start(self) -> None:
        await self.releases.start()
        await self.guard.start()

    async def stop(self) -> None:
        await self.guard.stop()
        await self.releases.stop()


def build_miniprograms(
    settings: Settings, redis: RedisClient, validator: TokenValidator, profile_source: ProfileSource
) -> MiniProgramParts:
    """The app's host, the partner API, bundle serving and the bridge, over one Redis."""
    key, secret = _host_secrets(settings)
    registry = MiniProgramRegistry(redis)
    consents = ConsentStore(redis)
    access_log = AccessLog(redis)
    issuer = BridgeTokenIssuer(redis, consents, key, settings.bridge_issuer, pairwise_secret=secret)
    public_url = settings.public_url.rstrip("/")
    origins = HostOrigins(public_url, public_url, settings.miniprogram_host_origins)
    releases = ReleaseCache(registry, redis)
    # Suspending an app also ends its live bridge tokens, in every process that hears of it.
    watch_kill_switch(releases, KillSwitch(registry, issuer))
    store, index = DirectoryBundleStore(settings.miniprogram_bundle_dir), BundleIndex(redis)
    verifier = BridgeTokenVerifier(redis, issuer.public_keys(), settings.bridge_issuer)
    guard = ReleaseGuard(
        registry,
        redis,
        threshold=settings.miniprogram_halt_error_rate,
        min_calls=settings.miniprogram_halt_min_calls,
        window_s=settings.miniprogram_halt_window_s,
    )
    routes = [
        *partner_routes(
            registry,
            store,
            PartnerKeys(redis),
            validator,
            index,
            max_upload_bytes=settings.partner_max_upload_bytes,
        ),
        *bundle_routes(registry, store, index, public_url, settings.miniprogram_host_origins),
        *bridge_routes(verifier, releases, access_log, redis, profile_source, guard=guard),
    ]
    if settings.simulator_enabled:
        routes += simulator_routes()
    host = MiniProgramHost(registry, consents, issuer, access_log, origins, releases)
    return MiniProgramParts(host, routes, releases, guard)


def _host_secrets(settings: Settings) -> tuple[ECKey, bytes]:
    key_file, secret_file = settings.bridge_signing_key_file, settings.pairwise_secret_file
    if key_file is not None and secret_file is not None:
        return load_bridge_key(key_file), bytes.fromhex(secret_file.read_text().strip())
    if settings.development:
        key = load_or_create_bridge_key(DEV_SECRETS_DIR / "bridge-key.json")
        return key, load_or_create_secret(DEV_SECRETS_DIR / "pairwise-secret")
    raise HostSecretsMissing(
        "set BFF_BRIDGE_SIGNING_KEY_FILE and BFF_PAIRWISE_SECRET_FILE (the host's secrets)"
    )
