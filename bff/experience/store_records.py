"""The experience store's records and how they are kept in Redis (hash fields, stream entries, JSON).

A version is its files' exact bytes (as JSON text by path) plus its meta;
the history stream holds the meta of every version, never the files.
Values read back work whether or not the client decodes responses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bff.experience.loading import ExperienceSet
from bff.store.client import text


class Action(StrEnum):
    SEED = "seed"
    PUBLISH = "publish"
    ASSIGN = "assign"
    ROLLBACK = "rollback"
    SCHEDULED = "scheduled"


@dataclass(frozen=True)
class VersionMeta:
    """Who made a version, when, how, and what it changed (`summary`: fromVersion, fromDigest, changes)."""

    version: int
    digest: str
    action: Action
    actor: str
    at: float
    note: str
    summary: Mapping[str, Any]

    def fields(self) -> dict[str, str]:
        return {
            "version": str(self.version),
            "digest": self.digest,
            "action": self.action.value,
            "actor": self.actor,
            "at": repr(self.at),
            "note": self.note,
            "summary": json.dumps(self.summary, ensure_ascii=False),
        }

    @classmethod
    def from_fields(cls, stored: Mapping[Any, Any]) -> VersionMeta:
        values = {text(key): text(value) for key, value in stored.items() if text(key) != "files"}
        return cls(
            version=int(values["version"]),
            digest=values["digest"],
            action=Action(values["action"]),
            actor=values["actor"],
            at=float(values["at"]),
            note=values["note"],
            summary=json.loads(values["summary"]),
        )


@dataclass(frozen=True)
class StoredVersion:
    """A published version: its meta and its checked experience set (whose files are the stored bytes)."""

    meta: VersionMeta
    experience: ExperienceSet

    @property
    def version(self) -> int:
        return self.meta.version


def encode_files(files: Mapping[str, bytes]) -> str:
    # Files are UTF-8 by the time they are checked, so text keeps their bytes exactly.
    return json.dumps({name: raw.decode("utf-8") for name, raw in sorted(files.items())}, ensure_ascii=False)


def decode_files(stored: bytes | str) -> dict[str, bytes]:
    return {name: content.encode("utf-8") for name, content in json.loads(text(stored)).items()}


# --- scheduled changes ----------------------------------------------------------


class ScheduleState(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ScheduledAssignment:
    """A profile assignment to apply later, to whatever version is current then."""

    rule_id: str
    profile: str
    rollout_percent: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        percent = self.rollout_percent
        return {
            "ruleId": self.rule_id,
            "profile": self.profile,
            "rolloutPercent": float(percent) if percent is not None else None,
        }


@dataclass(frozen=True)
class ScheduledChange:
    """A whole set of files or an assignment, published once `at` (epoch seconds) has passed."""

    id: str
    at: float
    created_by: str
    created_at: float
    note: str = ""
    files: Mapping[str, bytes] | None = field(default=None, repr=False)
    assign: ScheduledAssignment | None = None
    state: ScheduleState = ScheduleState.PENDING
    version: int | None = None  # the version it became, once applied
    error: str | None = None  # why it was not applied, once failed
    finished_at: float | None = None
    finished_by: str | None = None

    def finished(
        self,
        state: ScheduleState,
        at: float,
        by: str,
        *,
        version: int | None = None,
        error: str | None = None,
    ) -> ScheduledChange:
        return replace(self, state=state, finished_at=at, finished_by=by, version=version, error=error)

    def to_record(self) -> str:
        assign = self.assign
        record = {
            "id": self.id,
            "at": self.at,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "note": self.note,
            "files": json.loads(encode_files(self.files)) if self.files is not None else None,
            "assign": {**assign.to_json(), "rolloutPercent": _text_or_none(assign.rollout_percent)}
            if assign
            else None,
            "state": self.state.value,
            "version": self.version,
            "error": self.error,
            "finishedAt": self.finished_at,
            "finishedBy": self.finished_by,
        }
        return json.dumps(record, ensure_ascii=False)

    @classmethod
    def from_record(cls, stored: bytes | str) -> ScheduledChange:
        record = json.loads(text(stored))
        assign = record["assign"]
        files = record["files"]
        return cls(
            id=record["id"],
            at=record["at"],
            created_by=record["createdBy"],
            created_at=record["createdAt"],
            note=record["note"],
            files=decode_files(json.dumps(files)) if files is not None else None,
            assign=ScheduledAssignment(
                assign["ruleId"],
                assign["profile"],
                Decimal(assign["rolloutPercent"]) if assign["rolloutPercent"] is not None else None,
            )
            if assign
            else None,
            state=ScheduleState(record["state"]),
            version=record["version"],
            error=record["error"],
            finished_at=record["finishedAt"],
            finished_by=record["finishedBy"],
        )


def _text_or_none(value: Decimal | None) -> str | None:
    # Decimal as text: a percentage to the hundredth must come back exactly as it was sent.
    return str(value) if value is not None else None
