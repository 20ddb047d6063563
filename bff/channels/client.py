"""The pooled downstream client: routing, timeouts, retries, breakers, bulkheads, auth.

Adapters describe a request as a `Call` and pass a `decode` function; the
client returns the decoded domain value or raises a `ChannelError`. Decoding
happens inside the attempt so that a malformed body counts against the data
centre's breaker and is retried like any other failure.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar
from xml.etree.ElementTree import ParseError

import aiohttp

from bff.channels.auth import ClientCredentialsToken, TokenUnavailable
from bff.channels.breaker import Breaker, BreakerState
from bff.channels.bulkhead import Bulkhead, BulkheadFull
from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.errors import ChannelFailure, ChannelRejected, FailureReason
from bff.channels.metrics import ChannelMetrics
from bff.channels.registry import DataCentre, Registry, ServiceSpec
from bff.channels.request_id import HEADER as REQUEST_ID_HEADER
from bff.channels.request_id import request_id
from bff.channels.retry import RetryBudget, backoff_seconds
from bff.channels.timing import current_timing, request_deadline

T = TypeVar("T")

LATENCY_SMOOTHING = 0.2

# What a decoder may raise on a body it cannot read (json, xml, missing keys, bad numbers).
_DECODE_ERRORS = (MalformedBody, ValueError, KeyError, TypeError, AttributeError, IndexError, ParseError)


@dataclass(slots=True)
class _Route:
    """One data centre of one service, with its breaker."""

    dc: DataCentre
    breaker: Breaker


class _Service:
    """Runtime state of one downstream service."""

    def __init__(self, spec: ServiceSpec, metrics: ChannelMetrics | None, clock: Callable[[], float]) -> None:
        self.spec = spec
        self.routes = [
            _Route(dc, Breaker(spec.breaker, clock, _listener(metrics, spec.name, dc.name)))
            for dc in spec.data_centres
        ]
        if metrics is not None:
            # Export every breaker from the start, so dashboards and absent() alerts see it.
            for dc in spec.data_centres:
                metrics.breaker(spec.name, dc.name, BreakerState.CLOSED)
        self.bulkhead = Bulkhead(spec.concurrency, spec.queue_timeout_ms / 1000)
        self.budget = RetryBudget(spec.retry, clock)
        self.token = ClientCredentialsToken(spec.auth, clock=clock) if spec.auth else None
        self.all_dcs = "+".join(dc.name for dc in spec.data_centres)
        # Smoothed latency of successful attempts, so callers can start slow services first.
        self.latency_ewma_s = 0.0

    def pick(self, tried: list[str], rng: random.Random) -> _Route | None:
        """A weighted random data centre whose breaker lets a call through.

        Prefers one not yet tried for this call; falls back to a tried one.
        """
        fresh = [r for r in self.routes if r.dc.name not in tried and r.breaker.available()]
        candidates = fresh or [r for r in self.routes if r.breaker.available()]
        while candidates:
            route = _weighted(candidates, rng)
            if route.breaker.try_acquire():
                return route
            candidates.remove(route)
        return None


def _weighted(routes: list[_Route], rng: random.Random) -> _Route:
    total = sum(r.dc.weight for r in routes)
    if total <= 0:
        # Only drained (weight 0) centres are left: better them than nothing.
        return routes[0]
    point = rng.random() * total
    for route in routes:
        point -= route.dc.weight
        if point < 0:
            return route
    return routes[-1]


def _listener(metrics: ChannelMetrics | None, service: str, dc: str) -> Callable[[BreakerState], None] | None:
    if metrics is None:
        return None
    return lambda state: metrics.breaker(service, dc, state)


class ChannelClient:
    """One shared, pooled client for every downstream service in the registry."""

    def __init__(
        self,
        registry: Registry,
        *,
        metrics: ChannelMetrics | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._metrics = metrics
        self._rng = rng or random.Random()
        self._clock = clock
        self._services = {name: _Service(spec, metrics, clock) for name, spec in registry.services.items()}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # limit=0: the per-service bulkheads bound concurrency, not the pool.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=True,
            # One session serves every customer: a cookie one service sets for one
            # customer's call must never ride along on another's (and the jar costs CPU).
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ChannelClient:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def breaker_states(self) -> dict[tuple[str, str], BreakerState]:
        return {
            (name, r.dc.name): r.breaker.state for name, svc in self._services.items() for r in svc.routes
        }

    def latency_estimate(self, service: str) -> float:
        """Smoothed seconds a successful call to `service` takes (0 before the first one)."""
        return self._service(service).latency_ewma_s

    def token_source(self, service: str) -> ClientCredentialsToken | None:
        return self._service(service).token

    def _service(self, name: str) -> _Service:
        try:
            return self._services[name]
        except KeyError:
            raise ValueError(
                f"unknown downstream service {name!r}; known: {sorted(self._services)}"
            ) from None

    async def call(self, service: str, call: Call, decode: Callable[[Reply], T]) -> T:
        """Send `call` to `service` and return `decode(reply)`, or raise a ChannelError."""
        svc = self._service(service)
        svc.budget.deposit()
        deadline = self._clock() + svc.spec.deadline_ms / 1000
        budget = request_deadline.get()
        if budget is not None and budget < deadline:
            deadline = budget
        try:
            async with svc.bulkhead:
                return await self._with_retries(svc, call, decode, deadline)
        except BulkheadFull:
            raise ChannelFailure(
                service,
                svc.all_dcs,
                FailureReason.BULKHEAD_FULL,
                f"{svc.bulkhead.limit} calls already in flight",
            ) from None

    async def _with_retries(
        self, svc: _Service, call: Call, decode: Callable[[Reply], T], deadline: float
    ) -> T:
        attempts = svc.spec.retry.attempts if call.idempotent else 1
        tried: list[str] = []
        last: ChannelFailure | None = None
        for attempt in range(1, attempts + 1):
            route = svc.pick(tried, self._rng)
            if route is None:
                raise last or ChannelFailure(
                    svc.spec.name,
                    svc.all_dcs,
                    FailureReason.BREAKER_OPEN,
                    "every data centre's breaker is open",
                )
            try:
                return await self._attempt(svc, route, call, decode, deadline)
            except ChannelFailure as failure:
                last = failure
                tried.append(route.dc.name)
            remaining = deadline - self._clock()
            if attempt == attempts or remaining <= 0 or not svc.budget.try_spend():
                break
            if self._metrics is not None:
                self._metrics.retry(svc.spec.name)
            await asyncio.sleep(min(remaining, backoff_seconds(svc.spec.retry, attempt, self._rng)))
        assert last is not None
        raise last

    async def _attempt(
        self, svc: _Service, route: _Route, call: Call, decode: Callable[[Reply], T], deadline: float
    ) -> T:
        name, dc = svc.spec.name, route.dc.name
        started = self._clock()
        own_timeout = svc.spec.timeout_ms / 1000
        verdict = False
        try:
            reply = await self._send(svc, route, call, min(own_timeout, deadline - started))
            value = decode(reply)
        except ChannelFailure as failure:
            verdict = True
            if failure.reason is FailureReason.TIMEOUT and deadline - started < own_timeout:
                # Cut short by the caller's budget, not slow by the service's own
                # standard: no mark against the data centre's breaker.
                route.breaker.release()
                self._observe(name, dc, "budget_exhausted", started)
                raise
            self._record(route, name, failure.reason.value, started, ok=False)
            raise
        except ChannelRejected:
            verdict = True
            self._record(route, name, "rejected", started, ok=True)
            raise
        except _DECODE_ERRORS as exc:
            verdict = True
            self._record(route, name, FailureReason.MALFORMED.value, started, ok=False)
            raise ChannelFailure(name, dc, FailureReason.MALFORMED, str(exc)[:200]) from exc
        finally:
            if not verdict:  # cancelled mid-call: free a half-open probe slot
                route.breaker.release()
        verdict = True
        self._record(route, name, "ok", started, ok=True)
        return value

    def _record(self, route: _Route, service: str, outcome: str, started: float, *, ok: bool) -> None:
        if ok:
            route.breaker.on_success()
        else:
            route.breaker.on_failure()
        elapsed = self._observe(service, route.dc.name, outcome, started)
        if ok:
            svc = self._services[service]
            svc.latency_ewma_s += LATENCY_SMOOTHING * (elapsed - svc.latency_ewma_s)

    def _observe(self, service: str, dc: str, outcome: str, started: float) -> float:
        elapsed = self._clock() - started
        timing = current_timing.get()
        if timing is not None:
            timing.observe(elapsed)
        if self._metrics is not None:
            self._metrics.attempt(service, dc, outcome, elapsed)
        return elapsed

    async def _send(self, svc: _Service, route: _Route, call: Call, budget_s: float) -> Reply:
        name, dc = svc.spec.name, route.dc.name
        try:
            async with asyncio.timeout(budget_s):
                reply = await self._exchange(svc, route, call, await self._bearer(svc, dc))
                if reply.status == 401 and svc.token is not None:
                    # Token revoked or expired early: fetch a new one and send once more.
                    svc.token.invalidate(svc.token.cached() or "")
                    reply = await self._exchange(svc, route, call, await self._bearer(svc, dc))
        except TimeoutError:
            raise ChannelFailure(
                name, dc, FailureReason.TIMEOUT, f"no answer within {budget_s * 1000:.0f} ms"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise ChannelFailure(name, dc, FailureReason.CONNECT, str(exc)) from None
        except aiohttp.ClientError as exc:
            # ServerDisconnected, ClientOSError (ECONNRESET), ClientPayloadError: the peer went away.
            raise ChannelFailure(name, dc, FailureReason.RESET, f"{type(exc).__name__}: {exc}") from None
        if reply.status >= 500:
            raise ChannelFailure(
                name, dc, FailureReason.SERVER_ERROR, f"HTTP {reply.status}", status=reply.status
            )
        if reply.status == 401:
            raise ChannelFailure(name, dc, FailureReason.UNAUTHORIZED, "token refused twice", status=401)
        return reply

    async def _bearer(self, svc: _Service, dc: str) -> str | None:
        if svc.token is None:
            return None
        try:
            return await svc.token.get()
        except TokenUnavailable as exc:
            raise ChannelFailure(svc.spec.name, dc, FailureReason.UNAUTHORIZED, str(exc)) from None

    async def _exchange(self, svc: _Service, route: _Route, call: Call, bearer: str | None) -> Reply:
        session = self._session
        if session is None:
            raise RuntimeError("ChannelClient.start() was not awaited")
        headers = {REQUEST_ID_HEADER: request_id()}
        if call.headers:
            headers.update(call.headers)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        data, content_type = call.payload()
        if content_type is not None:
            headers["Content-Type"] = content_type
        async with session.request(
            call.method, route.dc.url + call.path, params=call.params, data=data, headers=headers
        ) as response:
            body = await response.read()
            return Reply(svc.spec.name, route.dc.name, response.status, response.headers, body)
