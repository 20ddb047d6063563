"""The registry's records, and how they are stored in Redis hashes and streams.

A version hash holds the manifest exactly as the partner signed it (bytes),
the JWS over it, and the review fields; only `review_fields` are ever written
again. Values read back work whether or not the client decodes responses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bff.miniprograms.lifecycle import (
    AuditAction,
    MemberBanks,
    Release,
    Review,
    ReviewState,
    approvers,
)
from bff.miniprograms.manifest import ALL_MEMBER_BANKS, Manifest, PermissionDiff, load_stored_manifest

Field = str | bytes | int


@dataclass(frozen=True)
class App:
    app_id: str
    partner_id: str
    created_at: float
    generation: int


@dataclass(frozen=True)
class Version:
    """A stored version: the partner's signed manifest (never changed) and its review."""

    app_id: str
    version: str
    manifest_bytes: bytes
    manifest_jws: str
    bundle_sha256: str
    added_at: float
    added_by: str
    state: ReviewState
    submitted_at: float | None = None
    reviews: tuple[Review, ...] = ()

    @cached_property
    def manifest(self) -> Manifest:
        return load_stored_manifest(self.manifest_bytes)

    @property
    def approvers(self) -> tuple[str, ...]:
        return approvers(self.reviews)

    @property
    def permission_diff(self) -> PermissionDiff | None:
        """The diff the latest reviewer saw (None before any review)."""
        return self.reviews[-1].permission_diff if self.reviews else None

    def summary(self) -> dict[str, str]:
        return {"state": self.state, "approvers": ",".join(self.approvers)}


@dataclass(frozen=True)
class AuditEvent:
    """One audited change; `before` and `after` summarise the state it changed."""

    id: str
    at: float
    actor: str
    action: AuditAction
    version: str | None
    before: Mapping[str, str]
    after: Mapping[str, str]
    note: str
    generation: int


@dataclass(frozen=True)
class Change:
    """A notification from `bff:mp:changes`: this app reached this generation."""

    app_id: str
    generation: int


def parse_change(data: bytes | str) -> Change:
    """Read a message published on CHANGES_CHANNEL."""
    payload = json.loads(data)
    return Change(app_id=str(payload["app_id"]), generation=int(payload["generation"]))


@dataclass(frozen=True)
class AuditEntry:
    """An audit entry to append; the script adds the new generation."""

    at: float
    actor: str
    action: AuditAction
    version: str | None
    before: Mapping[str, str]
    after: Mapping[str, str]
    note: str = ""


# --- encoding ---------------------------------------------------------------


def text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string, got {type(value).__name__}")


def decoded(stored: Mapping[Any, Any]) -> dict[str, Any]:
    """Hash fields as str keys; values stay as Redis returned them (bytes unless decode_responses)."""
    return {text(key): value for key, value in stored.items()}


def pairs(fields: Mapping[str, Field]) -> tuple[Field, ...]:
    """Field/value pairs flattened for HSET and XADD arguments."""
    return tuple(item for pair in fields.items() for item in pair)


def _optional(value: str | None) -> str:
    return "" if value is None else value


def version_fields(version: Version) -> dict[str, Field]:
    return {
        "version": version.version,
        "manifest": version.manifest_bytes,
        "manifest_jws": version.manifest_jws,
        "bundle_sha256": version.bundle_sha256,
        "added_at": repr(version.added_at),
        "added_by": version.added_by,
        **review_fields(version),
    }


def review_fields(version: Version) -> dict[str, Field]:
    """The only fields of a version that ever change after it is added."""
    return {
        "state": version.state.value,
        "submitted_at": "" if version.submitted_at is None else repr(version.submitted_at),
        "reviews": json.dumps([_review_json(review) for review in version.reviews]),
    }


def _review_json(review: Review) -> dict[str, Any]:
    diff = review.permission_diff
    return {
        "reviewer": review.reviewer,
        "approve": review.approve,
        "reason": review.reason,
        "at": review.at,
        "diff_base": review.diff_base,
        "permission_diff": {
            "added_scopes": diff.added_scopes,
            "removed_scopes": diff.removed_scopes,
            "added_bridge_apis": diff.added_bridge_apis,
            "removed_bridge_apis": diff.removed_bridge_apis,
            "added_network_domains": diff.added_network_domains,
            "removed_network_domains": diff.removed_network_domains,
            "needs_second_review": diff.needs_second_review,
        },
    }


