"""The bridge API over a real Redis: the gate every call passes, each API, and the kill switch across processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from bff.auth.principal import Principal, Role
from bff.channels.models import CustomerProfile, CustomerScope
from bff.miniprograms.access_log import AccessLog
from bff.miniprograms.bridge_api import bridge_routes
from bff.miniprograms.bridge_requests import intent_key
from bff.miniprograms.bridge_tokens import BridgeTokenIssuer, BridgeTokenVerifier
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.host import HostOrigins, MiniProgramHost
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.miniprograms.manifest import ALL_MEMBER_BANKS
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.release_cache import KillSwitch, ReleaseCache, watch_kill_switch
from tests.miniprograms.test_registry import PARTNER, approved
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 13
ISSUER = "https://bff.test/miniprogram"
CUSTOMER = Principal("RCB001-00042", "RCB001", frozenset({Role.CUSTOMER}), frozenset(), None, 9e9)
SCOPE = CustomerScope("RCB001-00042", "RCB001")
BASE = "/miniprogram/bridge/v1"
SCOPES = [
    {"scope": "profile.name", "purpose": "Greet you by name"},
    {"scope": "phone.masked", "purpose": "Call you back"},
    {"scope": "payments.initiate", "purpose": "Pay your parking"},
]
APIS = [
    {"api": api, "purpose": "Park services"}
    for api in (
        "user.info",
        "user.phoneMasked",
        "payment.request",
        "storage.get",
        "storage.set",
        "storage.remove",
        "journey.open",
    )
]


async def profile_source(customer: CustomerScope) -> CustomerProfile:
    # The in-process stand-in for the CRM channel, the only dependency faked here.
    return CustomerProfile(
        customer.customer_id,
        customer.member_bank,
        "Li Wei",
        41,
        "urban",
        "mass",
        "zh",
        "13812345678",
        date(2015, 3, 1),
    )


@dataclass
class Parts:
    redis: aioredis.Redis
    registry: MiniProgramRegistry
    issuer: BridgeTokenIssuer
    host: MiniProgramHost
    access_log: AccessLog


@pytest.fixture
async def parts(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Parts]:
    async with redis_db(redis_server, DB) as client:
        key = load_or_create_bridge_key(tmp_path / "bridge-key.json")
        secret = load_or_create_secret(tmp_path / "pairwise")
        consents = ConsentStore(client)
        issuer = BridgeTokenIssuer(client, consents, key, ISSUER, pairwise_secret=secret)
        registry = MiniProgramRegistry(client)
        origins = HostOrigins("https://bff.test", "https://bff.test", ("https://app.test",))
        access_log = AccessLog(client)
        yield Parts(
            client,
            registry,
            issuer,
            MiniProgramHost(registry, consents, issuer, access_log, origins),
            access_log,
        )


@asynccontextmanager
async def bridge(
    parts: Parts,
    *,
    verifier: BridgeTokenVerifier | None = None,
    listen: bool = True,
    kill_switch: bool = False,
) -> AsyncIterator[httpx.AsyncClient]:
    """One BFF process's bridge: its own release cache (and listener) over the shared Redis."""
    cache = ReleaseCache(parts.registry, parts.redis)
    if kill_switch:
        watch_kill_switch(cache, KillSwitch(parts.registry, parts.issuer))
    verifier = verifier or BridgeTokenVerifier(parts.redis, parts.issuer.public_keys(), ISSUER)
    routes = bridge_routes(verifier, cache, parts.access_log, parts.redis, profile_source)
    if listen:
        await cache.start()
    try:
        transport = httpx.ASGITransport(app=Starlette(routes=routes))
        async with httpx.AsyncClient(transport=transport, base_url="http://bff") as http:
            yield http
    finally:
        await cache.stop()


async def released_app(parts: Parts) -> str:
    app_id = f"com.parks.b{uuid.uuid4().hex[:10]}"
    await parts.registry.create_app(app_id, PARTNER, actor="admin")
    await approved(parts.registry, app_id, "1.0.0", scopes=SCOPES, apis=APIS)
    await parts.registry.release(app_id, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="admin")
    return app_id


