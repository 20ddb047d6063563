"""Journeys and their events as values, and how they are read back from Redis replies.

Times are stored as Unix milliseconds (Redis server time, the same clock for every
BFF instance) and read back as UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.store.client import text

_DATA_PREFIX = "data:"


@dataclass(frozen=True)
class Journey:
    """A journey as it is now; `data` holds the last payload of each step taken, by step name."""

    id: str
    definition: str
    definition_version: int
    member_bank: str
    customer: str
    state: str
    version: int
    terminal: bool
    data: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class JourneyEvent:
    """One transition as the audit log keeps it; `from_state` is None for the start."""

    journey_id: str
    version: int
    transition: str
    from_state: str | None
    to_state: str
    actor: Actor
    payload: Mapping[str, Any]
    idempotency_key: str
    at: datetime


@dataclass(frozen=True)
class JourneyUpdate:
    """The notice published on the journey's updates channel: which version it has reached."""

    journey_id: str
    version: int
    state: str
    transition: str


def journey_from_hash(journey_id: str, fields: Mapping[bytes | str, bytes | str]) -> Journey:
    values = {text(key): text(value) for key, value in fields.items()}
    return Journey(
        id=journey_id,
        definition=values["definition"],
        definition_version=int(values["definition_version"]),
        member_bank=values["member_bank"],
        customer=values["customer"],
        state=values["state"],
        version=int(values["version"]),
        terminal=values["terminal"] == "1",
        data={
            key.removeprefix(_DATA_PREFIX): json.loads(value)
            for key, value in sorted(values.items())
            if key.startswith(_DATA_PREFIX)
        },
        created_at=_time(values["created_at"]),
        updated_at=_time(values["updated_at"]),
    )


def event_from_pairs(journey_id: str, pairs: Sequence[bytes | str]) -> JourneyEvent:
    """An event from a stream entry's flat field/value list (also what the scripts answer)."""
    values = {text(pairs[i]): text(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return JourneyEvent(
        journey_id=journey_id,
        version=int(values["version"]),
        transition=values["transition"],
        from_state=values["from"] or None,
        to_state=values["to"],
        actor=Actor(Channel(values["channel"]), JourneyRole(values["role"]), values["actor"]),
        payload=json.loads(values["payload"]),
        idempotency_key=values["key"],
        at=_time(values["at"]),
    )


def parse_update(message: bytes | str) -> JourneyUpdate:
    """The notice from an updates-channel message."""
    document: dict[str, Any] = json.loads(message)
    return JourneyUpdate(
        journey_id=str(document["journeyId"]),
        version=int(document["version"]),
        state=str(document["state"]),
        transition=str(document["transition"]),
    )


def _time(milliseconds: str) -> datetime:
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)
