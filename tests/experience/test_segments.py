"""Segment sets: every schema rule and every rule beyond it refuses a bad file naming the field; reading one."""

from __future__ import annotations

from typing import Any

import pytest

from bff.channels.models import CustomerProfile
from bff.experience.problems import Problem
from bff.experience.segments import (
    AgeRange,
    AppContext,
    Conditions,
    CustomerAttributes,
    Rollout,
    VersionRange,
    read_segment_set,
)
from tests.experience.documents import files_with, load_with, problems_of, removed, replaced, shipped

SEGMENTS = shipped("segments.json")
FILE = "segments.json"


def refused(document: dict[str, Any]) -> list[Problem]:
    return problems_of(files_with(segments=document))


def case(document: Any, path: str, fragment: str, *, id: str) -> Any:
    return pytest.param(document, path, fragment, id=id)


S = SEGMENTS
# One row per rule: (document, path of the problem, part of its message).
# fmt: off
REJECTED = [
    # unknown keys are refused, never dropped
    case(replaced(S, "/version", 2), "/version", "unknown key 'version' (allowed: $schema, description, rules, default)", id="unknown-top-level-key"),
    case(replaced(S, "/rules/0/priority", 1), "/rules/0/priority", "unknown key 'priority' (allowed: id, segment,", id="unknown-rule-key"),
    case(replaced(S, "/rules/0/when/city", "Anxi"), "/rules/0/when/city", "unknown key 'city' (allowed: age, regionTypes,", id="unknown-condition"),
    case(replaced(S, "/rules/0/when/age/over", 60), "/rules/0/when/age/over", "unknown key 'over' (allowed: min, max)", id="unknown-age-bound"),
    case(replaced(S, "/rules/3/rollout/start", "2026-01-01"), "/rules/3/rollout/start", "unknown key 'start' (allowed: percent, profile, salt)", id="unknown-rollout-key"),
    case(replaced(S, "/default/when", {"channels": ["app"]}), "/default/when", "unknown key 'when' (allowed: id, segment,", id="default-with-conditions"),
    # required keys
    case(removed(S, "/default"), "/default", "required key 'default' is missing", id="no-default"),
    case(removed(S, "/rules"), "/rules", "required key 'rules' is missing", id="no-rules"),
    case(removed(S, "/rules/0/id"), "/rules/0/id", "required key 'id' is missing", id="rule-without-id"),
    case(removed(S, "/rules/0/when"), "/rules/0/when", "required key 'when' is missing", id="rule-without-conditions"),
    case(removed(S, "/rules/0/profile"), "/rules/0/profile", "required key 'profile' is missing", id="rule-without-profile"),
    case(removed(S, "/default/profile"), "/default/profile", "required key 'profile' is missing", id="default-without-profile"),
    case(removed(S, "/rules/3/rollout/percent"), "/rules/3/rollout/percent", "required key 'percent' is missing", id="rollout-without-percent"),
    case(removed(S, "/rules/3/rollout/profile"), "/rules/3/rollout/profile", "required key 'profile' is missing", id="rollout-without-profile"),
    # values
    case(replaced(S, "/rules/0/id", "Elder 60+"), "/rules/0/id", "is not a rule id", id="rule-id-not-an-id"),
    case(replaced(S, "/rules/0/segment", "E"), "/rules/0/segment", "is not a segment id", id="segment-id-not-an-id"),
    case(replaced(S, "/rules/0/profile", "Elder"), "/rules/0/profile", "is not a profile id", id="profile-id-not-an-id"),
    case(replaced(S, "/rules/0/when", {}), "/rules/0/when", "must have at least 1 key (it has 0)", id="empty-conditions"),
    case(replaced(S, "/rules/0/when/age", {}), "/rules/0/when/age", "must have at least 1 key", id="empty-age-range"),
    case(replaced(S, "/rules/0/when/age/min", -1), "/rules/0/when/age/min", "must be at least 0 (it is -1)", id="negative-age"),
    case(replaced(S, "/rules/0/when/age/min", "60"), "/rules/0/when/age/min", "must be an integer, not a string", id="age-as-text"),
    case(replaced(S, "/rules/1/when/regionTypes", ["suburban"]), "/rules/1/when/regionTypes/0", "'suburban' is not one of: urban, rural", id="unknown-region-type"),
    case(replaced(S, "/rules/1/when/regionTypes", []), "/rules/1/when/regionTypes", "must have at least 1 entry", id="no-region-types"),
    case(replaced(S, "/rules/1/when/assetsTiers", ["rich"]), "/rules/1/when/assetsTiers/0", "'rich' is not one of: mass, affluent, private", id="unknown-assets-tier"),
    case(replaced(S, "/rules/0/when/channels", ["app", "app"]), "/rules/0/when/channels/1", "duplicate of /rules/0/when/channels/0", id="channel-twice"),
    case(replaced(S, "/rules/0/when/channels", ["ios"]), "/rules/0/when/channels/0", "'ios' is not one of: app, web, branch, call_centre, mini_program", id="unknown-channel"),
    case(replaced(S, "/rules/2/when/appVersion/min", "5.8"), "/rules/2/when/appVersion/min", "is not an app version", id="app-version-two-parts"),
    case(replaced(S, "/rules/2/when/appVersion/max", "6.0.0"), "/rules/2/when/appVersion/max", "unknown key 'max' (allowed: min, below)", id="app-version-max-instead-of-below"),
    case(replaced(S, "/rules/0/when/memberBanks", ["ABC001"]), "/rules/0/when/memberBanks/0", "is not a member bank code", id="bad-member-bank"),
    case(replaced(S, "/rules/0/elder", "true"), "/rules/0/elder", "must be a boolean, not a string", id="elder-not-boolean"),
    case(replaced(S, "/rules/3/rollout/percent", 101), "/rules/3/rollout/percent", "must be at most 100 (it is 101)", id="rollout-over-100"),
    case(replaced(S, "/rules/3/rollout/percent", -5), "/rules/3/rollout/percent", "must be at least 0", id="rollout-negative"),
    case(replaced(S, "/rules/3/rollout/salt", ""), "/rules/3/rollout/salt", "at least 1 character long", id="empty-salt"),
    case(replaced(S, "/rules", [S["rules"][0]] * 101), "/rules", "must have at most 100 entries (it has 101)", id="too-many-rules"),
    # rules beyond the schema
    case(replaced(S, "/rules/2/id", "rural-app"), "/rules/2/id", "rule id 'rural-app' is used twice (first at /rules/1/id)", id="rule-id-twice"),
    case(replaced(S, "/default/id", "elder-60-plus"), "/default/id", "rule id 'elder-60-plus' is used twice (first at /rules/0/id)", id="default-id-reused"),
    case(replaced(S, "/rules/1/profile", "farmer"), "/rules/1/profile", "there is no profile 'farmer' (profiles: elder, rural, standard, youth)", id="unknown-profile"),
    case(replaced(S, "/rules/3/rollout/profile", "beta"), "/rules/3/rollout/profile", "there is no profile 'beta'", id="unknown-rollout-profile"),
    case(replaced(S, "/default/profile", "basic"), "/default/profile", "there is no profile 'basic'", id="unknown-default-profile"),
    case(replaced(S, "/rules/3/rollout/profile", "standard"), "/rules/3/rollout/profile", "the rollout must name a profile other than the rule's ('standard')", id="rollout-to-the-same-profile"),
    case(replaced(S, "/rules/2/when/age", {"min": 30, "max": 18}), "/rules/2/when/age/max", "must be at least min (30) (it is 18)", id="age-range-upside-down"),
    case(replaced(S, "/rules/2/when/appVersion", {"min": "6.0.0", "below": "6.0.0"}), "/rules/2/when/appVersion/below", "must be a later version than min (6.0.0)", id="empty-version-range"),
    case(replaced(S, "/rules/3/elder", True), "/default/elder", "segment 'standard' is marked elder at /rules/3; every rule of a segment must agree", id="segment-disagreeing-on-elder"),
    case(replaced(S, "/rules/1/segment", "elder"), "/rules/1/elder", "segment 'elder' is marked elder at /rules/0", id="elder-segment-rule-not-elder"),
]
# fmt: on


