"""Resolution: rule order, sticky rollouts, member-bank overrides, the customer's preference, and the explanation."""

from __future__ import annotations

from typing import Any

import pytest

from bff.experience.loading import ExperienceSet
from bff.experience.resolution import Preference, Resolution, resolve
from bff.experience.segments import AppContext, CustomerAttributes, rollout_bucket
from tests.experience.documents import load_with, replaced, shipped

CUSTOMERS = [f"RCB001-{n:05d}" for n in range(1, 10_001)]
APP = AppContext("app", "5.9.0")


@pytest.fixture(scope="module")
def shipped_set() -> ExperienceSet:
    return load_with()


def customer(
    age: int = 45,
    region_type: Any = "urban",
    assets_tier: Any = "mass",
    member_bank: str = "RCB001",
    customer_id: str = "RCB001-00042",
) -> CustomerAttributes:
    return CustomerAttributes(customer_id, member_bank, age, region_type, assets_tier)


# --- rule order ------------------------------------------------------------------


def test_first_matching_rule_wins_even_when_later_rules_match_too(shipped_set: ExperienceSet) -> None:
    # A rural 67-year-old matches both elder-60-plus (first) and rural-app (second).
    resolution = resolve(shipped_set, customer(age=67, region_type="rural"), APP)
    assert (resolution.matched_rule, resolution.segment_id, resolution.profile_id) == (
        "elder-60-plus",
        "elder",
        "elder",
    )
    assert resolution.elder
    assert resolution.chosen_by == "rule"


def test_reordering_the_rules_changes_who_wins() -> None:
    document = shipped("segments.json")
    document["rules"][0], document["rules"][1] = document["rules"][1], document["rules"][0]
    resolution = resolve(load_with(segments=document), customer(age=67, region_type="rural"), APP)
    assert (resolution.matched_rule, resolution.profile_id) == ("rural-app", "rural")
    assert not resolution.elder


def test_customer_no_rule_matches_gets_the_default(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(age=50), APP)
    assert (resolution.matched_rule, resolution.segment_id, resolution.profile_id) == (
        "everyone",
        "standard",
        "standard",
    )
    assert resolution.rollout_bucket is None


def test_the_channel_and_the_app_version_take_part_in_the_rules(shipped_set: ExperienceSet) -> None:
    elder_on_web = resolve(shipped_set, customer(age=70), AppContext("web"))
    assert elder_on_web.matched_rule == "everyone"
    young_on_old_app = resolve(shipped_set, customer(age=22), AppContext("app", "5.7.3"))
    assert young_on_old_app.matched_rule == "everyone"
    young_on_new_app = resolve(shipped_set, customer(age=22), AppContext("app", "5.8.0"))
    assert young_on_new_app.profile_id == "youth"


def test_same_inputs_always_resolve_the_same(shipped_set: ExperienceSet) -> None:
    first = resolve(shipped_set, customer(age=35), APP)
    assert all(resolve(shipped_set, customer(age=35), APP) == first for _ in range(20))


# --- explanation ---------------------------------------------------------------------


def test_explanation_names_the_rules_tried_and_why(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(age=22, region_type="urban"), APP)
    assert resolution.explanation == (
        "rule 'elder-60-plus' (1 of 4) did not match: age 22 is not 60 or over",
        "rule 'rural-app' (2 of 4) did not match: region type urban is not one of rural",
        "rule 'youth-video' (3 of 4) matched: age 22 is 18 to 30; channel app is one of app; "
        "app version 5.9.0 is 5.8.0 or later",
        "segment 'youth' shows profile 'youth'",
        "member bank RCB001's override of profile 'youth' is applied",
    )
    assert "rule 'youth-video'" in resolution.explanation_text


def test_explanation_of_the_default_says_no_rule_matched(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(age=50, member_bank="RCB009", customer_id="RCB009-00001"), APP)
    assert "no rule matched; the default rule 'everyone' applies" in resolution.explanation
    assert resolution.explanation[-1] == "member bank RCB009 does not override profile 'standard'"


# --- sticky rollouts ---------------------------------------------------------------------


def rollout_set(percent: float, salt: str | None = None) -> ExperienceSet:
    """Every customer falls to the default rule, which rolls `percent` of them out to the youth profile."""
    rollout: dict[str, Any] = {"percent": percent, "profile": "youth"}
    if salt is not None:
        rollout["salt"] = salt
    document = replaced(shipped("segments.json"), "/rules", [])
    return load_with(segments=replaced(document, "/default/rollout", rollout))


def switched(experience: ExperienceSet) -> set[str]:
    return {
        customer_id
        for customer_id in CUSTOMERS
        if resolve(experience, customer(customer_id=customer_id), APP).profile_id == "youth"
    }


def test_thirty_percent_rollout_reaches_between_28_and_32_percent_of_10000_customers() -> None:
    assert 2_800 <= len(switched(rollout_set(30))) <= 3_200


