"""Halts a release by itself when the new version's bridge calls fail too often.

Each BFF process counts, per (app, version), the bridge calls that got as far
as resolving the customer's version, and how many of them failed. Counting
is a dict increment on the hot path; every `flush_interval_s` the counts are
added to Redis in short time buckets, so every process's calls add up:

    bff:mp:health:{<app id>}:<version>:<bucket>   hash: calls, errors (bucket = unix time // bucket_s)

(one hash tag per app, so a flush touches one slot per app). After a flush,
each (app, version) that had errors is judged on the last `window_s` seconds
of every process's buckets: with at least `min_calls` calls and an error
rate at or above `threshold`, the release is halted (actor `release-guard`,
the figures in the reason), so customers fall back to the previous version.
Only the release's current, unhalted version is halted, and only when the
release has something to fall back to or is still in progress. After a halt
the version's buckets are dropped, so a release continued by an operator
starts counting afresh.

A failed call is one the bridge answered with a 5xx (an unexpected exception,
500 BRIDGE_INTERNAL_ERROR; the customer's profile source unavailable, 503
BRIDGE_UPSTREAM_UNAVAILABLE), or a refusal showing that the mini-program
itself misbehaves: 400 BRIDGE_BAD_REQUEST, 413 BRIDGE_BODY_TOO_LARGE, 403
BRIDGE_API_NOT_DECLARED. Refusals that are not the version's fault are calls
but not failures: token problems (401), nothing stored (404), storage quota
(409), rate limits (429), a scope the customer did not grant, a suspended or
unavailable app. Counts not yet flushed when a process stops are dropped (at
most one flush interval).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from redis.exceptions import RedisError

from bff.miniprograms.lifecycle import ErrorCode, RegistryError, Release
from bff.miniprograms.registry import MiniProgramRegistry
from bff.miniprograms.rollout import BUCKETS
from bff.store.background import BackgroundTask
from bff.store.client import RedisClient
from bff.store.keys import part, tag

logger = logging.getLogger("bff.miniprograms.release_guard")

ACTOR: Final = "release-guard"
DEFAULT_THRESHOLD: Final = 0.2
DEFAULT_MIN_CALLS: Final = 50
DEFAULT_WINDOW_S: Final = 60
DEFAULT_FLUSH_INTERVAL_S: Final = 1.0
DEFAULT_BUCKET_S: Final = 10

# Refusals that show the mini-program misbehaving (bad input, undeclared API), not the customer's choices.
MISBEHAVIOUR_CODES: Final = frozenset(
    {"BRIDGE_BAD_REQUEST", "BRIDGE_BODY_TOO_LARGE", "BRIDGE_API_NOT_DECLARED"}
)

_CALLS: Final = "calls"
_ERRORS: Final = "errors"


def counts_as_failure(status: int, code: str | None) -> bool:
    """Whether a bridge answer counts against the version's health (see the module docstring)."""
    return status >= 500 or code in MISBEHAVIOUR_CODES


def health_key(app_id: str, version: str, bucket: int) -> str:
    return f"bff:mp:health:{tag(app_id)}:{part(version)}:{bucket}"


@dataclass(frozen=True, slots=True)
class VersionHealth:
    """A version's bridge calls and failed calls over the guard's window, across processes."""

    calls: int
    errors: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    errors: int = 0


