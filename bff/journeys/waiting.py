"""The employees' work queues: per member bank and role, the journeys waiting for that role.

A queue lives under the member bank's hash tag, a journey under its own, so on
Redis Cluster they sit in different slots and no script may change both. The
queue is therefore kept in two steps around the transition script, each its
own small script that is safe to repeat:

1. before a transition into a state that waits for roles, ENTER puts the
   journey in those queues, recording the version the transition will create;
2. after a transition has been applied, LEAVE takes it out of the queues its
   new state does not wait for, unless a newer version has put it back.

So a queue never misses a journey whose transition was acknowledged (step 1
ran before the transition was written), but it may name one that is not
waiting: the transition failed after step 1, or the process died before
step 2. Readers therefore check each journey's actual state (the store's
`waiting`), list only the ones really waiting, and take the stale entries out
with the same guarded LEAVE. `JourneyStore.repair_waiting` rebuilds one
journey's entries from its state, for an operator or a sweep.

Each queue has a versions hash beside it: the highest version that put the
journey in the queue. LEAVE at version v removes an entry only if no version
above v has entered it since, so a late or repeated step cannot undo a newer
one whatever order the steps of racing transitions arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from redis.commands.core import AsyncScript

from bff.journeys import scripts
from bff.journeys.keys import waiting_keys
from bff.store.client import RedisClient, text


class WaitingIndex:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        # register_script does no I/O: each script is loaded on first use (EVALSHA, then SCRIPT LOAD).
        self._enter: AsyncScript = redis.register_script(scripts.ENTER_WAITING)
        self._leave: AsyncScript = redis.register_script(scripts.LEAVE_WAITING)

    async def enter(self, member_bank: str, roles: Iterable[str], journey_id: str, version: int) -> None:
        """Put the journey in each role's queue (kept at its first waiting-since time) for `version`."""
        for role in sorted(roles):
            keys = waiting_keys(member_bank, role)
            await self._enter(keys=[keys.queue, keys.versions], args=[journey_id, version])

    async def leave(self, member_bank: str, roles: Iterable[str], journey_id: str, version: int) -> int:
        """Take the journey out of each role's queue unless a version above `version` has put it there.

        Answers how many queues it was taken out of.
        """
        removed = 0
        for role in sorted(roles):
            keys = waiting_keys(member_bank, role)
            removed += int(await self._leave(keys=[keys.queue, keys.versions], args=[journey_id, version]))
        return removed

    async def entries(self, member_bank: str, role: str, offset: int, count: int) -> list[tuple[str, int]]:
        """(journey id, version that entered it) for `count` entries from `offset`, longest waiting first."""
        keys = waiting_keys(member_bank, role)
        members = await self._redis.zrange(keys.queue, offset, offset + count - 1)
        ids = [text(cast(bytes | str, member)) for member in members]
        if not ids:
            return []
        versions = await self._redis.hmget(keys.versions, ids)
        return [(journey_id, int(version or 0)) for journey_id, version in zip(ids, versions, strict=True)]
