"""The app's mini-program flow through GraphQL: catalog, consent, launch, revoke, kill switch."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bff.auth.principal import Principal, Role
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.graphql.context import RequestContext
from bff.graphql.schema import build_schema
from bff.miniprograms.access_log import AccessLog
from bff.miniprograms.bridge_tokens import BridgeTokenIssuer, BridgeTokenVerifier
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.host import HostOrigins, MiniProgramHost
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.miniprograms.manifest import ALL_MEMBER_BANKS
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.release_cache import ReleaseCache
from tests.miniprograms.test_registry import PARTNER, approved
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 12
CUSTOMER = Principal("RCB001-00042", "RCB001", frozenset({Role.CUSTOMER}), frozenset(), None, 9e9)
ISSUER = "https://bff.test/miniprogram"

CATALOG = "{ miniPrograms { appId version missingConsent scopes { scope granted } } }"
LAUNCH = """mutation($app: String!) { launchMiniProgram(appId: $app) {
  __typename
  ... on MiniProgramLaunch { entryUrl contentSecurityPolicy bridgeToken scopes missingConsent }
  ... on MiniProgramRefused { code missingConsent } } }"""
GRANT = """mutation($app: String!, $scopes: [String!]!) { grantMiniProgramConsent(appId: $app, scopes: $scopes) {
  __typename ... on MiniProgram { missingConsent } ... on MiniProgramRefused { code message } } }"""
REVOKE = """mutation($app: String!) { revokeMiniProgramConsent(appId: $app) { __typename } }"""


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
def registry_and_issuer(
    redis_client: aioredis.Redis, tmp_path: Path
) -> tuple[MiniProgramRegistry, BridgeTokenIssuer]:
    key = load_or_create_bridge_key(tmp_path / "bridge-key.json")
    secret = load_or_create_secret(tmp_path / "pairwise")
    issuer = BridgeTokenIssuer(redis_client, ConsentStore(redis_client), key, ISSUER, pairwise_secret=secret)
    return MiniProgramRegistry(redis_client), issuer


@pytest.fixture(params=["registry", "release-cache"])
def host_parts(
    request: pytest.FixtureRequest,
    redis_client: aioredis.Redis,
    registry_and_issuer: tuple[MiniProgramRegistry, BridgeTokenIssuer],
) -> tuple[MiniProgramHost, MiniProgramRegistry, BridgeTokenIssuer]:
    """The host reading the registry directly, and (as production does) through a release cache."""
    registry, issuer = registry_and_issuer
    # No listener and a long poll: only this process's own commits can refresh the cache.
    poll_s = 3600 if request.param == "release-cache" else None
    return host_over(registry, redis_client, issuer, poll_s), registry, issuer


def host_over(
    registry: MiniProgramRegistry,
    redis: aioredis.Redis,
    issuer: BridgeTokenIssuer,
    cache_poll_s: float | None,
) -> MiniProgramHost:
    """A host reading the registry directly (None), or through a release cache polling every `cache_poll_s`."""
    origins = HostOrigins("https://bff.test", "https://bff.test", ("https://app.test",))
    cache = ReleaseCache(registry, redis, poll_interval_s=cache_poll_s) if cache_poll_s is not None else None
    return MiniProgramHost(registry, ConsentStore(redis), issuer, AccessLog(redis), origins, cache)


async def released_app(registry: MiniProgramRegistry, banks: list[str] | None = None) -> str:
    app_id = f"com.parks.g{uuid.uuid4().hex[:10]}"
    await registry.create_app(app_id, PARTNER, actor="admin")
    await approved(registry, app_id, "1.0.0", banks=banks)
    release_to = frozenset(banks) if banks else ALL_MEMBER_BANKS
    await registry.release(app_id, "1.0.0", 10_000, release_to, actor="admin")
    return app_id


async def run(
    host: MiniProgramHost,
    client: ChannelClient,
    query: str,
    principal: Principal = CUSTOMER,
    **variables: Any,
) -> dict[str, Any]:
    context = RequestContext(principal, Channels.over(client), "req-test", host)
    result = await build_schema().execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


async def test_catalog_lists_released_app_with_the_consent_still_missing(
    host_parts: Any, channel_client: ChannelClient
) -> None:
    host, registry, _ = host_parts
    app_id = await released_app(registry)
    data = await run(host, channel_client, CATALOG)
    listed = [p for p in data["miniPrograms"] if p["appId"] == app_id]
    assert listed == [
        {
            "appId": app_id,
            "version": "1.0.0",
            "missingConsent": ["profile.name"],
            "scopes": [{"scope": "profile.name", "granted": False}],
        }
    ]


async def test_launch_carries_only_consented_scopes_and_names_the_missing_ones(
    host_parts: Any, channel_client: ChannelClient, redis_client: aioredis.Redis
) -> None:
    host, registry, issuer = host_parts
    app_id = await released_app(registry)
    unconsented = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]
    assert unconsented["__typename"] == "MiniProgramLaunch"
    assert (unconsented["scopes"], unconsented["missingConsent"]) == ([], ["profile.name"])
    assert (
        "scope" not in claims(unconsented["bridgeToken"]) or not claims(unconsented["bridgeToken"])["scope"]
    )

    granted = (await run(host, channel_client, GRANT, app=app_id, scopes=["profile.name"]))[
        "grantMiniProgramConsent"
    ]
    assert granted == {"__typename": "MiniProgram", "missingConsent": []}
    launch = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]
    assert launch["__typename"] == "MiniProgramLaunch"
    assert launch["entryUrl"].startswith("https://bff.test/miniprograms/bundles/")
    assert "connect-src https://bff.test https://api.parks.example.com" in launch["contentSecurityPolicy"]
    token_claims = claims(launch["bridgeToken"])
    assert token_claims["aud"] == app_id
    assert token_claims["scope"] == "profile.name"
    assert launch["missingConsent"] == []
    assert "RCB001-00042" not in json.dumps(token_claims)

    verifier = BridgeTokenVerifier(redis_client, issuer.public_keys(), ISSUER)
    session = await verifier.verify(launch["bridgeToken"], app_id)
    assert session.customer.customer_id == "RCB001-00042"


async def test_revoking_consent_kills_live_bridge_tokens(
    host_parts: Any, channel_client: ChannelClient, redis_client: aioredis.Redis
) -> None:
    host, registry, issuer = host_parts
    app_id = await released_app(registry)
    await run(host, channel_client, GRANT, app=app_id, scopes=["profile.name"])
    token = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]["bridgeToken"]
    await run(host, channel_client, REVOKE, app=app_id)
    verifier = BridgeTokenVerifier(redis_client, issuer.public_keys(), ISSUER)
    with pytest.raises(Exception, match="REVOKED"):
        await verifier.verify(token, app_id)
    again = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]
    assert (again["scopes"], again["missingConsent"]) == ([], ["profile.name"])


async def test_suspended_or_unserved_apps_are_left_out_and_cannot_launch(
    host_parts: Any, channel_client: ChannelClient
) -> None:
    host, registry, _ = host_parts
    suspended = await released_app(registry)
    other_bank_only = await released_app(registry, banks=["RCB002"])
    await registry.suspend(suspended, None, actor="admin", reason="kill switch drill")
    listed = {p["appId"] for p in (await run(host, channel_client, CATALOG))["miniPrograms"]}
    assert suspended not in listed
    assert other_bank_only not in listed
    for app_id in (suspended, other_bank_only):
        refused = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]
        assert refused["code"] == "MINIPROGRAM_NOT_AVAILABLE"


async def test_granting_a_scope_the_app_does_not_ask_for_is_refused_as_data(
    host_parts: Any, channel_client: ChannelClient
) -> None:
    host, registry, _ = host_parts
    app_id = await released_app(registry)
    answer = (await run(host, channel_client, GRANT, app=app_id, scopes=["payments.initiate"]))[
        "grantMiniProgramConsent"
    ]
    assert answer["__typename"] == "MiniProgramRefused"
    assert answer["code"] == "CONSENT_SCOPE_NOT_REQUESTED"


@pytest.mark.parametrize("cached", [False, True], ids=["registry", "release-cache"])
async def test_home_screen_tiles_name_only_the_apps_this_customer_gets(
    host_parts: Any, redis_client: aioredis.Redis, cached: bool
) -> None:
    host, registry, issuer = host_parts
    if cached:
        host = host_over(registry, redis_client, issuer, cache_poll_s=0.5)
    shown, suspended = await released_app(registry), await released_app(registry)
    other_bank_only = await released_app(registry, banks=["RCB002"])
    await registry.suspend(suspended, None, actor="admin", reason="kill switch drill")
    asked = [shown, suspended, other_bank_only, "com.never.released"]
    assert await host.names_available(CUSTOMER, asked, "en") == {shown: "Park services"}


async def test_a_warm_release_cache_sees_this_process_s_suspension_at_once(
    host_parts: Any, channel_client: ChannelClient
) -> None:
    host, registry, _ = host_parts
    app_id = await released_app(registry)
    before = await run(host, channel_client, CATALOG)
    assert app_id in [p["appId"] for p in before["miniPrograms"]]
    await registry.suspend(app_id, None, actor="admin", reason="kill switch drill")
    after = await run(host, channel_client, CATALOG)
    assert app_id not in [p["appId"] for p in after["miniPrograms"]]
    refused = (await run(host, channel_client, LAUNCH, app=app_id))["launchMiniProgram"]
    assert refused["code"] == "MINIPROGRAM_NOT_AVAILABLE"


async def test_the_release_cache_sees_another_process_s_release_by_the_generation_poll(
    registry_and_issuer: Any, redis_client: aioredis.Redis, channel_client: ChannelClient
) -> None:
    registry, issuer = registry_and_issuer
    host = host_over(registry, redis_client, issuer, cache_poll_s=0)
    app_id = await released_app(registry)
    assert app_id in [p["appId"] for p in (await run(host, channel_client, CATALOG))["miniPrograms"]]
    # Another worker's registry: its commits reach this cache only through Redis.
    await MiniProgramRegistry(redis_client).suspend(app_id, None, actor="admin", reason="drill")
    assert app_id not in [p["appId"] for p in (await run(host, channel_client, CATALOG))["miniPrograms"]]


async def test_a_warm_catalogue_reads_no_registry_records(
    registry_and_issuer: Any,
    redis_client: aioredis.Redis,
    channel_client: ChannelClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry, issuer = registry_and_issuer
    host = host_over(registry, redis_client, issuer, cache_poll_s=3600)
    app_id = await released_app(registry)
    await run(host, channel_client, CATALOG)
    reads: list[str] = []
    for name in ("app_ids", "app_state", "get_version", "get_app", "get_release", "list_apps"):
        original = getattr(registry, name)

        def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            reads.append(_name)
            return _original(*args)

        monkeypatch.setattr(registry, name, counted)
    listed = (await run(host, channel_client, CATALOG))["miniPrograms"]
    assert app_id in [p["appId"] for p in listed]
    assert reads == []
