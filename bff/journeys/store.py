"""The journey store: journeys in Redis, every transition one atomic script (scripts.py).

A transition is checked in Python against the journey's definition (the step
exists, the actor's channel and role may take it, the payload fits the step's
schema), then one script on the journey's keys checks the idempotency key, that
the journey has not ended, the expected version and the current state, and
writes the new state, the audit event (stream entry id = version), the
idempotency record and the expiry, and publishes the new version, all or
nothing. The work queues of employees are kept beside it (waiting.py).

Redis errors and timeouts become JourneyStoreUnavailable at once (no waiting
for Redis to come back): the caller retries later with the same idempotency
key, which is safe whether or not the first attempt was applied. The client's
own reconnection brings the store back when Redis is, with no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ClusterError, RedisClusterException, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bff.journeys import scripts
from bff.journeys.actors import Actor, JourneyRole
from bff.journeys.definitions import START, Definitions, JourneyDefinition, TransitionDefinition
from bff.journeys.errors import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    JourneyError,
    JourneyNotFound,
    JourneyStoreUnavailable,
    JourneyTerminal,
    TransitionNotAvailable,
    VersionConflict,
)
from bff.journeys.keys import journey_keys
from bff.journeys.payloads import canonical_json, request_hash
from bff.journeys.records import Journey, JourneyEvent, event_from_pairs, journey_from_hash
from bff.journeys.waiting import WaitingIndex
from bff.store.client import RedisClient, text

logger = logging.getLogger("bff.journeys.store")

# Every Redis step of an operation must answer within this; far above a transition's few
# milliseconds with appendfsync always, far below what a person waiting on a screen accepts.
DEFAULT_TIMEOUT_S: Final = 1.0

# Journey ids are derived from (member bank, customer, idempotency key) under this namespace,
# so a repeated start finds the journey its first attempt created.
_JOURNEY_NAMESPACE: Final = uuid.UUID("4d0c1d2e-8a51-5b3c-9f0e-6a7b8c9d0e1f")

# Printable ASCII without spaces: UUIDs, ULIDs and the like; bounded so the record stays small.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")

# What redis-py raises when Redis (or the cluster) cannot be reached or answered in time.
_UNAVAILABLE_ERRORS: Final = (
    TimeoutError,
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    ClusterError,
    RedisClusterException,
)
# Replies by which Redis says it cannot take writes now, rather than that a command is wrong.
_UNAVAILABLE_REPLIES: Final = ("MISCONF", "LOADING", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN")


@dataclass(frozen=True, slots=True)
class _Head:
    definition: str
    member_bank: str


class JourneyStore:
    def __init__(
        self, redis: RedisClient, definitions: Definitions, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self._redis = redis
        self._definitions = definitions
        self._timeout_s = timeout_s
        self._waiting = WaitingIndex(redis)
        self._initializing = asyncio.Lock()
        # register_script does no I/O: each script is loaded on first use (EVALSHA, then SCRIPT LOAD).
        self._start: AsyncScript = redis.register_script(scripts.START)
        self._transition: AsyncScript = redis.register_script(scripts.TRANSITION)

    @property
    def definitions(self) -> Definitions:
        return self._definitions

    async def start(
        self,
        definition_id: str,
        *,
        member_bank: str,
        customer: str,
        actor: Actor,
        payload: Mapping[str, Any],
        idempotency_key: str,
    ) -> JourneyEvent:
        """Start a journey for `customer` of `member_bank`; the answer is its first event (version 1)."""
        if not member_bank or not customer:
            raise ValueError("a journey belongs to a member bank and a customer; neither may be empty")
        definition = self._definitions.get_definition(definition_id)
        step = definition.start
        _check_key(idempotency_key)
        step.check_actor(actor)
        step.check_payload(payload)
        journey_id = journey_id_for(member_bank, customer, idempotency_key)
        extra: list[str | int] = [definition.id, definition.version, member_bank, customer]
        args = self._args(
            definition, step, journey_id, actor, payload, idempotency_key, f"{definition.id}:{START}"
        )
        async with self._redis_step(mutation=True):
            reply = await self._start(keys=journey_keys(journey_id).script_keys, args=[*args, *extra])
        return self._outcome(journey_id, reply, step, idempotency_key, expected_version=0)

    async def advance(
        self,
        journey_id: str,
        transition: str,
        *,
        expected_version: int,
        actor: Actor,
        payload: Mapping[str, Any],
        idempotency_key: str,
    ) -> JourneyEvent:
        """Take `transition` if the journey is still at `expected_version`; the answer is the new event.

        Repeating an idempotency key answers the first result again, whatever happened since.
        """
        _check_key(idempotency_key)
        head = await self._head(journey_id)
        definition = self._definitions.get_definition(head.definition)
        step = definition.transition(transition)
        step.check_actor(actor)
        step.check_payload(payload)
        waits_for = definition.states[step.to].waiting_for
        async with self._redis_step(mutation=True):
            if waits_for:  # step 1 of the work queues, before the transition (waiting.py)
                await self._waiting.enter(head.member_bank, waits_for, journey_id, expected_version + 1)
            extra: list[str | int] = [
                definition.id,
                step.name,
                expected_version,
                " ".join(sorted(step.from_states)),
            ]
            args = self._args(definition, step, journey_id, actor, payload, idempotency_key, step.name)
            reply = await self._transition(keys=journey_keys(journey_id).script_keys, args=[*args, *extra])
        event = self._outcome(journey_id, reply, step, idempotency_key, expected_version)
        await self._settle_waiting(definition, head.member_bank, event)
        return event

    async def get(self, journey_id: str) -> Journey:
        """The journey as it is now; JourneyNotFound if it never existed or has expired."""
        async with self._redis_step():
            fields = await self._redis.hgetall(journey_keys(journey_id).journey)
        if not fields:
            raise JourneyNotFound(journey_id)
        return journey_from_hash(journey_id, fields)

    async def events_after(
        self, journey_id: str, version: int, *, limit: int | None = None
    ) -> list[JourneyEvent]:
        """The journey's events with a version above `version`, oldest first (a subscriber's replay)."""
        keys = journey_keys(journey_id)
        async with self._redis_step():
            # The stream entry id is the version, so "after N" is the range from N+1.
            entries: list[tuple[bytes, dict[bytes, bytes]]] = cast(
                Any, await self._redis.xrange(keys.events, min=f"{max(version, 0) + 1}-0", count=limit)
            )
            if not entries and not await self._redis.exists(keys.journey):
                raise JourneyNotFound(journey_id)
        return [event_from_pairs(journey_id, _flat(fields)) for _, fields in entries]

    async def waiting(self, member_bank: str, role: JourneyRole, *, limit: int = 50) -> list[Journey]:
        """Journeys of `member_bank` waiting for `role`, longest waiting first; stale queue entries are dropped."""
        found: list[Journey] = []
        offset = 0
        while len(found) < limit:
            async with self._redis_step():
                entries = await self._waiting.entries(member_bank, role, offset, limit)
            if not entries:
                break
            offset += len(entries)
            for (journey_id, indexed), journey in zip(entries, await self._journeys(entries), strict=True):
                if journey is not None and role in self._waits_for(journey):
                    found.append(journey)
                elif journey is None or journey.version >= indexed:
                    # Stale: no transition to a version above this one is under way.
                    version = journey.version if journey else indexed
                    async with self._redis_step():
                        offset -= await self._waiting.leave(member_bank, [role], journey_id, version)
        return found[:limit]

    async def repair_waiting(self, journey_id: str) -> None:
        """Make the work queues agree with the journey's current state (an operator's or a sweep's fix)."""
        journey = await self.get(journey_id)
        definition = self._definitions.get_definition(journey.definition)
        waits_for = self._waits_for(journey)
        async with self._redis_step():
            await self._waiting.enter(journey.member_bank, waits_for, journey_id, journey.version)
            others = definition.employee_roles - waits_for
            await self._waiting.leave(journey.member_bank, others, journey_id, journey.version)

    # --- steps -----------------------------------------------------------------

    def _args(
        self,
        definition: JourneyDefinition,
        step: TransitionDefinition,
        journey_id: str,
        actor: Actor,
        payload: Mapping[str, Any],
        idempotency_key: str,
        hashed_as: str,
    ) -> list[str | int]:
        """The ARGV both scripts share, in the order scripts.py documents."""
        return [
            idempotency_key,
            request_hash(hashed_as, payload),
            journey_id,
            journey_keys(journey_id).updates,
            canonical_json(payload),
            step.to,
            "1" if definition.states[step.to].terminal else "0",
            definition.expiry_after(step),
            actor.channel.value,
            actor.role.value,
            actor.id,
        ]

    async def _head(self, journey_id: str) -> _Head:
        async with self._redis_step(mutation=True):
            definition, member_bank = await self._redis.hmget(
                journey_keys(journey_id).journey, ["definition", "member_bank"]
            )
        if definition is None or member_bank is None:
            raise JourneyNotFound(journey_id)
        return _Head(text(definition), text(member_bank))

    async def _journeys(self, entries: Sequence[tuple[str, int]]) -> list[Journey | None]:
        async def one(journey_id: str) -> Journey | None:
            with contextlib.suppress(JourneyNotFound):
                return await self.get(journey_id)
            return None

        return list(await asyncio.gather(*(one(journey_id) for journey_id, _ in entries)))

    def _waits_for(self, journey: Journey) -> frozenset[JourneyRole]:
        definition = self._definitions.get(journey.definition)
        state = definition.states.get(journey.state) if definition else None
        return state.waiting_for if state else frozenset()

    async def _settle_waiting(
        self, definition: JourneyDefinition, member_bank: str, event: JourneyEvent
    ) -> None:
        """Step 2 of the work queues; the transition is done, so a failure here is only logged."""
        waits_for = definition.states[event.to_state].waiting_for
        try:
            async with self._redis_step():
                roles = definition.employee_roles - waits_for
                await self._waiting.leave(member_bank, roles, event.journey_id, event.version)
        except JourneyStoreUnavailable:
            logger.warning(
                "work queues not settled after %s v%d; readers drop the stale entry",
                event.journey_id,
                event.version,
            )

    def _outcome(
        self,
        journey_id: str,
        reply: Sequence[Any],
        step: TransitionDefinition,
        idempotency_key: str,
        expected_version: int,
    ) -> JourneyEvent:
        """The script's answer as the new event, or its refusal as the matching error."""
        match text(reply[0]):
            case "ok":
                return event_from_pairs(journey_id, reply[1:])
            case "reused":
                raise IdempotencyKeyReused(idempotency_key)
            case "not_found":
                raise JourneyNotFound(journey_id)
            case "terminal":
                raise JourneyTerminal(journey_id, text(reply[1]))
            case "conflict":
                raise VersionConflict(journey_id, expected_version, int(reply[1]))
            case "not_available":
                raise TransitionNotAvailable(step.name, text(reply[1]), step.from_states)
            case other:
                raise JourneyError(f"the journey store answered {other!r}, which this version does not know")

    async def _cluster_ready(self) -> None:
        # redis-py 8.1's async cluster client fails (AttributeError on a half-made connection)
        # when many commands arrive while it first reads the slot map: let one task do that
        # alone. Once initialised this is a flag check.
        if isinstance(self._redis, RedisCluster):
            async with self._initializing:
                await self._redis.initialize()

    @contextlib.asynccontextmanager
    async def _redis_step(self, *, mutation: bool = False) -> AsyncIterator[None]:
        """Bound a Redis step by the timeout and turn 'Redis cannot answer' into JourneyStoreUnavailable."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._cluster_ready()
                yield
        except _UNAVAILABLE_ERRORS as exc:
            raise _unavailable(exc, mutation) from exc
        except ResponseError as exc:
            if not str(exc).startswith(_UNAVAILABLE_REPLIES):
                raise  # a wrong command or script: a bug to see, not an outage
            raise _unavailable(exc, mutation) from exc


def journey_id_for(member_bank: str, customer: str, idempotency_key: str) -> str:
    """The id of the journey a start with this idempotency key creates (the same for every repeat)."""
    return str(uuid.uuid5(_JOURNEY_NAMESPACE, f"{member_bank}\n{customer}\n{idempotency_key}"))


def _check_key(idempotency_key: str) -> None:
    if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise InvalidIdempotencyKey(
            "an idempotency key has 1 to 128 printable ASCII characters and no spaces"
        )


def _unavailable(exc: BaseException, mutation: bool) -> JourneyStoreUnavailable:
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    advice = (
        "; the transition may or may not have been applied: retry with the same idempotency key"
        if mutation
        else "; retry shortly"
    )
    return JourneyStoreUnavailable(f"the journey store (Redis) is unavailable ({reason}){advice}")


def _flat(fields: Mapping[Any, Any]) -> list[Any]:
    return [item for pair in fields.items() for item in pair]
