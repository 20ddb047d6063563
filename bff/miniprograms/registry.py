"""The mini-program registry: apps, their immutable versions, review and release, kept in Redis.

Keys of one app share the hash tag `{<app_id>}`, so they sit in one Redis
Cluster slot and one Lua script can change them together:

    bff:mp:{<app_id>}:app            hash: partner_id, created_at, generation
    bff:mp:{<app_id>}:versions       sorted set of versions, scored in the order they were added
                                     (which is SemVer precedence, since versions only grow)
    bff:mp:{<app_id>}:version:<v>    hash: manifest bytes, manifest JWS, bundle sha256, added at/by,
                                     review state and reviews
    bff:mp:{<app_id>}:release        hash: the release (absent until the first one)
    bff:mp:{<app_id>}:audit          stream: one entry per change (who, what, when, before/after)

(App ids and versions are escaped with `bff.store.keys`; a valid app id is unchanged.)

Every change reads a snapshot of the app in one MULTI/EXEC (records and their
encoding in `registry_records.py`), decides with the rules in `lifecycle.py`,
and commits with a script from `registry_scripts.py` that writes only if the
app's generation is still the one read, appending the audit entry, bumping
the generation and publishing on `bff:mp:changes` in the same atomic step.
When another change landed in between, nothing is written and the change is
decided again on the new state (optimistic concurrency): of two racing
add_version calls at most one wins against any given highest version, and
SemVer precedence is compared in one place (`manifest.compare_versions`),
not again in Lua.

Two keys are shared by every app and so live in other slots, outside the
scripts: the index `bff:mp:apps` (set of app ids) and the poll counter
`bff:mp:generation`. The index is written before an app is created, so it may
name an app whose creation failed (list_apps skips it) but never misses one.
The counter is bumped after a commit, so a poller that sees it move reads the
new state; if a process dies between the two, the change was still published
and the next change moves the counter.

The audit stream is never trimmed: it is the record of who changed what.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Final, Generic, TypeVar

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from bff.miniprograms import registry_scripts
from bff.miniprograms.lifecycle import (
    AuditAction,
    ErrorCode,
    MemberBanks,
    RegistryError,
    Release,
    ReleaseChange,
    Review,
    ReviewState,
    banks_text,
    decide_review,
    plan_halt,
    plan_release,
    plan_resume,
    plan_rollback,
    plan_suspend,
    require_transition,
)
from bff.miniprograms.manifest import (
    ALL_MEMBER_BANKS,
    SCHEMA_PATH,
    Manifest,
    compare_versions,
    load_manifest,
    permission_diff,
)
from bff.miniprograms.registry_records import (
    App,
    AuditEntry,
    AuditEvent,
    Change,
    Field,
    Version,
    app_from_hash,
    audit_event,
    audit_fields,
    decoded,
    pairs,
    parse_change,
    release_fields,
    release_from_hash,
    review_fields,
    text,
    version_fields,
    version_from_hash,
)
from bff.store.client import RedisClient
from bff.store.keys import part, tag

__all__ = [
    "APPS_KEY",
    "CHANGES_CHANNEL",
    "GENERATION_KEY",
    "App",
    "AuditAction",
    "AuditEvent",
    "Change",
    "ErrorCode",
    "MemberBanks",
    "MiniProgramRegistry",
    "RegistryError",
    "Release",
    "Review",
    "ReviewState",
    "Version",
    "parse_change",
]

logger = logging.getLogger("bff.miniprograms.registry")

APPS_KEY: Final = "bff:mp:apps"
GENERATION_KEY: Final = "bff:mp:generation"
CHANGES_CHANNEL: Final = "bff:mp:changes"

# Attempts at one change while other changes to the same app keep landing first.
_MAX_ATTEMPTS: Final = 50

T = TypeVar("T")


def _app_prefix(app_id: str) -> str:
    return f"bff:mp:{tag(app_id)}"


def app_key(app_id: str) -> str:
    return f"{_app_prefix(app_id)}:app"


def versions_key(app_id: str) -> str:
    return f"{_app_prefix(app_id)}:versions"


def version_key(app_id: str, version: str) -> str:
    return f"{_app_prefix(app_id)}:version:{part(version)}"


def release_key(app_id: str) -> str:
    return f"{_app_prefix(app_id)}:release"


def audit_key(app_id: str) -> str:
    return f"{_app_prefix(app_id)}:audit"


# --- the registry -----------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """An app's state read in one MULTI/EXEC; generation -1 means the app does not exist."""

    app_id: str
    generation: int
    app: App | None
    version: Version | None
    release: Release | None
    highest: str | None

    def require_app(self) -> App:
        if self.app is None:
            raise RegistryError(ErrorCode.APP_NOT_FOUND, f"no mini-program {self.app_id}; create it first")
        return self.app

    def require_version(self, version: str) -> Version:
        self.require_app()
        if self.version is None:
            raise RegistryError(ErrorCode.VERSION_NOT_FOUND, f"{self.app_id} has no version {version}")
        return self.version


