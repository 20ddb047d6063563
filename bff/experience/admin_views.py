"""The experience admin API's answers: versions, their meta and scheduled changes as camelCase JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bff.experience.diff import Assignment
from bff.experience.files import documents_from_files
from bff.experience.loading import ExperienceSet
from bff.experience.profile import Profile
from bff.experience.store_records import ScheduledChange, VersionMeta

# The name an admin screen shows first: the group's banks work in Chinese.
_NAME_LANGUAGES = ("zh-CN", "en")


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def state_view(version: int, experience: ExperienceSet, meta: VersionMeta | None) -> dict[str, Any]:
    """A version as GET /admin/v1/experience answers it (meta None: the shipped files, version 0)."""
    return {
        "version": version,
        "digest": experience.digest,
        "publishedAt": rfc3339(meta.at) if meta else None,
        "publishedBy": meta.actor if meta else None,
        "action": meta.action.value if meta else None,
        "note": meta.note if meta else None,
        "segments": [
            {
                "id": rule.segment_id,
                "rule": rule.id,
                "description": rule.description,
                "elder": rule.elder,
                **Assignment.of(rule).to_json(),
            }
            for rule in experience.segments.all_rules
        ],
        "profiles": [_profile_view(experience.profiles[key]) for key in sorted(experience.profiles)],
    }


def files_view(version: int, experience: ExperienceSet) -> dict[str, Any]:
    return {"version": version, "files": documents_from_files(experience.files)}


def meta_view(meta: VersionMeta) -> dict[str, Any]:
    return {
        "version": meta.version,
        "digest": meta.digest,
        "action": meta.action.value,
        "actor": meta.actor,
        "at": rfc3339(meta.at),
        "note": meta.note,
        "summary": dict(meta.summary),
    }


def schedule_view(change: ScheduledChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "at": rfc3339(change.at),
        "state": change.state.value,
        "kind": "files" if change.files is not None else "assign",
        "files": sorted(change.files) if change.files is not None else None,
        "assign": change.assign.to_json() if change.assign else None,
        "note": change.note,
        "createdBy": change.created_by,
        "createdAt": rfc3339(change.created_at),
        "version": change.version,
        "error": change.error,
        "finishedAt": rfc3339(change.finished_at) if change.finished_at is not None else None,
        "finishedBy": change.finished_by,
    }


def _profile_view(profile: Profile) -> dict[str, Any]:
    names = dict(profile.names)
    name = next((names[lang] for lang in _NAME_LANGUAGES if lang in names), next(iter(names.values()), ""))
    return {"id": profile.id, "name": name, "names": names, "elderFriendly": profile.elder_friendly}