async def launched(parts: Parts, app_id: str) -> dict[str, str]:
    """A consented customer launches the app; the headers its mini-program calls the bridge with."""
    await parts.host.grant(CUSTOMER, app_id, [s["scope"] for s in SCOPES])
    launch = await parts.host.launch(CUSTOMER, app_id)
    return {"Authorization": f"Bearer {launch.bridge_token}"}


async def test_consented_api_answers_and_is_written_to_the_access_log(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    async with bridge(parts) as http:
        info = await http.get(f"{BASE}/{app_id}/user/info", headers=headers)
        phone = await http.get(f"{BASE}/{app_id}/user/phone-masked", headers=headers)
    assert info.status_code == 200
    assert info.json() == {"name": "Li Wei"}  # only profile.name was requested and granted
    assert phone.json() == {"phoneMasked": "138****5678"}
    logged = [(e.app_id, e.api, e.scope) for e in await parts.access_log.read(SCOPE)]
    assert logged == [(app_id, "user.phoneMasked", "phone.masked"), (app_id, "user.info", "profile.name")]


async def test_api_whose_scope_the_token_lacks_is_refused_with_scope_missing(parts: Parts) -> None:
    app_id = await released_app(parts)
    await launched(parts, app_id)
    narrow = await parts.issuer.issue(CUSTOMER, app_id, PARTNER, {"profile.name"})
    async with bridge(parts) as http:
        answer = await http.get(
            f"{BASE}/{app_id}/user/phone-masked", headers={"Authorization": f"Bearer {narrow.token}"}
        )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "BRIDGE_SCOPE_MISSING"
    assert await parts.access_log.read(SCOPE) == []


async def test_token_of_one_app_on_another_apps_path_is_refused_as_wrong_audience(parts: Parts) -> None:
    app_a, app_b = await released_app(parts), await released_app(parts)
    headers_a = await launched(parts, app_a)
    async with bridge(parts) as http:
        answer = await http.get(f"{BASE}/{app_b}/user/info", headers=headers_a)
    assert answer.status_code == 401
    assert answer.json()["code"] == "BRIDGE_TOKEN_WRONG_AUDIENCE"
    assert "invalid_token" in answer.headers["www-authenticate"]


async def test_expired_or_missing_token_is_refused_with_401(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    later = BridgeTokenVerifier(
        parts.redis, parts.issuer.public_keys(), ISSUER, clock=lambda: time.time() + 3600
    )
    async with bridge(parts, verifier=later) as http:
        expired = await http.get(f"{BASE}/{app_id}/user/info", headers=headers)
        missing = await http.get(f"{BASE}/{app_id}/user/info")
    assert (expired.status_code, expired.json()["code"]) == (401, "BRIDGE_TOKEN_EXPIRED")
    assert (missing.status_code, missing.json()["code"]) == (401, "BRIDGE_TOKEN_MISSING")


async def test_calls_beyond_the_per_customer_limit_get_429_with_retry_after(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    async with bridge(parts) as http:
        statuses = [(await http.get(f"{BASE}/{app_id}/storage/k", headers=headers)) for _ in range(61)]
    assert {r.status_code for r in statuses[:60]} == {404}  # 60 per minute in the manifest, nothing stored
    refused = statuses[60]
    assert refused.status_code == 429
    assert refused.json()["code"] == "BRIDGE_RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_storage_round_trips_and_enforces_value_size_and_quota(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    url = f"{BASE}/{app_id}/storage"
    async with bridge(parts) as http:
        assert (await http.put(f"{url}/plate", headers=headers, json={"value": "B-123"})).status_code == 204
        assert (await http.get(f"{url}/plate", headers=headers)).json() == {"key": "plate", "value": "B-123"}
        assert (await http.delete(f"{url}/plate", headers=headers)).status_code == 204
        assert (await http.get(f"{url}/plate", headers=headers)).status_code == 404
        too_big = await http.put(f"{url}/big", headers=headers, json={"value": "x" * 4097})
        assert (too_big.status_code, too_big.json()["code"]) == (413, "STORAGE_VALUE_TOO_LARGE")
        for i in range(15):
            assert (
                await http.put(f"{url}/k{i}", headers=headers, json={"value": "x" * 4096})
            ).status_code == 204
        full = await http.put(f"{url}/k15", headers=headers, json={"value": "x" * 4096})
        assert (full.status_code, full.json()["code"]) == (409, "STORAGE_QUOTA_BYTES")
        bad_key = await http.put(f"{url}/a%20b", headers=headers, json={"value": "x"})
        assert (bad_key.status_code, bad_key.json()["code"]) == (400, "STORAGE_KEY_INVALID")


async def test_payment_request_creates_a_pending_intent_and_moves_no_money(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    body = {"amount": {"value": "12.50", "currency": "CNY"}, "description": "Parking, 2 hours"}
    async with bridge(parts) as http:
        created = await http.post(f"{BASE}/{app_id}/payment/intents", headers=headers, json=body)
        bad = await http.post(
            f"{BASE}/{app_id}/payment/intents", headers=headers, json={**body, "amount": {"value": "-1"}}
        )
    assert created.status_code == 201
    intent = created.json()
    assert intent["status"] == "pending_customer_confirmation"
    assert intent["amount"] == {"value": "12.50", "currency": "CNY"}
    stored = await parts.redis.hgetall(intent_key(SCOPE, intent["intentId"]))
    assert stored[b"status"] == b"pending_customer_confirmation"
    # No money moved: the bridge wrote only the intent (and the access log, consents, tokens, registry).
    assert not [k async for k in parts.redis.scan_iter("bff:*payment*")]
    assert (bad.status_code, bad.json()["code"]) == (400, "BRIDGE_BAD_REQUEST")


async def test_journey_open_is_recorded_and_accepted(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    async with bridge(parts) as http:
        answer = await http.post(
            f"{BASE}/{app_id}/journeys", headers=headers, json={"journeyType": "loan.apply"}
        )
    assert answer.status_code == 202
    assert answer.json()["status"] == "requested"


async def test_suspended_app_refuses_calls_with_an_existing_token(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    async with bridge(parts) as http:
        assert (await http.get(f"{BASE}/{app_id}/user/info", headers=headers)).status_code == 200
        await parts.registry.suspend(app_id, None, actor="admin", reason="kill switch drill")
        answer = await _until_refused(http, f"{BASE}/{app_id}/user/info", headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "APP_SUSPENDED")


async def test_kill_switch_revokes_live_tokens_of_a_suspended_app(parts: Parts) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    async with bridge(parts, kill_switch=True) as http:
        await http.get(f"{BASE}/{app_id}/user/info", headers=headers)
        await parts.registry.suspend(app_id, None, actor="admin", reason="kill switch drill")
        answer = await _until_refused(http, f"{BASE}/{app_id}/user/info", headers, want=401)
    assert answer.json()["code"] == "BRIDGE_TOKEN_REVOKED"


@pytest.mark.parametrize("listen", [True, False], ids=["pubsub", "poll-only"])
async def test_suspend_through_one_process_is_refused_by_another_within_a_second(
    parts: Parts, listen: bool
) -> None:
    app_id = await released_app(parts)
    headers = await launched(parts, app_id)
    url = f"{BASE}/{app_id}/user/info"
    async with bridge(parts) as first, bridge(parts, listen=listen) as second:
        # Both processes have the release cached before the suspension.
        assert (await first.get(url, headers=headers)).status_code == 200
        assert (await second.get(url, headers=headers)).status_code == 200
        await parts.registry.suspend(app_id, None, actor="admin", reason="incident")
        suspended_at = time.monotonic()
        answer = await _until_refused(second, url, headers)
        assert time.monotonic() - suspended_at < 1.0
    assert answer.json()["code"] == "APP_SUSPENDED"


async def _until_refused(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], want: int = 403
) -> httpx.Response:
    """Call every 50 ms until refused with `want`, for at most a second."""
    deadline = time.monotonic() + 1.0
    while True:
        answer = await http.get(url, headers=headers)
        if answer.status_code == want or time.monotonic() > deadline:
            assert answer.status_code == want, answer.text
            return answer
        await asyncio.sleep(0.05)