def _review_from_json(data: Mapping[str, Any]) -> Review:
    diff = data["permission_diff"]
    return Review(
        reviewer=data["reviewer"],
        approve=data["approve"],
        reason=data["reason"],
        at=data["at"],
        diff_base=data["diff_base"],
        permission_diff=PermissionDiff(
            added_scopes=tuple(diff["added_scopes"]),
            removed_scopes=tuple(diff["removed_scopes"]),
            added_bridge_apis=tuple(diff["added_bridge_apis"]),
            removed_bridge_apis=tuple(diff["removed_bridge_apis"]),
            added_network_domains=tuple(diff["added_network_domains"]),
            removed_network_domains=tuple(diff["removed_network_domains"]),
            needs_second_review=diff["needs_second_review"],
        ),
    )


def app_from_hash(app_id: str, fields: Mapping[str, Any]) -> App:
    return App(app_id, text(fields["partner_id"]), float(fields["created_at"]), int(fields["generation"]))


def version_from_hash(app_id: str, fields: Mapping[str, Any]) -> Version:
    manifest = fields["manifest"]
    submitted_at = text(fields["submitted_at"])
    return Version(
        app_id=app_id,
        version=text(fields["version"]),
        manifest_bytes=manifest.encode() if isinstance(manifest, str) else manifest,
        manifest_jws=text(fields["manifest_jws"]),
        bundle_sha256=text(fields["bundle_sha256"]),
        added_at=float(fields["added_at"]),
        added_by=text(fields["added_by"]),
        state=ReviewState(text(fields["state"])),
        submitted_at=float(submitted_at) if submitted_at else None,
        reviews=tuple(_review_from_json(review) for review in json.loads(fields["reviews"])),
    )


def _banks_value(banks: MemberBanks) -> str:
    return json.dumps(ALL_MEMBER_BANKS.value if banks is ALL_MEMBER_BANKS else sorted(banks))


def _banks_from_value(value: bytes | str) -> MemberBanks:
    data = json.loads(value)
    return ALL_MEMBER_BANKS if data == ALL_MEMBER_BANKS.value else frozenset(data)


def release_fields(release: Release) -> dict[str, Field]:
    return {
        "version": release.version,
        "percent_bp": release.percent_bp,
        "member_banks": _banks_value(release.member_banks),
        "previous_version": _optional(release.previous_version),
        "halted": int(release.halted),
        "halt_reason": _optional(release.halt_reason),
        "suspended": _banks_value(release.suspended),
    }


def release_from_hash(app_id: str, fields: Mapping[str, Any], generation: int) -> Release:
    return Release(
        app_id=app_id,
        version=text(fields["version"]),
        percent_bp=int(fields["percent_bp"]),
        member_banks=_banks_from_value(fields["member_banks"]),
        previous_version=text(fields["previous_version"]) or None,
        halted=int(fields["halted"]) == 1,
        halt_reason=text(fields["halt_reason"]) or None,
        suspended=_banks_from_value(fields["suspended"]),
        generation=generation,
    )


def audit_fields(audit: AuditEntry) -> dict[str, Field]:
    return {
        "at": repr(audit.at),
        "actor": audit.actor,
        "action": audit.action.value,
        "version": _optional(audit.version),
        "before": json.dumps(dict(audit.before), sort_keys=True),
        "after": json.dumps(dict(audit.after), sort_keys=True),
        "note": audit.note,
    }


def audit_event(entry_id: object, stored: Mapping[Any, Any]) -> AuditEvent:
    fields = {key: text(value) for key, value in decoded(stored).items()}
    return AuditEvent(
        id=text(entry_id),
        at=float(fields["at"]),
        actor=fields["actor"],
        action=AuditAction(fields["action"]),
        version=fields["version"] or None,
        before=json.loads(fields["before"]),
        after=json.loads(fields["after"]),
        note=fields["note"],
        generation=int(fields["generation"]),
    )