@pytest.mark.parametrize(("document", "path", "fragment"), REJECTED)
def test_segment_set_breaking_one_rule_is_refused_naming_the_field(
    document: Any, path: str, fragment: str
) -> None:
    problems = [p for p in refused(document) if p.file == FILE]
    assert [p.path for p in problems] == [path], problems
    assert fragment in problems[0].message


def test_missing_segment_set_is_refused() -> None:
    problems = problems_of(files_with(segments=None))
    assert Problem(FILE, "", "the segment set is missing") in problems


def test_elder_segment_showing_a_profile_that_breaks_the_guideline_is_refused() -> None:
    document = replaced(SEGMENTS, "/rules/0/rollout", {"percent": 5, "profile": "youth"})
    problems = refused(document)
    youth = [p for p in problems if p.file == "profiles/youth.json"]
    assert youth
    assert all("segment rule 'elder-60-plus' is marked elder" in p.message for p in youth)
    assert "/presentation/autoplay" in {p.path for p in youth}


def test_a_segment_not_marked_elder_may_show_any_profile() -> None:
    document = replaced(SEGMENTS, "/rules/0/elder", False)
    document = replaced(document, "/rules/0/profile", "youth")
    experience = load_with(segments=document)
    assert not experience.segments.rules[0].elder


# --- reading -------------------------------------------------------------------


