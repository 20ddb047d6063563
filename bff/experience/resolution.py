"""Resolution: the segment and profile a customer gets, and why.

Deterministic: the same experience set, attributes, context and preference
always give the same resolution, in every BFF instance. The steps:

1. the first segment rule whose conditions all hold (the default when none does);
2. the rule's rollout, if the customer's sticky bucket is inside it;
3. the customer's own preference (e.g. "switch me to elder mode"), which wins;
4. the member bank's override of that profile.

Every step adds a sentence to `Resolution.explanation`, so a preview or a
support agent can tell which rule matched and what decided the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bff.experience.loading import ExperienceSet
from bff.experience.profile import Profile
from bff.experience.segments import (
    AppContext,
    CustomerAttributes,
    Rollout,
    SegmentRule,
    SegmentSet,
    rollout_bucket,
)

ChosenBy = Literal["rule", "rollout", "preference"]


@dataclass(frozen=True)
class Preference:
    """What the customer chose for themselves; None leaves it to the segment rules."""

    profile_id: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The segment and profile a customer gets.

    `matched_rule` is the id of the rule that matched (the default rule's when none did);
    `elder` says whether that segment is marked elder; `profile` has the member bank's
    override applied; `chosen_by` names the step that decided the profile;
    `rollout_bucket` is the customer's bucket when the rule has a rollout.
    """

    segment_id: str
    matched_rule: str
    elder: bool
    profile_id: str
    profile: Profile
    chosen_by: ChosenBy
    rollout_bucket: int | None
    explanation: tuple[str, ...]

    @property
    def explanation_text(self) -> str:
        return "\n".join(self.explanation)


def resolve(
    experience: ExperienceSet,
    attributes: CustomerAttributes,
    context: AppContext,
    preference: Preference | None = None,
) -> Resolution:
    """The segment and profile of a customer in `context`, with the reasons in order."""
    rule, explanation = _matching_rule(experience.segments, attributes, context)
    profile_id = rule.profile_id
    chosen_by: ChosenBy = "rule"
    bucket: int | None = None
    explanation.append(f"segment {rule.segment_id!r} shows profile {rule.profile_id!r}")
    if rule.rollout is not None:
        bucket = rollout_bucket(rule.id, rule.rollout.salt, attributes.customer_id)
        inside = rule.rollout.includes(bucket)
        explanation.append(_rollout_reason(rule, rule.rollout, bucket, inside))
        if inside:
            profile_id, chosen_by = rule.rollout.profile_id, "rollout"
    wanted = preference.profile_id if preference else None
    if wanted is not None and wanted in experience.profiles:
        explanation.append(f"the customer's preference for profile {wanted!r} wins over {profile_id!r}")
        profile_id, chosen_by = wanted, "preference"
    elif wanted is not None:
        explanation.append(f"the customer's preferred profile {wanted!r} no longer exists; it is ignored")
    explanation.append(_override_reason(experience, profile_id, attributes.member_bank))
    return Resolution(
        segment_id=rule.segment_id,
        matched_rule=rule.id,
        elder=rule.elder,
        profile_id=profile_id,
        profile=experience.profile_for(profile_id, attributes.member_bank),
        chosen_by=chosen_by,
        rollout_bucket=bucket,
        explanation=tuple(explanation),
    )


def _matching_rule(
    segments: SegmentSet, attributes: CustomerAttributes, context: AppContext
) -> tuple[SegmentRule, list[str]]:
    explanation = []
    count = len(segments.rules)
    for position, rule in enumerate(segments.rules, start=1):
        checks = rule.conditions.check(attributes, context)
        if all(check.holds for check in checks):
            reasons = "; ".join(check.reason for check in checks)
            explanation.append(f"rule {rule.id!r} ({position} of {count}) matched: {reasons}")
            return rule, explanation
        reasons = "; ".join(check.reason for check in checks if not check.holds)
        explanation.append(f"rule {rule.id!r} ({position} of {count}) did not match: {reasons}")
    explanation.append(f"no rule matched; the default rule {segments.default.id!r} applies")
    return segments.default, explanation


def _rollout_reason(rule: SegmentRule, rollout: Rollout, bucket: int, inside: bool) -> str:
    share = f"rollout of profile {rollout.profile_id!r} to {rollout.percent:g}% of rule {rule.id!r}"
    if inside:
        return f"{share}: bucket {bucket} is inside (below {rollout.basis_points})"
    return f"{share}: bucket {bucket} is outside ({rollout.basis_points} or above), profile {rule.profile_id!r} stays"


def _override_reason(experience: ExperienceSet, profile_id: str, member_bank: str) -> str:
    if (profile_id, member_bank) in experience.overridden:
        return f"member bank {member_bank}'s override of profile {profile_id!r} is applied"
    return f"member bank {member_bank} does not override profile {profile_id!r}"
