"""Assigning a profile to a segment rule, or a sticky rollout of one, as a change of segments.json.

The result is only a new set of files: whether it may be published (the
profile exists, an elder segment's profiles pass the elder guideline) is
decided by `parse_experience_set`, like any other change.

Rollouts stay sticky across assignments: a rollout of the same profile keeps
its salt, so raising its percentage only adds customers (see segments.py).
A rollout of another profile keeps the salt too; change the salt in the file
to draw a new set of customers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bff.experience.files import encode_document
from bff.experience.loading import SEGMENTS_FILE
from bff.experience.refusals import ExperienceRefused, RefusalCode


def assign_profile(
    files: Mapping[str, bytes], rule_id: str, profile_id: str, rollout_percent: Decimal | None
) -> dict[str, bytes]:
    """`files` with rule `rule_id` showing `profile_id` (None percent) or rolling it out to that share."""
    segments = json.loads(files[SEGMENTS_FILE])
    rule = _find_rule(segments, rule_id)
    if rollout_percent is None:
        rule["profile"] = profile_id
        rule.pop("rollout", None)
    else:
        rule["rollout"] = _rollout(rule.get("rollout"), profile_id, rollout_percent)
    return {**files, SEGMENTS_FILE: encode_document(segments)}


def rule_ids(files: Mapping[str, bytes]) -> list[str]:
    """Every rule id of segments.json, the default's last."""
    segments = json.loads(files[SEGMENTS_FILE])
    return [rule["id"] for rule in [*segments["rules"], segments["default"]]]


def _find_rule(segments: dict[str, Any], rule_id: str) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [*segments["rules"], segments["default"]]
    for rule in rules:
        if rule["id"] == rule_id:
            return rule
    known = ", ".join(rule["id"] for rule in rules)
    raise ExperienceRefused(
        RefusalCode.SEGMENT_NOT_FOUND, f"there is no segment rule {rule_id!r} (rules: {known})"
    )


def _rollout(current: dict[str, Any] | None, profile_id: str, percent: Decimal) -> dict[str, Any]:
    rollout: dict[str, Any] = {"percent": _number(percent), "profile": profile_id}
    if current and current.get("salt"):
        rollout["salt"] = current["salt"]
    return rollout


def _number(percent: Decimal) -> int | float:
    # 50 rather than 50.0 in the file, as a person would write it.
    return int(percent) if percent == percent.to_integral_value() else float(percent)
