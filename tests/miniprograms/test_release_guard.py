"""The release guard over a real Redis and the real bridge routes: bad versions halt themselves."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bff.channels.errors import ChannelFailure, FailureReason
from bff.channels.models import CustomerProfile, CustomerScope
from bff.miniprograms.access_log import AccessLog
from bff.miniprograms.bridge_api import ProfileSource, bridge_routes
from bff.miniprograms.bridge_tokens import BridgeTokenIssuer, BridgeTokenVerifier
from bff.miniprograms.consent import ConsentStore
from bff.miniprograms.host import HostOrigins, MiniProgramHost
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.miniprograms.manifest import ALL_MEMBER_BANKS
from bff.miniprograms.registry import AuditAction, MiniProgramRegistry, Release
from bff.miniprograms.release_cache import ReleaseCache
from bff.miniprograms.release_guard import ReleaseGuard, VersionHealth
from bff.miniprograms.rollout import bucket
from tests.miniprograms.test_bridge_api import (
    APIS,
    BASE,
    CUSTOMER,
    ISSUER,
    SCOPE,
    SCOPES,
    Parts,
    profile_source,
)
from tests.miniprograms.test_registry import PARTNER, approved
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 14
GOOD = {"amount": {"value": "12.50", "currency": "CNY"}, "description": "Parking, 2 hours"}
BAD = {**GOOD, "amount": {"value": "-1", "currency": "CNY"}}  # refused 400 BRIDGE_BAD_REQUEST


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
        host = MiniProgramHost(registry, consents, issuer, access_log, origins)
        yield Parts(client, registry, issuer, host, access_log)


def guard_for(parts: Parts, **options: Any) -> ReleaseGuard:
    return ReleaseGuard(parts.registry, parts.redis, **options)


@asynccontextmanager
async def bridge(
    parts: Parts, guard: ReleaseGuard, profiles: ProfileSource = profile_source
) -> AsyncIterator[httpx.AsyncClient]:
    """One BFF process's bridge with its own guard; its release cache sees every change at once."""
    cache = ReleaseCache(parts.registry, parts.redis, poll_interval_s=0)
    verifier = BridgeTokenVerifier(parts.redis, parts.issuer.public_keys(), ISSUER)
    routes = bridge_routes(verifier, cache, parts.access_log, parts.redis, profiles, guard=guard)
    transport = httpx.ASGITransport(app=Starlette(routes=routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://bff") as http:
        yield http


async def new_app(parts: Parts) -> str:
    app_id = f"com.parks.g{uuid.uuid4().hex[:10]}"
    await parts.registry.create_app(app_id, PARTNER, actor="admin")
    await approved(parts.registry, app_id, "1.0.0", scopes=SCOPES, apis=APIS)
    await parts.registry.release(app_id, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="admin")
    return app_id


async def new_version_released(parts: Parts, apis: list[dict[str, str]] = APIS) -> str:
    """1.0.0 fully released, then 1.1.0 to everyone: 1.0.0 is what a halt falls back to."""
    app_id = await new_app(parts)
    await approved(parts.registry, app_id, "1.1.0", scopes=SCOPES, apis=apis)
    release = await parts.registry.release(app_id, "1.1.0", 10_000, ALL_MEMBER_BANKS, actor="admin")
    assert (release.version, release.previous_version) == ("1.1.0", "1.0.0")
    return app_id


async def launched(parts: Parts, app_id: str) -> dict[str, str]:
    await parts.host.grant(CUSTOMER, app_id, [s["scope"] for s in SCOPES])
    launch = await parts.host.launch(CUSTOMER, app_id)
    return {"Authorization": f"Bearer {launch.bridge_token}"}


async def pay(http: httpx.AsyncClient, app_id: str, headers: dict[str, str], *, good: int, bad: int) -> None:
    """`good` payment intents the bridge accepts and `bad` ones it refuses as a bad request."""
    for body, status in [(GOOD, 201)] * good + [(BAD, 400)] * bad:
        answer = await http.post(f"{BASE}/{app_id}/payment/intents", headers=headers, json=body)
        assert answer.status_code == status, answer.text


async def release_of(parts: Parts, app_id: str) -> Release:
    release = await parts.registry.get_release(app_id)
    assert release is not None
    return release


async def until_halted(parts: Parts, app_id: str) -> Release:
    """The release once halted, polling every 20 ms for at most 5 s (then as it is)."""
    for _ in range(250):
        release = await release_of(parts, app_id)
        if release.halted:
            break
        await asyncio.sleep(0.02)
    return release


async def test_bad_calls_past_the_threshold_halt_the_release_and_customers_fall_back(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=33, bad=17)
        # Counting stays in process until the flush: no Redis write per call.
        assert await guard.health(app_id, "1.1.0") == VersionHealth(0, 0)
        assert not (await release_of(parts, app_id)).halted

        halted = await guard.flush()

        release = await release_of(parts, app_id)
        figures = "bridge error rate 34% (17 of 50 calls) over 60 s passed the 20% threshold"
        assert [(r.version, r.halted) for r in halted] == [("1.1.0", True)]
        assert (release.halted, release.halt_reason) == (True, figures)
        last = (await parts.registry.audit(app_id))[-1]
        assert (last.actor, last.action, last.version) == (
            "release-guard",
            AuditAction.RELEASE_HALTED,
            "1.1.0",
        )
        assert figures in last.note
        assert release.version_for(SCOPE.customer_id, SCOPE.member_bank) == "1.0.0"

        await pay(http, app_id, headers, good=1, bad=0)
        await guard.flush()
    # The next call was served by 1.0.0; the halted version's counts were dropped with the halt.
    assert await guard.health(app_id, "1.0.0") == VersionHealth(1, 0)
    assert await guard.health(app_id, "1.1.0") == VersionHealth(0, 0)


async def test_error_rate_under_the_threshold_does_not_halt(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=41, bad=9)
        assert await guard.flush() == []
    assert await guard.health(app_id, "1.1.0") == VersionHealth(50, 9)  # 18 %
    assert not (await release_of(parts, app_id)).halted


async def test_fewer_calls_than_the_minimum_never_halt(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=0, bad=49)
        assert await guard.flush() == []
    assert await guard.health(app_id, "1.1.0") == VersionHealth(49, 49)
    assert not (await release_of(parts, app_id)).halted


async def test_two_processes_each_below_the_minimum_halt_together(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    first, second = guard_for(parts, min_calls=20), guard_for(parts, min_calls=20)
    async with bridge(parts, first) as http_a, bridge(parts, second) as http_b:
        await pay(http_a, app_id, headers, good=0, bad=12)
        await pay(http_b, app_id, headers, good=0, bad=12)
        assert await first.flush() == []
        assert not (await release_of(parts, app_id)).halted
        assert len(await second.flush()) == 1
    release = await release_of(parts, app_id)
    assert release.halted
    assert release.halt_reason is not None
    assert "100% (24 of 24 calls)" in release.halt_reason


async def test_full_first_release_with_nothing_to_fall_back_to_is_never_halted(parts: Parts) -> None:
    app_id = await new_app(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=0, bad=50)
        assert await guard.flush() == []
    assert await guard.health(app_id, "1.0.0") == VersionHealth(50, 50)
    release = await release_of(parts, app_id)
    assert (release.previous_version, release.halted) == (None, False)


async def test_first_release_still_in_progress_is_halted(parts: Parts) -> None:
    app_id = f"com.parks.g{uuid.uuid4().hex[:10]}"
    while bucket(app_id, SCOPE.customer_id, SCOPE.member_bank) == 9_999:  # the customer must not be last
        app_id = f"com.parks.g{uuid.uuid4().hex[:10]}"
    await parts.registry.create_app(app_id, PARTNER, actor="admin")
    await approved(parts.registry, app_id, "1.0.0", scopes=SCOPES, apis=APIS)
    # Just wide enough to reach the test customer, and short of everyone.
    percent_bp = bucket(app_id, SCOPE.customer_id, SCOPE.member_bank) + 1
    await parts.registry.release(app_id, "1.0.0", percent_bp, ALL_MEMBER_BANKS, actor="admin")
    headers = await launched(parts, app_id)
    guard = guard_for(parts, min_calls=10)
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=0, bad=10)
        await guard.flush()
    assert (await release_of(parts, app_id)).halted


async def test_profile_source_unavailable_is_503_with_retry_after_and_counts(parts: Parts) -> None:
    async def unavailable(customer: CustomerScope) -> CustomerProfile:
        raise ChannelFailure("crm", "dc1", FailureReason.TIMEOUT, "no answer in 800 ms")

    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts, min_calls=3)
    async with bridge(parts, guard, unavailable) as http:
        answers = [await http.get(f"{BASE}/{app_id}/user/info", headers=headers) for _ in range(3)]
        assert len(await guard.flush()) == 1
    answer = answers[0]
    assert (answer.status_code, answer.json()["code"]) == (503, "BRIDGE_UPSTREAM_UNAVAILABLE")
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) >= 1
    assert "crm" not in answer.text  # the partner is not told which of the bank's services failed
    halted = await release_of(parts, app_id)
    assert halted.halt_reason is not None
    assert "100% (3 of 3 calls)" in halted.halt_reason