def test_shipped_segment_set_reads_rules_in_order_with_the_default_last() -> None:
    segments = read_segment_set(SEGMENTS)
    assert [rule.id for rule in segments.all_rules] == [
        "elder-60-plus",
        "rural-app",
        "youth-video",
        "urban-31-40-trial",
        "everyone",
    ]
    elder, _, youth, trial = segments.rules
    assert elder.segment_id == "elder"
    assert elder.elder
    assert elder.conditions == Conditions(age=AgeRange(min=60), channels=frozenset({"app"}))
    assert youth.conditions.app_version == VersionRange(min="5.8.0")
    assert trial.rollout == Rollout(percent=10, profile_id="youth", salt="2026-q1")
    assert trial.rollout.basis_points == 1_000
    assert trial.profile_ids == frozenset({"standard", "youth"})
    assert segments.default.conditions == Conditions()
    assert segments.elder_profile_ids == frozenset({"elder"})


def test_segment_defaults_to_the_rule_id_and_salt_to_empty() -> None:
    document = removed(SEGMENTS, "/rules/1/segment")
    document = removed(document, "/rules/3/rollout/salt")
    segments = read_segment_set(document)
    assert segments.rules[1].segment_id == "rural-app"
    assert segments.rules[3].rollout is not None
    assert segments.rules[3].rollout.salt == ""


def test_fractional_percent_is_read_in_basis_points() -> None:
    assert Rollout(percent=12.34, profile_id="youth").basis_points == 1_234
    assert Rollout(percent=0.07, profile_id="youth").basis_points == 7


# --- conditions ------------------------------------------------------------------

PERSON = CustomerAttributes("RCB001-00042", "RCB001", 67, "rural", "mass")
APP = AppContext("app", "5.9.0")


def test_attributes_come_from_the_crm_customer_profile() -> None:
    from datetime import date

    customer = CustomerProfile(
        "RCB002-00007", "RCB002", "Li Wei", 45, "urban", "affluent", "zh-CN", "13800000000", date(2010, 1, 1)
    )
    assert CustomerAttributes.of(customer) == CustomerAttributes(
        "RCB002-00007", "RCB002", 45, "urban", "affluent"
    )


@pytest.mark.parametrize(
    ("conditions", "holds", "reason"),
    [
        (Conditions(age=AgeRange(min=60)), True, "age 67 is 60 or over"),
        (Conditions(age=AgeRange(min=18, max=30)), False, "age 67 is not 18 to 30"),
        (Conditions(age=AgeRange(max=67)), True, "age 67 is up to 67"),
        (Conditions(region_types=frozenset({"rural"})), True, "region type rural is one of rural"),
        (Conditions(assets_tiers=frozenset({"affluent", "private"})), False, "assets tier mass is not one of affluent, private"),
        (Conditions(channels=frozenset({"web"})), False, "channel app is not one of web"),
        (Conditions(member_banks=frozenset({"RCB001"})), True, "member bank RCB001 is one of RCB001"),
        (Conditions(app_version=VersionRange(min="5.8.0")), True, "app version 5.9.0 is 5.8.0 or later"),
        (Conditions(app_version=VersionRange(below="5.9.0")), False, "app version 5.9.0 is not below 5.9.0"),
        (Conditions(app_version=VersionRange("5.0.0", "6.0.0")), True, "app version 5.9.0 is from 5.0.0 and below 6.0.0"),
    ],
)  # fmt: skip
def test_each_condition_says_whether_it_holds_and_why(
    conditions: Conditions, holds: bool, reason: str
) -> None:
    [check] = conditions.check(PERSON, APP)
    assert (check.holds, check.reason) == (holds, reason)


def test_a_request_without_an_app_version_never_matches_a_version_range() -> None:
    [check] = Conditions(app_version=VersionRange(min="1.0.0")).check(PERSON, AppContext("web"))
    assert not check.holds
    assert "no app version is known" in check.reason


def test_an_app_version_that_is_not_a_version_never_matches_and_says_so() -> None:
    [check] = Conditions(app_version=VersionRange(min="1.0.0")).check(PERSON, AppContext("app", "latest"))
    assert not check.holds
    assert "'latest' is not a version" in check.reason


def test_a_pre_release_app_sorts_before_its_release() -> None:
    [check] = Conditions(app_version=VersionRange(min="6.0.0")).check(
        PERSON, AppContext("app", "6.0.0-beta.2")
    )
    assert not check.holds


def test_conditions_are_checked_in_a_fixed_order_and_all_must_hold() -> None:
    conditions = Conditions(
        member_banks=frozenset({"RCB001"}), age=AgeRange(min=60), channels=frozenset({"app"})
    )
    checks = conditions.check(PERSON, APP)
    assert [check.reason.split(" ")[0] for check in checks] == ["age", "channel", "member"]
    assert all(check.holds for check in checks)