@dataclass(frozen=True)
class _Commit(Generic[T]):
    """What a decided change writes (`script` None: nothing to change) and the value it returns."""

    value: T
    script: AsyncScript | None = None
    keys: tuple[str, ...] = ()
    args: tuple[Field, ...] = ()
    audit: AuditEntry | None = None


class MiniProgramRegistry:
    """Apps, versions, reviews and releases of partner mini-programs, in Redis."""

    def __init__(self, redis: RedisClient, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        # register_script does no I/O: each script is loaded on its first use (EVALSHA, then
        # SCRIPT LOAD on NOSCRIPT) and called by its digest afterwards.
        self._create_app = redis.register_script(registry_scripts.CREATE_APP)
        self._add_version = redis.register_script(registry_scripts.ADD_VERSION)
        self._update_review = redis.register_script(registry_scripts.UPDATE_REVIEW)
        self._write_release = redis.register_script(registry_scripts.WRITE_RELEASE)
        # Called with the app id after each change this process commits, before the caller
        # hears of it: a cache in this process forgets at once, not when pub/sub delivers.
        self._committed: list[Callable[[str], None]] = []

    def on_commit(self, listener: Callable[[str], None]) -> None:
        self._committed.append(listener)

    # --- apps ---

    async def create_app(self, app_id: str, partner_id: str, actor: str) -> App:
        """Register a new mini-program owned by `partner_id`."""
        _require_app_id(app_id)
        now = self._clock()

        async def decide(snapshot: _Snapshot) -> _Commit[App]:
            if snapshot.app is not None:
                raise RegistryError(
                    ErrorCode.APP_EXISTS, f"{app_id} already exists (owned by {snapshot.app.partner_id})"
                )
            app = App(app_id, partner_id, now, generation=0)
            fields = {"app_id": app_id, "partner_id": partner_id, "created_at": repr(now)}
            audit = AuditEntry(now, actor, AuditAction.APP_CREATED, None, {}, {"partner_id": partner_id})
            return _Commit(app, self._create_app, (), pairs(fields), audit)

        # Cross-slot, so not in the script; written first so that the index never misses an app.
        await self._redis.sadd(APPS_KEY, app_id)
        app, generation = await self._change(app_id, None, decide)
        return replace(app, generation=generation)

    async def get_app(self, app_id: str) -> App:
        """The app, or APP_NOT_FOUND."""
        return (await self._snapshot(app_id)).require_app()

    async def app_ids(self) -> list[str]:
        """Every app's id, sorted."""
        return sorted(text(member) for member in await self._redis.smembers(APPS_KEY))

    async def app_state(self, app_id: str) -> tuple[App, Release | None]:
        """The app and its release (None before the first), read together; APP_NOT_FOUND if none."""
        snapshot = await self._snapshot(app_id)
        return snapshot.require_app(), snapshot.release

    async def list_apps(self) -> list[App]:
        """Every app, sorted by id."""
        ids = await self.app_ids()
        snapshots = await asyncio.gather(*(self._snapshot(app_id) for app_id in ids))
        return [snapshot.app for snapshot in snapshots if snapshot.app is not None]

    # --- versions ---

    async def add_version(
        self,
        app_id: str,
        partner_id: str,
        manifest: Manifest,
        manifest_bytes: bytes,
        manifest_jws: str,
        actor: str,
    ) -> Version:
        """Store a new draft version; its SemVer precedence must exceed every existing version's."""
        _require_manifest_matches(app_id, manifest, manifest_bytes)
        version = manifest.version
        now = self._clock()

        async def decide(snapshot: _Snapshot) -> _Commit[Version]:
            _require_owner(snapshot.require_app(), partner_id)
            if snapshot.version is not None:
                raise _version_exists(app_id, version)
            if snapshot.highest is not None and compare_versions(version, snapshot.highest) <= 0:
                raise RegistryError(
                    ErrorCode.VERSION_NOT_GREATER,
                    f"{version} is not greater than {snapshot.highest}, the highest version of {app_id}; "
                    "versions only grow",
                )
            stored = Version(
                app_id=app_id,
                version=version,
                manifest_bytes=manifest_bytes,
                manifest_jws=manifest_jws,
                bundle_sha256=manifest.bundle_sha256,
                added_at=now,
                added_by=actor,
                state=ReviewState.DRAFT,
            )
            before = {"highest_version": snapshot.highest or ""}
            after = {"state": ReviewState.DRAFT, "bundle_sha256": manifest.bundle_sha256}
            audit = AuditEntry(now, actor, AuditAction.VERSION_ADDED, version, before, after)
            keys = (version_key(app_id, version), versions_key(app_id))
            return _Commit(stored, self._add_version, keys, (version, *pairs(version_fields(stored))), audit)

        stored, _ = await self._change(app_id, version, decide)
        return stored

    async def get_version(self, app_id: str, version: str) -> Version:
        """One version of the app, or APP_NOT_FOUND / VERSION_NOT_FOUND."""
        return (await self._snapshot(app_id, version)).require_version(version)

    async def list_versions(self, app_id: str) -> list[Version]:
        """Every version of the app, lowest precedence first."""
        (await self._snapshot(app_id)).require_app()
        names = [text(name) for name in await self._redis.zrange(versions_key(app_id), 0, -1)]
        async with self._redis.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.hgetall(version_key(app_id, name))
            hashes = await pipe.execute()
        return [version_from_hash(app_id, decoded(h)) for h in hashes if h]

    async def submit(self, app_id: str, version: str, partner_id: str) -> Version:
        """The owning partner sends a draft version to review."""
        now = self._clock()

        async def decide(snapshot: _Snapshot) -> _Commit[Version]:
            _require_owner(snapshot.require_app(), partner_id)
            current = snapshot.require_version(version)
            require_transition(version, current.state, ReviewState.SUBMITTED)
            submitted = replace(current, state=ReviewState.SUBMITTED, submitted_at=now)
            return self._review_commit(current, submitted, now, partner_id, AuditAction.VERSION_SUBMITTED)

        submitted, _ = await self._change(app_id, version, decide)
        return submitted

    async def review(
        self, app_id: str, version: str, reviewer: str, approve: bool, reason: str | None = None
    ) -> Version:
        """An admin reviewer approves or rejects (with a reason) a submitted version.

        The review records the permission diff against the released version;
        when it adds a sensitive scope, approval takes two distinct reviewers.
        """
        now = self._clock()

        async def decide(snapshot: _Snapshot) -> _Commit[Version]:
            current = snapshot.require_version(version)
            base = snapshot.release.version if snapshot.release else None
            # A version's manifest never changes, so reading the base outside the snapshot is safe.
            base_manifest = (await self.get_version(app_id, base)).manifest if base else None
            why = (reason or "").strip() or None
            diff = permission_diff(base_manifest, current.manifest)
            review = Review(reviewer, approve, why, now, diff, base)
            state, action = decide_review(version, current.state, current.reviews, review)
            reviewed = replace(current, state=state, reviews=(*current.reviews, review))
            return self._review_commit(current, reviewed, now, reviewer, action, why or "")

        reviewed, _ = await self._change(app_id, version, decide)
        return reviewed

    def _review_commit(
        self, before: Version, after: Version, at: float, actor: str, action: AuditAction, note: str = ""
    ) -> _Commit[Version]:
        audit = AuditEntry(at, actor, action, after.version, before.summary(), after.summary(), note)
        fields = review_fields(after)
        keys = (version_key(after.app_id, after.version),)
        return _Commit(after, self._update_review, keys, pairs(fields), audit)

    # --- release ---

    async def release(
        self, app_id: str, version: str, percent_bp: int, member_banks: MemberBanks, actor: str
    ) -> Release:
        """Release an approved version to `percent_bp` basis points of `member_banks`' customers.

        For the version already being released this moves its percentage;
        for a newer one it starts a new release whose other customers keep
        the version that was fully released.
        """

        async def decide(snapshot: _Snapshot) -> _Commit[Release]:
            target = _require_approved(snapshot.require_version(version))
            _require_served(target.manifest, member_banks)
            return self._release_commit(
                snapshot, plan_release(snapshot.release, app_id, version, percent_bp, member_banks), actor
            )

        return await self._change_release(app_id, version, decide)

    async def halt(self, app_id: str, reason: str, actor: str) -> Release:
        """Stop the release: every customer falls back to the previous version."""

        async def decide(snapshot: _Snapshot) -> _Commit[Release]:
            snapshot.require_app()
            return self._release_commit(snapshot, plan_halt(snapshot.release, app_id, reason), actor)

        return await self._change_release(app_id, None, decide)

    async def suspend(self, app_id: str, member_bank: str | None, actor: str, reason: str) -> Release:
        """Suspend the app for one member bank, or for every one (None: the kill switch)."""

        async def decide(snapshot: _Snapshot) -> _Commit[Release]:
            snapshot.require_app()
            change = plan_suspend(snapshot.release, app_id, member_bank, reason)
            return self._release_commit(snapshot, change, actor)

        return await self._change_release(app_id, None, decide)

    async def resume(self, app_id: str, member_bank: str | None, actor: str) -> Release:
        """Lift the suspension for one member bank, or every suspension (None)."""

        async def decide(snapshot: _Snapshot) -> _Commit[Release]:
            snapshot.require_app()
            return self._release_commit(snapshot, plan_resume(snapshot.release, app_id, member_bank), actor)

        return await self._change_release(app_id, None, decide)

    async def rollback(self, app_id: str, to_version: str, actor: str) -> Release:
        """Release an earlier approved version to everyone, also in the middle of a percentage release."""

        async def decide(snapshot: _Snapshot) -> _Commit[Release]:
            _require_approved(snapshot.require_version(to_version))
            return self._release_commit(snapshot, plan_rollback(snapshot.release, app_id, to_version), actor)

        return await self._change_release(app_id, to_version, decide)

    async def get_release(self, app_id: str) -> Release | None:
        """The app's release, or None before its first."""
        snapshot = await self._snapshot(app_id)
        snapshot.require_app()
        return snapshot.release

    def _release_commit(
        self, snapshot: _Snapshot, change: ReleaseChange | None, actor: str
    ) -> _Commit[Release]:
        current = snapshot.release
        if change is None:
            assert current is not None  # only a change to an existing release can be a no-op
            return _Commit(current)
        before = current.summary() if current else {}
        audit = AuditEntry(
            self._clock(),
            actor,
            change.action,
            change.release.version,
            before,
            change.release.summary(),
            change.note,
        )
        keys = (release_key(snapshot.app_id),)
        return _Commit(
            change.release, self._write_release, keys, pairs(release_fields(change.release)), audit
        )

    async def _change_release(
        self, app_id: str, version: str | None, decide: Callable[[_Snapshot], Awaitable[_Commit[Release]]]
    ) -> Release:
        release, generation = await self._change(app_id, version, decide)
        return replace(release, generation=generation)

    # --- audit ---

    async def audit(self, app_id: str, limit: int = 100) -> list[AuditEvent]:
        """The app's latest `limit` audit events, oldest first."""
        entries = await self._redis.xrevrange(audit_key(app_id), count=limit) or []
        return [audit_event(entry_id, fields or {}) for entry_id, fields in reversed(entries)]

    # --- storage ---

    async def _change(
        self, app_id: str, version: str | None, decide: Callable[[_Snapshot], Awaitable[_Commit[T]]]
    ) -> tuple[T, int]:
        """Decide on a fresh snapshot and commit, until no other change lands in between."""
        for attempt in range(_MAX_ATTEMPTS):
            snapshot = await self._snapshot(app_id, version)
            commit = await decide(snapshot)
            if commit.script is None or commit.audit is None:
                return commit.value, snapshot.generation
            status, generation = await self._commit(app_id, snapshot.generation, commit)
            if status == "ok":
                await self._bump_global_generation()
                for listener in self._committed:
                    listener(app_id)
                return commit.value, generation
            if status == "exists":
                raise _version_exists(app_id, version or "")
            await asyncio.sleep(random.uniform(0, 0.001 * min(attempt, 10)))
        raise RegistryError(
            ErrorCode.CONCURRENT_CHANGE,
            f"{app_id} kept changing while this change was being made ({_MAX_ATTEMPTS} attempts); try again",
        )

    async def _bump_global_generation(self) -> None:
        # Cross-slot (shared by every app), so after the script rather than in it. The change is
        # committed and published by now: failing here would make the caller retry a done change.
        try:
            await self._redis.incr(GENERATION_KEY)
        except RedisError as exc:
            logger.warning("mini-program change committed, but %s was not bumped: %s", GENERATION_KEY, exc)

    async def _commit(self, app_id: str, generation: int, commit: _Commit[T]) -> tuple[str, int]:
        assert commit.script is not None
        assert commit.audit is not None
        audit_pairs = pairs(audit_fields(commit.audit))
        header = (generation, CHANGES_CHANNEL, app_id, len(audit_pairs) // 2)
        keys = (app_key(app_id), audit_key(app_id), *commit.keys)
        status, new_generation = await commit.script(keys=keys, args=(*header, *audit_pairs, *commit.args))
        return text(status), int(new_generation)

    async def _snapshot(self, app_id: str, version: str | None = None) -> _Snapshot:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(app_key(app_id))
            pipe.hgetall(release_key(app_id))
            pipe.zrange(versions_key(app_id), -1, -1)
            if version is not None:
                pipe.hgetall(version_key(app_id, version))
            app_hash, release_hash, highest, *version_hash = await pipe.execute()
        if not app_hash:
            return _Snapshot(app_id, -1, None, None, None, None)
        app = app_from_hash(app_id, decoded(app_hash))
        generation = app.generation
        stored = version_hash[0] if version_hash else None
        return _Snapshot(
            app_id=app_id,
            generation=generation,
            app=app,
            version=version_from_hash(app_id, decoded(stored)) if stored else None,
            release=release_from_hash(app_id, decoded(release_hash), generation) if release_hash else None,
            highest=text(highest[0]) if highest else None,
        )


# --- rules that need stored state -------------------------------------------


@functools.cache
def _app_id_pattern() -> re.Pattern[str]:
    # The manifest schema's appId rule, so an app id is valid here exactly when it is in a manifest;
    # it also keeps `{` and `}` out of the hash tag.
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return re.compile(schema["properties"]["appId"]["pattern"].removesuffix("$") + r"\Z")


def _require_app_id(app_id: str) -> None:
    if len(app_id) > 100 or _app_id_pattern().match(app_id) is None:
        raise RegistryError(
            ErrorCode.INVALID_APP_ID,
            f"{app_id!r} is not an app id: use 2 to 8 dot-separated lowercase labels such as "
            "com.parkservices.tenant, as in the manifest's appId",
        )


def _require_owner(app: App, partner_id: str) -> None:
    if app.partner_id != partner_id:
        raise RegistryError(
            ErrorCode.NOT_APP_OWNER, f"{app.app_id} belongs to another partner; only its owner may change it"
        )


def _require_manifest_matches(app_id: str, manifest: Manifest, manifest_bytes: bytes) -> None:
    if manifest.app_id != app_id:
        raise RegistryError(
            ErrorCode.MANIFEST_MISMATCH, f"the manifest is for {manifest.app_id}, not {app_id}"
        )
    # The bytes are what the partner signed and what is stored; they must say what `manifest` says.
    if load_manifest(manifest_bytes) != manifest:
        raise RegistryError(
            ErrorCode.MANIFEST_MISMATCH, "manifest_bytes do not parse to the manifest given with them"
        )


def _require_approved(version: Version) -> Version:
    if version.state != ReviewState.APPROVED:
        raise RegistryError(
            ErrorCode.NOT_APPROVED,
            f"version {version.version} is {version.state}; only an approved version can be released",
        )
    return version


def _require_served(manifest: Manifest, member_banks: MemberBanks) -> None:
    if manifest.member_banks is ALL_MEMBER_BANKS:
        return
    if member_banks is ALL_MEMBER_BANKS:
        unserved = "every member bank"
    else:
        missing = member_banks - manifest.member_banks
        if not missing:
            return
        unserved = ", ".join(sorted(missing))
    raise RegistryError(
        ErrorCode.MEMBER_BANK_NOT_SERVED,
        f"version {manifest.version} serves {banks_text(manifest.member_banks)} only, not {unserved}",
    )


def _version_exists(app_id: str, version: str) -> RegistryError:
    return RegistryError(
        ErrorCode.VERSION_EXISTS,
        f"{app_id} already has version {version}; versions are immutable, so publish a new version",
    )