async def test_unexpected_exception_is_500_logged_and_counts(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(customer: CustomerScope) -> CustomerProfile:
        raise RuntimeError("profile mapping broke")

    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    caplog.set_level(logging.ERROR, logger="bff.miniprograms.bridge_api")
    async with bridge(parts, guard, broken) as http:
        answer = await http.get(f"{BASE}/{app_id}/user/phone-masked", headers=headers)
        await guard.flush()
    assert (answer.status_code, answer.json()["code"]) == (500, "BRIDGE_INTERNAL_ERROR")
    assert "profile mapping broke" not in answer.text
    logged = [r for r in caplog.records if r.name == "bff.miniprograms.bridge_api"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == "profile mapping broke"
    assert await guard.health(app_id, "1.1.0") == VersionHealth(1, 1)


async def test_undeclared_api_counts_against_the_version_that_lacks_it(parts: Parts) -> None:
    without_journeys = [api for api in APIS if api["api"] != "journey.open"]
    app_id = await new_version_released(parts, apis=without_journeys)
    headers = await launched(parts, app_id)
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        answer = await http.post(f"{BASE}/{app_id}/journeys", headers=headers, json={"journeyType": "x"})
        await guard.flush()
    assert (answer.status_code, answer.json()["code"]) == (403, "BRIDGE_API_NOT_DECLARED")
    assert await guard.health(app_id, "1.1.0") == VersionHealth(1, 1)


async def test_refusals_that_are_not_the_versions_fault_are_calls_but_not_errors(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    narrow = await parts.issuer.issue(CUSTOMER, app_id, PARTNER, {"profile.name"})
    guard = guard_for(parts)
    async with bridge(parts, guard) as http:
        missing = await http.get(f"{BASE}/{app_id}/storage/nothing", headers=headers)
        no_scope = await http.get(
            f"{BASE}/{app_id}/user/phone-masked", headers={"Authorization": f"Bearer {narrow.token}"}
        )
        no_token = await http.get(f"{BASE}/{app_id}/user/info")
        await parts.registry.suspend(app_id, None, actor="admin", reason="drill")
        suspended = await http.get(f"{BASE}/{app_id}/user/info", headers=headers)
        await guard.flush()
    assert [a.json()["code"] for a in (missing, no_scope, no_token, suspended)] == [
        "STORAGE_KEY_NOT_FOUND",
        "BRIDGE_SCOPE_MISSING",
        "BRIDGE_TOKEN_MISSING",
        "APP_SUSPENDED",
    ]
    # The token and suspension refusals came before any version was resolved: not even calls.
    assert await guard.health(app_id, "1.1.0") == VersionHealth(2, 0)


async def test_calls_older_than_the_window_do_not_count(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    now = [time.time()]
    guard = guard_for(parts, clock=lambda: now[0])
    async with bridge(parts, guard) as http:
        await pay(http, app_id, headers, good=0, bad=45)
        assert await guard.flush() == []
        now[0] += 70  # past the 60 s window
        await pay(http, app_id, headers, good=0, bad=10)
        assert await guard.flush() == []  # 55 bad calls in all, but only 10 in the window
    assert await guard.health(app_id, "1.1.0") == VersionHealth(10, 10)
    assert not (await release_of(parts, app_id)).halted


async def test_errors_of_a_version_no_longer_released_leave_the_release_alone(parts: Parts) -> None:
    app_id = await new_version_released(parts)
    guard = guard_for(parts)
    for _ in range(50):
        guard.observe(app_id, "1.0.0", failed=True)  # e.g. a process still serving the old version
    assert await guard.flush() == []
    release = await release_of(parts, app_id)
    assert (release.version, release.halted) == ("1.1.0", False)


async def test_release_halted_by_another_process_in_between_is_left_alone(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    app_id = await new_version_released(parts)
    before = await release_of(parts, app_id)

    class Stale(MiniProgramRegistry):
        async def get_release(self, app_id: str) -> Release | None:
            return before  # what this process read just before another one halted the release

    await parts.registry.halt(app_id, "halted by another process", actor="release-guard")
    guard = ReleaseGuard(Stale(parts.redis), parts.redis, min_calls=5)
    for _ in range(5):
        guard.observe(app_id, "1.1.0", failed=True)
    caplog.set_level(logging.INFO, logger="bff.miniprograms.release_guard")
    assert await guard.flush() == []
    halts = [e for e in await parts.registry.audit(app_id) if e.action is AuditAction.RELEASE_HALTED]
    assert [e.note for e in halts] == ["halted by another process; customers fall back to 1.0.0"]
    assert "already halted" in caplog.text


async def test_started_guard_flushes_in_the_background_and_stops(
    parts: Parts, caplog: pytest.LogCaptureFixture
) -> None:
    app_id = await new_version_released(parts)
    headers = await launched(parts, app_id)
    guard = guard_for(parts, flush_interval_s=0.02)
    caplog.set_level(logging.WARNING, logger="bff.miniprograms.release_guard")
    await guard.start()
    try:
        async with bridge(parts, guard) as http:
            await pay(http, app_id, headers, good=0, bad=50)
        release = await until_halted(parts, app_id)
    finally:
        await guard.stop()
    await guard.stop()  # stopping twice is harmless
    assert release.halted
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "release guard halted" in caplog.text