def test_a_customer_always_gets_the_same_side_of_a_rollout() -> None:
    experience = rollout_set(30)
    for customer_id in CUSTOMERS[:50]:
        answers = {resolve(experience, customer(customer_id=customer_id), APP).profile_id for _ in range(5)}
        assert len(answers) == 1


def test_raising_a_rollout_from_30_to_50_percent_keeps_everyone_who_had_it() -> None:
    thirty, fifty = switched(rollout_set(30)), switched(rollout_set(50))
    assert thirty < fifty
    assert 4_800 <= len(fifty) <= 5_200


def test_a_new_salt_draws_other_customers() -> None:
    first, second = switched(rollout_set(30, "2026-q1")), switched(rollout_set(30, "2026-q2"))
    assert 0.2 < len(first & second) / len(first) < 0.4  # about 30% overlap, as for independent draws


def test_zero_percent_reaches_nobody_and_a_hundred_everybody() -> None:
    assert switched(rollout_set(0)) == set()
    assert len(switched(rollout_set(100))) == len(CUSTOMERS)


def test_bucket_is_fixed_across_processes_and_python_versions() -> None:
    # A literal value: any change to the encoding or the hash would move every customer.
    assert rollout_bucket("urban-31-40-trial", "2026-q1", "RCB001-00042") == 2834


def test_buckets_differ_per_rule_so_the_same_customers_are_not_always_first() -> None:
    first = {c for c in CUSTOMERS if rollout_bucket("rule-a", "", c) < 1_000}
    second = {c for c in CUSTOMERS if rollout_bucket("rule-b", "", c) < 1_000}
    assert len(first & second) < 200  # independent: about 100 expected


def test_explanation_gives_the_bucket_and_the_side_of_the_rollout() -> None:
    experience = rollout_set(30, "s")
    inside = next(c for c in CUSTOMERS if rollout_bucket("everyone", "s", c) < 3_000)
    outside = next(c for c in CUSTOMERS if rollout_bucket("everyone", "s", c) >= 3_000)
    yes = resolve(experience, customer(customer_id=inside), APP)
    no = resolve(experience, customer(customer_id=outside), APP)
    assert (yes.chosen_by, yes.profile_id, no.chosen_by, no.profile_id) == (
        "rollout",
        "youth",
        "rule",
        "standard",
    )
    assert f"bucket {yes.rollout_bucket} is inside (below 3000)" in yes.explanation_text
    assert (
        f"bucket {no.rollout_bucket} is outside (3000 or above), profile 'standard' stays"
        in no.explanation_text
    )
    assert "rollout of profile 'youth' to 30% of rule 'everyone'" in yes.explanation_text


# --- member-bank overrides and the customer's preference --------------------------------


def test_profile_comes_with_the_customers_member_bank_override(shipped_set: ExperienceSet) -> None:
    youth_at = {
        bank: resolve(
            shipped_set, customer(age=22, member_bank=bank, customer_id=f"{bank}-00001"), APP
        ).profile
        for bank in ("RCB001", "RCB002")
    }
    assert youth_at["RCB001"].section("live-stream") is not None
    assert youth_at["RCB002"].section("live-stream") is None
    assert youth_at["RCB002"].presentation.colors.accent == "#1F4E9E"


def test_customers_preference_wins_over_the_rules(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(age=45), APP, Preference(profile_id="elder"))
    assert (resolution.profile_id, resolution.chosen_by) == ("elder", "preference")
    assert (resolution.matched_rule, resolution.segment_id) == ("everyone", "standard")  # the segment stays
    assert not resolution.elder
    assert "the customer's preference for profile 'elder' wins over 'standard'" in resolution.explanation


def test_preference_wins_over_a_rollout_too() -> None:
    resolution = resolve(rollout_set(100), customer(), APP, Preference(profile_id="rural"))
    assert (resolution.profile_id, resolution.chosen_by) == ("rural", "preference")
    assert resolution.rollout_bucket is not None


def test_preferred_profile_gets_the_member_banks_override_too(shipped_set: ExperienceSet) -> None:
    resolution = resolve(
        shipped_set, customer(member_bank="RCB002", customer_id="RCB002-00001"), APP, Preference("elder")
    )
    assert resolution.profile == shipped_set.profile_for("elder", "RCB002")
    assert resolution.profile != shipped_set.profiles["elder"]


def test_preference_for_a_profile_that_no_longer_exists_is_ignored(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(age=45), APP, Preference(profile_id="retro"))
    assert (resolution.profile_id, resolution.chosen_by) == ("standard", "rule")
    assert (
        "the customer's preferred profile 'retro' no longer exists; it is ignored" in resolution.explanation
    )


def test_empty_preference_leaves_it_to_the_rules(shipped_set: ExperienceSet) -> None:
    assert resolve(shipped_set, customer(), APP, Preference()) == resolve(shipped_set, customer(), APP)


def test_resolution_is_a_value(shipped_set: ExperienceSet) -> None:
    resolution = resolve(shipped_set, customer(), APP)
    assert isinstance(resolution, Resolution)
    with pytest.raises(AttributeError):
        resolution.profile_id = "youth"  # type: ignore[misc]
