"""The experience this process serves: held in memory, switched within a second of a publish anywhere.

The home screen resolves every request against the current `ExperienceSet`,
so reading Redis per request is not an option: `current()` is synchronous
and only returns what is held. Two background loops keep it fresh:

- a listener on `bff:xp:changes` reloads as soon as a version is published;
- a poll of `bff:{xp}:current` every `poll_interval_s` (0.5 s) catches what
  the listener missed (a reconnect, a dead connection), so a switch is seen
  within a second even without pub/sub.

Either only nudges: what is loaded is always the version Redis names as
current, so a late or duplicate message cannot switch back to an old one.

When Redis has no version yet, the first process to look seeds version 1
from the shipped files (atomically, see `ExperienceStore.seed`). When Redis
cannot be reached at start, the shipped files are served as version 0 until
it can, so the home screen keeps working.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from redis.exceptions import RedisError

from bff.experience.loading import ExperienceSet
from bff.experience.problems import ExperienceError
from bff.experience.refusals import ExperienceRefused
from bff.experience.store import CHANGES_CHANNEL, ExperienceStore
from bff.experience.store_records import StoredVersion, VersionMeta
from bff.store.background import BackgroundTask
from bff.store.client import RedisClient
from bff.store.subscription import ChannelSubscriber

logger = logging.getLogger("bff.experience.live")

DEFAULT_POLL_INTERVAL_S: Final = 0.5
SEED_ACTOR: Final = "bff (shipped experience/)"


@dataclass(frozen=True)
class LiveSnapshot:
    """What this process serves: version 0 is the shipped files, served while Redis has not answered."""

    version: int
    experience: ExperienceSet
    meta: VersionMeta | None  # None for version 0


class ExperienceNotLoaded(RuntimeError):
    """`current()` was called before `start()` loaded an experience."""


class LiveExperience:
    def __init__(
        self,
        store: ExperienceStore,
        redis: RedisClient,
        *,
        shipped: Callable[[], ExperienceSet] | None = None,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        listen: bool = True,
    ) -> None:
        self._store = store
        self._redis = redis
        self._shipped = shipped
        self._poll_interval_s = poll_interval_s
        self._listen_enabled = listen
        self._snapshot: LiveSnapshot | None = None
        # One load at a time: the listener and the poll may both be nudged by the same publish.
        self._lock = asyncio.Lock()
        self._refused_versions: set[int] = set()
        self._poll_failing = False
        self._listener = ChannelSubscriber(
            "experience-listener",
            redis,
            CHANGES_CHANNEL,
            self._nudged,
            self._lost,
            lost_on=(ExperienceError,),
        )
        self._poller = BackgroundTask("experience-poll", self._poll)

    # --- the hot path ---

    def current(self) -> tuple[int, ExperienceSet]:
        """The version served and its experience set; no I/O."""
        snapshot = self.snapshot()
        return snapshot.version, snapshot.experience

    def snapshot(self) -> LiveSnapshot:
        """The version served, its experience set and who published it; no I/O."""
        if self._snapshot is None:
            raise ExperienceNotLoaded("the experience is not loaded yet: LiveExperience.start() has not run")
        return self._snapshot

    # --- lifecycle ---

    async def start(self) -> None:
        """Load (seeding if Redis has none) the current version, then follow changes."""
        try:
            await self.refresh()
        except (RedisError, OSError) as exc:
            logger.warning("cannot read the published experience from Redis: %s", exc)
        if self._snapshot is None:
            self._serve_shipped()
        if self._listen_enabled:
            self._listener.start()
        self._poller.start()

    async def stop(self) -> None:
        await self._listener.stop()
        await self._poller.stop()

    async def refresh(self) -> None:
        """Load the version Redis names as current, unless it is the one served (seed one if there is none)."""
        async with self._lock:
            held = self._snapshot
            number = await self._store.current_version()
            if number is None and self._shipped is not None:
                number = await self._store.seed(self._shipped(), SEED_ACTOR)
            if number is None or (held and number == held.version) or number in self._refused_versions:
                return
            stored = await self._load(number)
            # offer() may have moved to a newer version while this one loaded: never step back over it.
            # A lower number from Redis is otherwise adopted: versions only grow, so Redis was reset.
            if stored is not None and (self._snapshot is held or stored.version > self._snapshot_version()):
                self._adopt(stored)

    def _snapshot_version(self) -> int:
        return self._snapshot.version if self._snapshot else -1

    def offer(self, stored: StoredVersion) -> None:
        """Serve a version this process just published, without waiting to hear of it (read your writes)."""
        if stored.version > self._snapshot_version():
            self._adopt(stored)

    # --- loading ---

    async def _load(self, number: int) -> StoredVersion | None:
        try:
            return await self._store.version(number)
        except ExperienceError as exc:
            # Published data this code refuses (e.g. checks grew stricter): keep serving what is held.
            self._refused_versions.add(number)
            logger.error("experience version %d is refused, still serving the previous one: %s", number, exc)
        except ExperienceRefused as exc:  # gone between reading `current` and the version (a flushed Redis)
            logger.warning("experience version %d could not be read: %s", number, exc)
        return None

    def _adopt(self, stored: StoredVersion) -> None:
        self._snapshot = LiveSnapshot(stored.version, stored.experience, stored.meta)
        logger.info("serving experience version %d (digest %s)", stored.version, stored.meta.digest)

    def _serve_shipped(self) -> None:
        if self._shipped is None:
            raise ExperienceNotLoaded("no experience is published in Redis and no shipped files were given")
        logger.warning("serving the shipped experience files as version 0 until Redis answers")
        self._snapshot = LiveSnapshot(0, self._shipped(), None)

    # --- background loops ---

    async def _poll(self) -> None:
        while not self._poller.stopping:
            await asyncio.sleep(self._poll_interval_s)
            try:
                await self.refresh()
            except (RedisError, OSError, ExperienceError) as exc:
                if not self._poll_failing:  # once per outage, not twice a second
                    logger.warning("experience poll failed, still serving what it has: %s", exc)
                self._poll_failing = True
            else:
                self._poll_failing = False

    async def _nudged(self, _: bytes | str) -> None:
        await self.refresh()  # the message only nudges: Redis's `current` decides

    @staticmethod
    def _lost(exc: BaseException) -> None:
        # Versions published while disconnected are caught by the poll.
        logger.warning("experience change listener lost its connection: %s", exc)
