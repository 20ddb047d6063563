"""Redis keys of the journeys domain.

Every key of one journey carries the hash tag `{<journey id>}`, so in Redis
Cluster they share a slot and one script may change them together:

    bff:jr:{<id>}:journey        hash: definition, definition_version, member_bank, customer,
                                 state, version, terminal, created_at, updated_at,
                                 data:<step> (each step's last payload, canonical JSON)
    bff:jr:{<id>}:idempotency    hash: idempotency key -> "<request sha256> <version>"
    bff:jr:{<id>}:events         stream, entry id "<version>-0": the audit log, one event per transition
    bff:jr:{<id>}:updates        shard channel (SPUBLISH) announcing each new version
    bff:jr:{<id>}:messages       stream: what customer and employees write on the journey

The work queues of employees are per member bank and role, under the bank's tag:

    bff:jr:waiting:{<member bank>}:<role>            sorted set: journey id, scored by waiting-since (ms)
    bff:jr:waiting:{<member bank>}:<role>:versions   hash: journey id -> version that put it there
"""

from __future__ import annotations

from dataclasses import dataclass

from bff.store.keys import part, tag


@dataclass(frozen=True, slots=True)
class JourneyKeys:
    journey: str
    idempotency: str
    events: str
    updates: str
    messages: str

    @property
    def script_keys(self) -> list[str]:
        """The keys a journey script declares, in the order the scripts read them (KEYS[1..3])."""
        return [self.journey, self.idempotency, self.events]


@dataclass(frozen=True, slots=True)
class WaitingKeys:
    queue: str
    versions: str


def journey_keys(journey_id: str) -> JourneyKeys:
    prefix = f"bff:jr:{tag(journey_id)}"
    return JourneyKeys(
        f"{prefix}:journey",
        f"{prefix}:idempotency",
        f"{prefix}:events",
        f"{prefix}:updates",
        f"{prefix}:messages",
    )


def updates_channel(journey_id: str) -> str:
    """The shard channel (SSUBSCRIBE) on which every new version of the journey is announced."""
    return journey_keys(journey_id).updates


def waiting_keys(member_bank: str, role: str) -> WaitingKeys:
    queue = f"bff:jr:waiting:{tag(member_bank)}:{part(role)}"
    return WaitingKeys(queue, f"{queue}:versions")
