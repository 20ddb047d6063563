"""The published experience in Redis: numbered versions, their history, and changes scheduled for later.

Keys share the hash tag `{xp}` (one Redis Cluster slot, so one script can
change them together):

    bff:{xp}:current          the current version number (absent until seeded)
    bff:{xp}:version:<n>      hash: files (JSON, exact text by path), digest, action, actor, at, note, summary
    bff:{xp}:history          stream: the meta of every version, in order; never trimmed (the audit)
    bff:{xp}:schedule         hash: scheduled change id -> its record (JSON), kept after it ran
    bff:{xp}:schedule:due     sorted set: ids of changes still to apply, scored by when

and every new version is announced on the channel `bff:xp:changes`.

Versions only grow, and every change names the version it was decided on
(optimistic concurrency): the publish script writes only if that is still
the current version, so of two admins publishing against version 3 one gets
version 4 and the other VERSION_CONFLICT naming version 4. A rollback is a
new version carrying an earlier version's exact files.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bff.experience import store_scripts
from bff.experience.assignment import assign_profile
from bff.experience.diff import ExperienceDiff, diff_experience
from bff.experience.loading import ExperienceSet, parse_experience_set
from bff.experience.problems import ExperienceError
from bff.experience.refusals import ExperienceRefused, RefusalCode, version_conflict
from bff.experience.store_records import (
    Action,
    ScheduledAssignment,
    ScheduledChange,
    ScheduleState,
    StoredVersion,
    VersionMeta,
    decode_files,
    encode_files,
)
from bff.store.client import RedisClient, text

logger = logging.getLogger("bff.experience.store")

CURRENT_KEY: Final = "bff:{xp}:current"
HISTORY_KEY: Final = "bff:{xp}:history"
SCHEDULE_KEY: Final = "bff:{xp}:schedule"
DUE_KEY: Final = "bff:{xp}:schedule:due"
CHANGES_CHANNEL: Final = "bff:xp:changes"
SCHEDULER_ACTOR: Final = "scheduler"

# Parsed versions kept in process: a version never changes, and parsing one takes tens of milliseconds.
_PARSED_VERSIONS: Final = 16
# Attempts at a scheduled change while other publishes keep landing first.
_MAX_ATTEMPTS: Final = 20
_MAX_SUMMARY_LINES: Final = 50


def version_key(version: int) -> str:
    return f"bff:{{xp}}:version:{version}"


async def parse_files(files: Mapping[str, bytes]) -> ExperienceSet:
    """`parse_experience_set` off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(parse_experience_set, files)


@dataclass(frozen=True)
class Published:
    """A new version and what it changed against the one before."""

    stored: StoredVersion
    diff: ExperienceDiff


