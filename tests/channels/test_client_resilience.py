"""The channel client against the real simulators, with faults injected over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from bff.channels.breaker import BreakerState
from bff.channels.call import Call, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelFailure, FailureReason
from bff.channels.metrics import ChannelMetrics
from bff.channels.registry import Registry
from bff.channels.request_id import current_request_id
from bff.channels.timing import request_deadline
from tests.support.sim_control import SimControl
from tests.support.tuning import FakeClock, tuned

CUSTOMER = "RCB001-00042"
READ = Call("GET", f"/v1/customers/{CUSTOMER}", "crm.profile", True, headers={"X-Member-Bank": "RCB001"})
# A POST the caller declares non-idempotent: the client must send it at most once.
WRITE = Call(
    "POST", "/v1/customers:batchGet", "crm.batch", False, json={"memberBank": "RCB001", "ids": [CUSTOMER]}
)


def served_by(reply: Reply) -> str:
    assert reply.json()["customerId"] == CUSTOMER
    return reply.data_centre


def attempts(control: SimControl, service: str = "crm") -> int:
    stats = control.stats()
    return int(stats[f"{service}/dc-a"]["requests"]) + int(stats[f"{service}/dc-b"]["requests"])


@asynccontextmanager
async def client_for(registry: Registry, **kwargs: Any) -> AsyncIterator[ChannelClient]:
    client = ChannelClient(registry, **kwargs)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


def counter(metrics: CollectorRegistry, dc: str, outcome: str) -> float:
    labels = {"service": "crm", "data_centre": dc, "outcome": outcome}
    return metrics.get_sample_value("bff_downstream_requests_total", labels) or 0.0


async def test_healthy_call_returns_decoded_value_and_propagates_request_id(
    channel_client: ChannelClient,
) -> None:
    token = current_request_id.set("req-test-123")
    try:
        echoed = await channel_client.call("crm", READ, lambda r: r.headers.get("X-Request-ID"))
    finally:
        current_request_id.reset(token)
    assert echoed == "req-test-123"


async def test_timeout_is_enforced_on_a_slow_service(registry: Registry, sim_control: SimControl) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("crm", dc, latency_ms=3000)
    fast = tuned(registry, "crm", timeout_ms=150, deadline_ms=400)
    async with client_for(fast) as client:
        started = time.monotonic()
        with pytest.raises(ChannelFailure) as caught:
            await client.call("crm", READ, served_by)
        waited = time.monotonic() - started
    assert caught.value.reason is FailureReason.TIMEOUT
    assert caught.value.service == "crm"
    assert waited < 2.0, "the call gave up long before the service's 3 s answer"


async def test_slow_body_past_the_timeout_is_a_timeout(registry: Registry, sim_control: SimControl) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("crm", dc, slow_body_ms=3000)
    fast = tuned(registry, "crm", timeout_ms=200, deadline_ms=200)
    async with client_for(fast) as client:
        with pytest.raises(ChannelFailure) as caught:
            await client.call("crm", READ, served_by)
    assert caught.value.reason is FailureReason.TIMEOUT


@pytest.mark.parametrize("fault", ["error_rate", "reset_rate", "latency_ms"])
async def test_non_idempotent_call_is_sent_exactly_once(
    registry: Registry, sim_control: SimControl, fault: str
) -> None:
    value = 2000 if fault == "latency_ms" else 1
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("crm", dc, **{fault: value})
    sim_control.reset_stats()
    short = tuned(registry, "crm", timeout_ms=200, deadline_ms=1000)
    async with client_for(short) as client:
        with pytest.raises(ChannelFailure):
            await client.call("crm", WRITE, lambda r: r.json())
    assert attempts(sim_control) == 1


async def test_idempotent_call_is_retried_on_the_other_data_centre(
    registry: Registry, sim_control: SimControl
) -> None:
    sim_control.set_faults("crm", "dc-a", error_rate=1)
    sim_control.reset_stats()
    async with client_for(registry) as client:
        served = [await client.call("crm", READ, served_by) for _ in range(20)]
    assert served == ["dc-b"] * 20
    stats = sim_control.stats()
    assert stats["crm/dc-a"]["injected_errors"] >= 1, "some calls went to dc-a first and were retried"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"error_rate": 1}, FailureReason.SERVER_ERROR),
        ({"malformed_rate": 1}, FailureReason.MALFORMED),
        ({"reset_rate": 1}, FailureReason.RESET),
        ({"down": True}, FailureReason.CONNECT),
    ],
)
async def test_each_failure_becomes_the_typed_channel_error(
    registry: Registry, sim_control: SimControl, fault: dict[str, Any], reason: FailureReason
) -> None:
    sim_control.set_faults("crm", "dc-a", **fault)
    single = tuned(registry, "crm", only_dc="dc-a", retry={"attempts": 1})
    async with client_for(single) as client:
        with pytest.raises(ChannelFailure) as caught:
            await client.call("crm", READ, served_by)
    failure = caught.value
    assert failure.reason is reason
    assert (failure.service, failure.data_centre) == ("crm", "dc-a")
    assert "crm (dc-a) unavailable" in str(failure)


async def test_breaker_opens_at_threshold_then_half_opens(
    registry: Registry, sim_control: SimControl
) -> None:
    sim_control.set_faults("crm", "dc-a", error_rate=1)
    sim_control.reset_stats()
    clock = FakeClock()
    single = tuned(
        registry,
        "crm",
        only_dc="dc-a",
        retry={"attempts": 1},
        breaker={"failure_threshold": 3, "open_ms": 500},
    )
    async with client_for(single, clock=clock) as client:
        for _ in range(3):
            with pytest.raises(ChannelFailure, match="server_error"):
                await client.call("crm", READ, served_by)
        assert client.breaker_states()[("crm", "dc-a")] is BreakerState.OPEN
        with pytest.raises(ChannelFailure) as caught:
            await client.call("crm", READ, served_by)
        assert caught.value.reason is FailureReason.BREAKER_OPEN
        assert attempts(sim_control) == 3, "an open breaker sends nothing"

        clock.advance(0.5)
        assert client.breaker_states()[("crm", "dc-a")] is BreakerState.HALF_OPEN
        sim_control.clear_faults()
        assert await client.call("crm", READ, served_by) == "dc-a"
        assert client.breaker_states()[("crm", "dc-a")] is BreakerState.CLOSED


async def test_dead_data_centre_fails_over_and_gets_traffic_back_when_healed(
    registry: Registry, sim_control: SimControl
) -> None:
    metrics = CollectorRegistry()
    async with client_for(registry, metrics=ChannelMetrics(metrics)) as client:
        await asyncio.gather(*(client.call("crm", READ, served_by) for _ in range(10)))  # warm both pools
        sim_control.set_faults("crm", "dc-a", down=True)
        started = time.monotonic()
        served = [await client.call("crm", READ, served_by) for _ in range(1000)]
        elapsed = time.monotonic() - started
        assert served == ["dc-b"] * 1000
        assert client.breaker_states()[("crm", "dc-a")] in (BreakerState.OPEN, BreakerState.HALF_OPEN)
        failed_on_a = sum(counter(metrics, "dc-a", o) for o in ("connect_failed", "connection_reset"))
        # The threshold's worth of failures, then one probe per open period (1 s).
        assert failed_on_a <= 5 + elapsed / 1.0 + 1

        sim_control.set_faults("crm", "dc-a", down=False)
        served_after = await _serve_until(client, lambda seen: "dc-a" in seen, limit_s=3.0)
    assert "dc-a" in served_after
    assert client.breaker_states()[("crm", "dc-a")] is BreakerState.CLOSED


async def _serve_until(client: ChannelClient, done: Callable[[set[str]], bool], limit_s: float) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and not done(seen):
        seen.add(await client.call("crm", READ, served_by))
        await asyncio.sleep(0.01)
    return seen


async def test_bulkhead_limits_concurrent_calls(registry: Registry, sim_control: SimControl) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("crm", dc, latency_ms=300)
    narrow = tuned(registry, "crm", concurrency=2, queue_timeout_ms=50)
    async with client_for(narrow) as client:
        results = await asyncio.gather(
            *(client.call("crm", READ, served_by) for _ in range(6)), return_exceptions=True
        )
    refused = [r for r in results if isinstance(r, ChannelFailure)]
    assert len(refused) == 4
    assert all(r.reason is FailureReason.BULKHEAD_FULL for r in refused)
    assert sum(isinstance(r, str) for r in results) == 2


async def test_oauth_token_is_reused_and_refreshed_after_revocation(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    for _ in range(5):
        await channel_client.call("crm", READ, served_by)
    source = channel_client.token_source("crm")
    assert source is not None
    assert source.fetches == 1
    sim_control.revoke_tokens()
    assert await channel_client.call("crm", READ, served_by) in ("dc-a", "dc-b")
    assert source.fetches == 2


async def test_unknown_service_is_a_clear_error(channel_client: ChannelClient) -> None:
    with pytest.raises(ValueError, match="unknown downstream service 'nope'"):
        await channel_client.call("nope", READ, served_by)


async def test_traffic_follows_data_centre_weights(registry: Registry, sim_control: SimControl) -> None:
    spec = registry["crm"]
    heavy_a = tuned(
        registry,
        "crm",
        data_centres=(
            replace(spec.data_centre("dc-a"), weight=90),
            replace(spec.data_centre("dc-b"), weight=10),
        ),
    )
    async with client_for(heavy_a) as client:
        served = [await client.call("crm", READ, served_by) for _ in range(400)]
    share_a = served.count("dc-a") / len(served)
    assert 0.8 < share_a < 0.97


async def test_request_budget_cuts_calls_short_without_tripping_breakers(
    registry: Registry, sim_control: SimControl
) -> None:
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("crm", dc, latency_ms=3000)
    patient = tuned(registry, "crm", timeout_ms=2500, deadline_ms=2900, breaker={"failure_threshold": 1})
    async with client_for(patient) as client:
        budget = request_deadline.set(time.monotonic() + 0.3)
        try:
            started = time.monotonic()
            with pytest.raises(ChannelFailure) as caught:
                await client.call("crm", READ, served_by)
            waited = time.monotonic() - started
        finally:
            request_deadline.reset(budget)
        states = client.breaker_states()
    assert caught.value.reason is FailureReason.TIMEOUT
    assert waited < 1.5, "the request's budget, not the service's 2.5 s timeout, bounded the wait"
    assert states[("crm", "dc-a")] is BreakerState.CLOSED
    assert states[("crm", "dc-b")] is BreakerState.CLOSED


async def test_a_cookie_set_by_a_service_never_rides_on_a_later_call() -> None:
    """One client serves every customer, so a downstream cookie must not reach another customer's call."""
    from aiohttp import web

    from bff.channels.registry import load_registry

    seen: list[str | None] = []

    async def profile(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.json_response({"customerId": CUSTOMER})
        response.set_cookie("session", "customer-one-secret")
        return response

    app = web.Application()
    app.router.add_get(f"/v1/customers/{CUSTOMER}", profile)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        # By name: cookie jars keep nothing for a bare IP address, but production's services have names.
        base = f"http://localhost:{port}"
        # wealth: a service without OAuth, so the only server involved is this one.
        registry = load_registry().with_endpoints({"services": {"wealth": {"dc-a": base, "dc-b": base}}})
        async with client_for(registry) as client:
            for _ in range(3):
                await client.call("wealth", READ, served_by)
    finally:
        await runner.cleanup()
    assert seen == [None, None, None]
