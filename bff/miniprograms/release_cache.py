"""Releases and manifests as the bridge reads them: in process, and never more than a second stale.

Every bridge call asks whether its app is suspended for the customer's member
bank and what the customer's version declares. Reading the registry on each
call would put a MULTI/EXEC on the hot path, so releases are cached here and
dropped two ways:

- a listener on the registry's `bff:mp:changes` channel drops the changed
  app's entry as soon as the change is published;
- each read polls the shared counter `bff:mp:generation` (one GET, at most
  every `poll_interval_s`) and drops everything when it moved, so a lost
  pub/sub message (a reconnect, a dead listener) delays a suspension by at
  most the poll interval, never indefinitely.

The catalogue and launches read the same way: each app with its release,
and the list of app ids, are cached and dropped like releases. A version's
content (manifest, bundle digest) never changes, so versions are cached for
good (bounded by count); their review record may move on, so nothing reads
that from here. Changes committed by this process drop its entries at once
(`MiniProgramRegistry.on_commit`), before the caller hears of the change.
`on_change` callbacks run for every published change: the kill switch
(`KillSwitch`) hangs there to revoke live bridge tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from bff.miniprograms.bridge_tokens import BridgeTokenIssuer
from bff.miniprograms.lifecycle import RegistryError, Release
from bff.miniprograms.manifest import ALL_MEMBER_BANKS, Manifest
from bff.miniprograms.registry import CHANGES_CHANNEL, GENERATION_KEY, MiniProgramRegistry, parse_change
from bff.miniprograms.registry_records import App, Version
from bff.store.client import RedisClient, text
from bff.store.subscription import ChannelSubscriber

logger = logging.getLogger("bff.miniprograms.release_cache")

DEFAULT_POLL_INTERVAL_S: Final = 0.5
MAX_VERSIONS: Final = 1000

ChangeListener = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Entry:
    app: App | None  # None: no such app
    release: Release | None  # None: never released (or no such app)


class ReleaseCache:
    def __init__(
        self,
        registry: MiniProgramRegistry,
        redis: RedisClient,
        *,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._redis = redis
        self._poll_interval_s = poll_interval_s
        self._clock = clock
        self._apps: dict[str, _Entry] = {}
        self._app_ids: list[str] | None = None
        self._versions: dict[tuple[str, str], Version] = {}
        # Bumped on every invalidation: a read that started before one must not store what it read.
        self._epoch = 0
        self._seen_generation: bytes | str | None = None
        self._polled_at = float("-inf")
        self._listeners: list[ChangeListener] = []
        self._subscriber = ChannelSubscriber(
            "release-cache-listener", redis, CHANGES_CHANNEL, self._changed, self._lost
        )
        registry.on_commit(self.forget)

    def on_change(self, listener: ChangeListener) -> None:
        """Call `listener(app_id)` for every change published on the registry's channel."""
        self._listeners.append(listener)

    async def release(self, app_id: str) -> Release | None:
        """The app's release (None: not released or no such app), at most a poll interval stale."""
        return (await self._entry(app_id)).release

    async def app_state(self, app_id: str) -> tuple[App, Release | None] | None:
        """The app and its release (None: no such app), as stale as `release`."""
        entry = await self._entry(app_id)
        return None if entry.app is None else (entry.app, entry.release)

    async def app_ids(self) -> list[str]:
        """Every app's id, sorted, as stale as `release`."""
        await self._poll()
        if self._app_ids is None:
            epoch = self._epoch
            ids = await self._registry.app_ids()
            if epoch == self._epoch:
                self._app_ids = ids
            return ids
        return self._app_ids

    async def version(self, app_id: str, version: str) -> Version:
        """A stored version, for its content only (manifest, bundle digest): cached without expiry."""
        key = (app_id, version)
        found = self._versions.get(key)
        if found is None:
            found = await self._registry.get_version(app_id, version)
            if len(self._versions) >= MAX_VERSIONS:
                self._versions.pop(next(iter(self._versions)))
            self._versions[key] = found
        return found

    async def manifest(self, app_id: str, version: str) -> Manifest:
        """The manifest of one version (immutable, so cached without expiry)."""
        return (await self.version(app_id, version)).manifest

    async def _entry(self, app_id: str) -> _Entry:
        await self._poll()
        entry = self._apps.get(app_id)
        if entry is not None:
            return entry
        epoch = self._epoch
        try:
            app, release = await self._registry.app_state(app_id)
            entry = _Entry(app, release)
        except RegistryError:
            entry = _Entry(None, None)
        if epoch == self._epoch:
            self._apps[app_id] = entry
        return entry

    def forget(self, app_id: str | None = None) -> None:
        """Drop one app's entry (None: every app's)."""
        self._epoch += 1
        self._app_ids = None  # a change may be a new app
        if app_id is None:
            self._apps.clear()
        else:
            self._apps.pop(app_id, None)

    async def start(self) -> None:
        """Start listening on the registry's change channel (in the lifespan)."""
        self._subscriber.start()

    async def stop(self) -> None:
        await self._subscriber.stop()

    async def _poll(self) -> None:
        now = self._clock()
        if now - self._polled_at < self._poll_interval_s:
            return
        self._polled_at = now
        generation = await self._redis.get(GENERATION_KEY)
        if generation != self._seen_generation:
            self._seen_generation = generation
            self.forget()

    def _lost(self, exc: BaseException) -> None:
        # Changes missed while disconnected are caught by the generation poll.
        logger.warning("mini-program change listener lost its connection: %s", exc)
        self.forget()

    async def _changed(self, data: bytes | str) -> None:
        try:
            app_id = parse_change(data).app_id
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable message on %s: %r", CHANGES_CHANNEL, text(data)[:200])
            self.forget()
            return
        self.forget(app_id)
        for listener in self._listeners:
            try:
                await listener(app_id)
            except Exception:  # one failing listener must not stop the cache's invalidation
                logger.exception("a mini-program change listener failed for %s", app_id)


class KillSwitch:
    """Revokes the live bridge tokens of a suspended app, so a suspension stops running mini-programs too."""

    def __init__(self, registry: MiniProgramRegistry, issuer: BridgeTokenIssuer) -> None:
        self._registry = registry
        self._issuer = issuer

    async def apply(self, app_id: str) -> int:
        """Revoke the tokens of the member banks `app_id` is suspended for; returns how many died."""
        try:
            release = await self._registry.get_release(app_id)
        except RegistryError:
            return 0
        if release is None or not release.suspended:
            return 0
        banks = None if release.suspended is ALL_MEMBER_BANKS else release.suspended
        revoked = await self._issuer.revoke_app(app_id, banks)
        if revoked:
            logger.info("kill switch: revoked %d bridge tokens of %s", revoked, app_id)
        return revoked


def watch_kill_switch(cache: ReleaseCache, kill_switch: KillSwitch) -> None:
    """Apply the kill switch on every change the cache hears about."""

    async def changed(app_id: str) -> None:
        await kill_switch.apply(app_id)

    cache.on_change(changed)