class ReleaseGuard:
    """Counts each version's bridge calls in process, shares them through Redis, halts failing releases."""

    def __init__(
        self,
        registry: MiniProgramRegistry,
        redis: RedisClient,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        min_calls: int = DEFAULT_MIN_CALLS,
        window_s: int = DEFAULT_WINDOW_S,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        bucket_s: int = DEFAULT_BUCKET_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < threshold <= 1 or min_calls < 1 or window_s < bucket_s or bucket_s < 1:
            raise ValueError("need 0 < threshold <= 1, min_calls >= 1 and window_s >= bucket_s >= 1")
        self._registry = registry
        self._redis = redis
        self._threshold = threshold
        self._min_calls = min_calls
        self._window_s = window_s
        self._flush_interval_s = flush_interval_s
        self._bucket_s = bucket_s
        self._window_buckets = math.ceil(window_s / bucket_s)
        # Wall-clock time, not monotonic: every process must put the same second in the same bucket.
        self._clock = clock
        self._pending: dict[tuple[str, str], _Tally] = {}
        self._background = BackgroundTask("release-guard-flush", self._flush_forever)

    def observe(self, app_id: str, version: str, *, failed: bool) -> None:
        """Count one answered bridge call of `version` (in process; `flush` takes it to Redis)."""
        tally = self._pending.get((app_id, version))
        if tally is None:
            tally = self._pending[(app_id, version)] = _Tally()
        tally.calls += 1
        tally.errors += failed

    async def flush(self) -> list[Release]:
        """Add the counts to Redis, judge each version that had errors; returns the releases it halted."""
        pending, self._pending = self._pending, {}
        if not pending:
            return []
        bucket = self._bucket()
        ttl_s = (self._window_buckets + 1) * self._bucket_s
        suspects = [key for key, tally in pending.items() if tally.errors]
        async with self._redis.pipeline(transaction=False) as pipe:
            for (app_id, version), tally in pending.items():
                key = health_key(app_id, version, bucket)
                pipe.hincrby(key, _CALLS, tally.calls)
                if tally.errors:
                    pipe.hincrby(key, _ERRORS, tally.errors)
                pipe.expire(key, ttl_s)
            for app_id, version in suspects:
                for key in self._window(app_id, version, bucket):
                    pipe.hmget(key, [_CALLS, _ERRORS])
            replies = await pipe.execute()
        readings = iter(replies[len(replies) - len(suspects) * self._window_buckets :])
        halted = []
        for app_id, version in suspects:
            health = _summed(next(readings) for _ in range(self._window_buckets))
            if self._unhealthy(health):
                release = await self._halt(app_id, version, health)
                if release is not None:
                    halted.append(release)
        return halted

    async def health(self, app_id: str, version: str) -> VersionHealth:
        """What every process has flushed for `version` over the window."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in self._window(app_id, version, self._bucket()):
                pipe.hmget(key, [_CALLS, _ERRORS])
            return _summed(await pipe.execute())

    async def start(self) -> None:
        """Start flushing every `flush_interval_s` (in the lifespan)."""
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _flush_forever(self) -> None:
        while not self._background.stopping:
            await asyncio.sleep(self._flush_interval_s)
            try:
                await self.flush()
            except (RedisError, OSError) as exc:
                # These counts are lost; the window is judged again on the next flush with errors.
                logger.warning("release guard could not flush bridge call counts: %s", exc)
            except Exception:  # the guard must outlive any one bad flush
                logger.exception("release guard flush failed")

    def _bucket(self) -> int:
        return int(self._clock() // self._bucket_s)

    def _window(self, app_id: str, version: str, bucket: int) -> list[str]:
        return [health_key(app_id, version, b) for b in range(bucket - self._window_buckets + 1, bucket + 1)]

    def _unhealthy(self, health: VersionHealth) -> bool:
        return health.calls >= self._min_calls and health.error_rate >= self._threshold

    async def _halt(self, app_id: str, version: str, health: VersionHealth) -> Release | None:
        try:
            release = await self._registry.get_release(app_id)
        except RegistryError as exc:
            logger.warning("release guard could not read the release of %s: %s", app_id, exc)
            return None
        if release is None or release.version != version or release.halted or not _guarded(release):
            return None
        reason = (
            f"bridge error rate {_percent(health.error_rate)} ({health.errors} of {health.calls} calls) "
            f"over {self._window_s} s passed the {_percent(self._threshold)} threshold"
        )
        try:
            halted = await self._registry.halt(app_id, reason, actor=ACTOR)
        except RegistryError as exc:
            if exc.code is ErrorCode.INVALID_TRANSITION:
                # Another process's guard (or an operator) halted it first.
                logger.info("release guard: %s %s was already halted: %s", app_id, version, exc.message)
            else:
                logger.warning("release guard could not halt %s %s: %s", app_id, version, exc)
            return None
        logger.warning(
            "release guard halted %s %s: %s; customers fall back to %s",
            app_id,
            version,
            reason,
            release.previous_version or "nothing",
        )
        try:
            await self._redis.delete(*self._window(app_id, version, self._bucket()))
        except RedisError as exc:
            logger.warning("release guard could not clear the counts of %s %s: %s", app_id, version, exc)
        return halted


def _guarded(release: Release) -> bool:
    """A release with a version to fall back to, or one still in progress (a full first release is not)."""
    return release.previous_version is not None or release.percent_bp < BUCKETS


def _summed(readings: Iterable[list[bytes | str | None]]) -> VersionHealth:
    calls = errors = 0
    for bucket_calls, bucket_errors in readings:
        calls += int(bucket_calls or 0)
        errors += int(bucket_errors or 0)
    return VersionHealth(calls, errors)


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g}%"
