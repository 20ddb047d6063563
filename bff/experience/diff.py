"""What a change to the published experience changes: profiles, segment rules and member-bank overrides.

Profiles and overrides are compared by content (the parsed documents, so
formatting and the editor-only `$schema` key do not count). Segment rules are
compared by id; an entry says what a UX reviewer cares about first, the
profile and rollout before and after, and `changes` names every aspect that
moved (conditions, order, ...), so no change to a rule goes unseen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bff.experience.loading import SEGMENTS_FILE, ExperienceSet
from bff.experience.segments import Rollout, SegmentRule


@dataclass(frozen=True)
class NamedChanges:
    """Ids (profile ids, member banks) added, removed and changed, each sorted."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, list[str]]:
        return {"added": list(self.added), "removed": list(self.removed), "changed": list(self.changed)}


@dataclass(frozen=True)
class Assignment:
    """The profile a rule shows and its rollout, if any."""

    profile: str
    rollout: Rollout | None

    @classmethod
    def of(cls, rule: SegmentRule) -> Assignment:
        return cls(rule.profile_id, rule.rollout)

    def to_json(self) -> dict[str, Any]:
        rollout = self.rollout
        return {
            "profile": self.profile,
            "rollout": {"percent": rollout.percent, "profile": rollout.profile_id} if rollout else None,
        }

    def __str__(self) -> str:
        if self.rollout is None:
            return f"profile {self.profile}"
        return f"profile {self.profile} with {self.rollout.percent:g}% on {self.rollout.profile_id}"


@dataclass(frozen=True)
class SegmentChange:
    """One rule added (before None), removed (after None) or changed (`changes` names what)."""

    rule: str
    before: Assignment | None
    after: Assignment | None
    changes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json() if self.after else None,
            "changes": list(self.changes),
        }

    def __str__(self) -> str:
        if self.before is None:
            return f"rule {self.rule!r} added: {self.after}"
        if self.after is None:
            return f"rule {self.rule!r} removed (was {self.before})"
        if self.before != self.after:
            return f"rule {self.rule!r}: {self.before} -> {self.after}"
        return f"rule {self.rule!r}: {', '.join(self.changes)} changed"


@dataclass(frozen=True)
class ExperienceDiff:
    profiles: NamedChanges
    segments: tuple[SegmentChange, ...]
    overrides: NamedChanges

    @property
    def empty(self) -> bool:
        return self.profiles.empty and not self.segments and self.overrides.empty

    def to_json(self) -> dict[str, Any]:
        return {
            "profiles": self.profiles.to_json(),
            "segments": [change.to_json() for change in self.segments],
            "overrides": self.overrides.to_json(),
        }

    def lines(self) -> list[str]:
        """The diff in words, one change a line (the history's summary, the CLI's output)."""
        lines = [str(change) for change in self.segments]
        for kind, changes in (("profile", self.profiles), ("override", self.overrides)):
            lines += [f"{kind} {name!r} added" for name in changes.added]
            lines += [f"{kind} {name!r} removed" for name in changes.removed]
            lines += [f"{kind} {name!r} changed" for name in changes.changed]
        return lines


def diff_experience(before: ExperienceSet | None, after: ExperienceSet) -> ExperienceDiff:
    """What publishing `after` changes when `before` is published (None: nothing is yet)."""
    old_docs, new_docs = _documents(before), _documents(after)
    return ExperienceDiff(
        profiles=_named_changes(_in_folder(old_docs, "profiles"), _in_folder(new_docs, "profiles")),
        segments=_segment_changes(before, after),
        overrides=_named_changes(_in_folder(old_docs, "overrides"), _in_folder(new_docs, "overrides")),
    )


def _documents(experience: ExperienceSet | None) -> dict[str, Any]:
    if experience is None:
        return {}
    documents = {name: json.loads(raw) for name, raw in experience.files.items()}
    for document in documents.values():
        document.pop("$schema", None)  # where an editor finds the schema: not content
    return documents


def _in_folder(documents: Mapping[str, Any], folder: str) -> dict[str, Any]:
    prefix = folder + "/"
    return {
        name.removeprefix(prefix).removesuffix(".json"): document
        for name, document in documents.items()
        if name.startswith(prefix)
    }


def _named_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> NamedChanges:
    return NamedChanges(
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=tuple(sorted(name for name in before.keys() & after.keys() if before[name] != after[name])),
    )


def _segment_changes(before: ExperienceSet | None, after: ExperienceSet) -> tuple[SegmentChange, ...]:
    old = _rules_by_id(before)
    new = _rules_by_id(after)
    changes = []
    for rule_id in [*new, *(rule_id for rule_id in old if rule_id not in new)]:
        change = _rule_change(rule_id, old.get(rule_id), new.get(rule_id))
        if change is not None:
            changes.append(change)
    return tuple(changes)


def _rules_by_id(experience: ExperienceSet | None) -> dict[str, tuple[int, SegmentRule]]:
    if experience is None or SEGMENTS_FILE not in experience.files:
        return {}
    return {rule.id: (position, rule) for position, rule in enumerate(experience.segments.all_rules)}


def _rule_change(
    rule_id: str, old: tuple[int, SegmentRule] | None, new: tuple[int, SegmentRule] | None
) -> SegmentChange | None:
    if old is None or new is None:
        return SegmentChange(
            rule_id,
            Assignment.of(old[1]) if old else None,
            Assignment.of(new[1]) if new else None,
            ("added",) if old is None else ("removed",),
        )
    (old_position, old_rule), (new_position, new_rule) = old, new
    aspects = {
        "profile": old_rule.profile_id != new_rule.profile_id,
        "rollout": old_rule.rollout != new_rule.rollout,
        "conditions": old_rule.conditions != new_rule.conditions,
        "elder": old_rule.elder != new_rule.elder,
        "segment": old_rule.segment_id != new_rule.segment_id,
        "description": old_rule.description != new_rule.description,
        "position": old_position != new_position,
    }
    changed = tuple(aspect for aspect, moved in aspects.items() if moved)
    if not changed:
        return None
    return SegmentChange(rule_id, Assignment.of(old_rule), Assignment.of(new_rule), changed)
