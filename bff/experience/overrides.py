"""Member-bank overrides: how one member bank changes the shipped profiles for its own customers.

The format is schemas/experience-override.schema.json. Overrides are applied
to profile documents, not to `Profile` values, so that the result can be
checked by the same schema and rules as a shipped profile before anyone sees
it. The order is fixed: the override's top-level presentation, then the
profile's own presentation changes (both merged key by key, nested objects
too), then its section changes: remove, update (each given key replaced,
options merged option by option), add (after or before a section, or at the end).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any

from bff.experience.problems import Problem, pointer


@dataclass(frozen=True)
class MemberBankOverride:
    """What a member bank changes: `presentation_for_all` tokens in every profile, and these profiles."""

    member_bank: str
    description: str | None
    presentation_for_all: bool
    profile_ids: frozenset[str]


def read_override(document: Mapping[str, Any]) -> MemberBankOverride:
    """The summary of an override document that passed the override schema."""
    return MemberBankOverride(
        member_bank=document["memberBank"],
        description=document.get("description"),
        presentation_for_all="presentation" in document,
        profile_ids=frozenset(document.get("profiles", {})),
    )


def apply_override(profile: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new profile document: `profile` with `override` applied (which `override_problems` accepted)."""
    merged = copy.deepcopy(dict(profile))
    changes = override.get("profiles", {}).get(profile["id"], {})
    for tokens in (override.get("presentation"), changes.get("presentation")):
        if tokens:
            merged["presentation"] = _merged_objects(merged["presentation"], tokens)
    merged["sections"] = _changed_sections(merged["sections"], changes.get("sections", {}))
    return merged


def _merged_objects(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged_objects(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _changed_sections(sections: list[dict[str, Any]], changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    removed = set(changes.get("remove", ()))
    updates = changes.get("update", {})
    result = [_updated_section(s, updates[s["id"]]) if s["id"] in updates else s for s in sections]
    result = [section for section in result if section["id"] not in removed]
    for addition in changes.get("add", ()):
        ids = [section["id"] for section in result]
        if "after" in addition:
            position = ids.index(addition["after"]) + 1
        elif "before" in addition:
            position = ids.index(addition["before"])
        else:
            position = len(result)
        result.insert(position, copy.deepcopy(addition["section"]))
    return result


def _updated_section(section: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    updated = {**section, **copy.deepcopy(dict(update))}
    if "options" in update:
        updated["options"] = {**section.get("options", {}), **copy.deepcopy(update["options"])}
    return updated


def override_problems(
    override: Mapping[str, Any],
    member_bank: str,
    profiles: Mapping[str, Mapping[str, Any]],
    profile_ids: Set[str],
) -> list[Problem]:
    """Problems in an override that passed its schema: a wrong member bank, or names that do not resolve.

    `member_bank` is the one its file name gives; `profiles` are the profile documents that
    passed their checks, `profile_ids` every profile that exists (checked or not).
    """
    problems = []
    if override["memberBank"] != member_bank:
        problems.append(
            Problem(
                "",
                "/memberBank",
                f"{override['memberBank']!r} is not the member bank of its file ({member_bank})",
            )
        )
    for profile_id, changes in override.get("profiles", {}).items():
        path = pointer("profiles", profile_id)
        if profile_id not in profile_ids:
            known = ", ".join(sorted(profile_ids)) or "none"
            problems.append(Problem("", path, f"there is no profile {profile_id!r} (profiles: {known})"))
        elif profile_id in profiles:
            section_ids = [section["id"] for section in profiles[profile_id]["sections"]]
            problems += _section_change_problems(f"{path}/sections", changes.get("sections", {}), section_ids)
    return problems


def _section_change_problems(
    path: str, changes: Mapping[str, Any], section_ids: list[str]
) -> Iterator[Problem]:
    known = ", ".join(section_ids)
    for index, section_id in enumerate(changes.get("remove", ())):
        if section_id not in section_ids:
            yield Problem(
                "", f"{path}/remove/{index}", f"the profile has no section {section_id!r} (sections: {known})"
            )
    removed = set(changes.get("remove", ()))
    for section_id in changes.get("update", {}):
        if section_id not in section_ids:
            yield Problem("", f"{path}/update/{section_id}", f"the profile has no section {section_id!r}")
        elif section_id in removed:
            yield Problem("", f"{path}/update/{section_id}", f"section {section_id!r} is also removed")
    present = [section_id for section_id in section_ids if section_id not in removed]
    for index, addition in enumerate(changes.get("add", ())):
        yield from _addition_problems(f"{path}/add/{index}", addition, present)
        present.append(addition["section"]["id"])  # later additions may refer to it


def _addition_problems(path: str, addition: Mapping[str, Any], present: list[str]) -> Iterator[Problem]:
    new_id = addition["section"]["id"]
    if new_id in present:
        yield Problem("", f"{path}/section/id", f"the profile already has a section {new_id!r}")
    for place in ("after", "before"):
        if place in addition and addition[place] not in present:
            yield Problem(
                "",
                f"{path}/{place}",
                f"the profile has no section {addition[place]!r} (sections: {', '.join(present)})",
            )