class ExperienceStore:
    """Versions of the experience, published with an expected version, with history and a schedule."""

    def __init__(self, redis: RedisClient, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        # register_script does no I/O: the script is loaded on first use and called by digest after.
        self._publish = redis.register_script(store_scripts.PUBLISH)
        self._finish = redis.register_script(store_scripts.FINISH_SCHEDULED)
        self._parsed: OrderedDict[int, StoredVersion] = OrderedDict()

    # --- reading ---

    async def current_version(self) -> int | None:
        """The current version number; None before the first (seed)."""
        raw = await self._redis.get(CURRENT_KEY)
        return int(text(raw)) if raw is not None else None

    async def current(self) -> StoredVersion:
        """The current version, or NO_EXPERIENCE before the seed."""
        number = await self.current_version()
        if number is None:
            raise ExperienceRefused(
                RefusalCode.NO_EXPERIENCE,
                "no experience is published yet: a BFF seeds version 1 from experience/ when it starts",
            )
        return await self.version(number)

    async def version(self, number: int) -> StoredVersion:
        """One version, or VERSION_NOT_FOUND."""
        key = version_key(number)
        digest, at = await self._redis.hmget(key, ["digest", "at"])
        if digest is None:
            raise ExperienceRefused(RefusalCode.VERSION_NOT_FOUND, f"there is no version {number}")
        cached = self._parsed.get(number)
        # Checked against Redis, not trusted: a Redis that lost its data numbers versions from 1 again.
        if cached is not None and (cached.meta.digest, repr(cached.meta.at)) == (
            text(digest),
            text(at or ""),
        ):
            return cached
        stored = await self._redis.hgetall(key)
        fields = {text(key): value for key, value in stored.items()}
        meta = VersionMeta.from_fields(fields)
        version = StoredVersion(meta, await parse_files(decode_files(fields["files"])))
        self._remember(version)
        return version

    async def history(self, limit: int = 50) -> list[VersionMeta]:
        """The latest `limit` versions' meta, newest first."""
        entries = await self._redis.xrevrange(HISTORY_KEY, count=limit) or []
        return [VersionMeta.from_fields(fields or {}) for _, fields in entries]

    # --- publishing ---

    async def seed(self, experience: ExperienceSet, actor: str) -> int:
        """Publish `experience` as version 1 unless a version exists; the current version either way.

        Atomic: of processes starting together on an empty Redis, one seeds and the others see its version.
        """
        note = "seeded from the shipped experience/ directory"
        meta = self._meta(1, experience, Action.SEED, actor, note, None, diff_experience(None, experience))
        status, current = await self._run_publish(0, meta, experience.files)
        if status == "ok":
            logger.info("seeded experience version 1 (digest %s)", experience.digest)
        return current

    async def publish(
        self,
        expected: int,
        experience: ExperienceSet,
        actor: str,
        *,
        action: Action = Action.PUBLISH,
        note: str = "",
    ) -> Published:
        """Publish `experience` as the version after `expected`, or VERSION_CONFLICT if that is no longer current."""
        before = await self._current_if_any()
        current = before.version if before else 0
        if current != expected:
            raise version_conflict(expected, current)
        diff = diff_experience(before.experience if before else None, experience)
        meta = self._meta(expected + 1, experience, action, actor, note, before, diff)
        status, current = await self._run_publish(expected, meta, experience.files)
        if status != "ok":
            raise version_conflict(expected, current)
        return self._published(meta, experience, diff)

    async def rollback(self, expected: int, to_version: int, actor: str, note: str = "") -> Published:
        """Publish version `to_version`'s exact files as a new version."""
        current = await self.current_version() or 0
        if current != expected:
            raise version_conflict(expected, current)
        if to_version >= current:
            raise ExperienceRefused(
                RefusalCode.ROLLBACK_NOT_EARLIER,
                f"version {to_version} is not earlier than the current version {current}",
            )
        target = await self.version(to_version)
        note = note or f"rollback to version {to_version}"
        return await self.publish(expected, target.experience, actor, action=Action.ROLLBACK, note=note)

    # --- scheduled changes ---

    async def schedule(
        self,
        at: float,
        actor: str,
        *,
        files: Mapping[str, bytes] | None = None,
        assign: ScheduledAssignment | None = None,
        note: str = "",
    ) -> ScheduledChange:
        """Record a change to publish once `at` (epoch seconds) has passed; the caller has checked it."""
        if (files is None) == (assign is None):
            raise ValueError("a scheduled change is either whole files or an assignment")
        change = ScheduledChange(uuid.uuid4().hex, at, actor, self._clock(), note, files, assign)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(SCHEDULE_KEY, change.id, change.to_record())
            pipe.zadd(DUE_KEY, {change.id: at})
            await pipe.execute()
        return change

    async def scheduled(self) -> list[ScheduledChange]:
        """Every scheduled change (pending, applied, failed, cancelled), by when it is due."""
        records = await self._redis.hvals(SCHEDULE_KEY)
        return sorted((ScheduledChange.from_record(record) for record in records), key=lambda c: c.at)

    async def scheduled_change(self, change_id: str) -> ScheduledChange:
        record = await self._redis.hget(SCHEDULE_KEY, change_id)
        if record is None:
            raise ExperienceRefused(
                RefusalCode.SCHEDULE_NOT_FOUND, f"there is no scheduled change {change_id}"
            )
        return ScheduledChange.from_record(record)

    async def cancel(self, change_id: str, actor: str) -> ScheduledChange:
        """Cancel a pending change; SCHEDULE_NOT_PENDING once it was applied, failed or cancelled."""
        change = await self.scheduled_change(change_id)
        cancelled = change.finished(ScheduleState.CANCELLED, self._clock(), actor)
        if not await self._finish_scheduled(cancelled):
            now = await self.scheduled_change(change_id)
            raise ExperienceRefused(
                RefusalCode.SCHEDULE_NOT_PENDING, f"scheduled change {change_id} is {now.state}, not pending"
            )
        return cancelled

    async def apply_due(self) -> list[int]:
        """Publish every change whose time has passed; the versions this call made.

        Safe to run in every process at once: the publish script takes a change
        off the due set in the same atomic step, so each is applied once.
        """
        due = await self._redis.zrangebyscore(DUE_KEY, "-inf", self._clock())
        made = []
        for change_id in (text(raw) for raw in due if isinstance(raw, bytes | str)):
            version = await self._apply(change_id)
            if version is not None:
                made.append(version)
        return made

    async def _apply(self, change_id: str) -> int | None:
        change = await self.scheduled_change(change_id)
        for _ in range(_MAX_ATTEMPTS):
            if change.state is not ScheduleState.PENDING:
                return None
            before = await self.current()
            try:
                experience = await self._scheduled_experience(change, before)
            except (ExperienceError, ExperienceRefused) as exc:
                await self._fail(change, str(exc))
                return None
            status, current = await self._publish_scheduled(change, before, experience)
            if status == "ok":
                return current
            if status == "gone":  # another process applied or someone cancelled it
                return None
        logger.warning("scheduled change %s kept losing to other publishes; retrying later", change_id)
        return None

    async def _scheduled_experience(self, change: ScheduledChange, before: StoredVersion) -> ExperienceSet:
        if change.files is not None:
            return await parse_files(change.files)
        assert change.assign is not None  # a scheduled change is files or an assignment
        assign = change.assign
        files = assign_profile(
            before.experience.files, assign.rule_id, assign.profile, assign.rollout_percent
        )
        return await parse_files(files)

    async def _publish_scheduled(
        self, change: ScheduledChange, before: StoredVersion, experience: ExperienceSet
    ) -> tuple[str, int]:
        number = before.version + 1
        diff = diff_experience(before.experience, experience)
        note = change.note or f"scheduled change {change.id}"
        meta = self._meta(number, experience, Action.SCHEDULED, change.created_by, note, before, diff)
        applied = change.finished(ScheduleState.APPLIED, meta.at, SCHEDULER_ACTOR, version=number)
        status, current = await self._run_publish(before.version, meta, experience.files, applied)
        if status == "ok":
            self._published(meta, experience, diff)
            logger.info("applied scheduled change %s as experience version %d", change.id, number)
        return status, current

    async def _fail(self, change: ScheduledChange, reason: str) -> None:
        failed = change.finished(ScheduleState.FAILED, self._clock(), SCHEDULER_ACTOR, error=reason)
        if await self._finish_scheduled(failed):
            logger.warning("scheduled change %s cannot be applied: %s", change.id, reason)

    async def _finish_scheduled(self, change: ScheduledChange) -> bool:
        done = await self._finish(keys=(SCHEDULE_KEY, DUE_KEY), args=(change.id, change.to_record()))
        return int(done) == 1

    # --- storage ---

    async def _current_if_any(self) -> StoredVersion | None:
        number = await self.current_version()
        return await self.version(number) if number is not None else None

    async def _run_publish(
        self,
        expected: int,
        meta: VersionMeta,
        files: Mapping[str, bytes],
        scheduled: ScheduledChange | None = None,
    ) -> tuple[str, int]:
        keys = (CURRENT_KEY, version_key(expected + 1), HISTORY_KEY, SCHEDULE_KEY, DUE_KEY)
        schedule_args = (scheduled.id, scheduled.to_record()) if scheduled else ("", "")
        meta_pairs = [item for pair in meta.fields().items() for item in pair]
        args: tuple[str | int, ...] = (
            expected,
            CHANGES_CHANNEL,
            *schedule_args,
            encode_files(files),
            *meta_pairs,
        )
        status, current = await self._publish(keys=keys, args=args)
        return text(status), int(current)

    def _meta(
        self,
        number: int,
        experience: ExperienceSet,
        action: Action,
        actor: str,
        note: str,
        before: StoredVersion | None,
        diff: ExperienceDiff,
    ) -> VersionMeta:
        return VersionMeta(
            number, experience.digest, action, actor, self._clock(), note, _summary(before, diff)
        )

    def _published(self, meta: VersionMeta, experience: ExperienceSet, diff: ExperienceDiff) -> Published:
        stored = StoredVersion(meta, experience)
        self._remember(stored)
        return Published(stored, diff)

    def _remember(self, version: StoredVersion) -> None:
        self._parsed[version.version] = version
        self._parsed.move_to_end(version.version)
        while len(self._parsed) > _PARSED_VERSIONS:
            self._parsed.popitem(last=False)


def _summary(before: StoredVersion | None, diff: ExperienceDiff) -> dict[str, Any]:
    """The before/after record of the history: the version and digest changed from, and the changes in words."""
    lines = diff.lines() or ["no change in content"]
    if len(lines) > _MAX_SUMMARY_LINES:
        lines = [*lines[:_MAX_SUMMARY_LINES], f"... and {len(lines) - _MAX_SUMMARY_LINES} more"]
    return {
        "fromVersion": before.version if before else None,
        "fromDigest": before.meta.digest if before else None,
        "changes": lines,
    }
