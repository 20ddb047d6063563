"""Member-bank overrides: refused naming the field when wrong, merged into profiles in a fixed order when right."""

from __future__ import annotations

from typing import Any

import pytest

from bff.experience.overrides import MemberBankOverride, apply_override
from bff.experience.problems import Problem
from bff.experience.profile import AccountSummaryOptions, HumanHelpOptions, ListOptions, TileGridOptions
from tests.experience.documents import files_with, load_with, problems_of, removed, replaced, shipped

RCB002 = shipped("overrides/RCB002.json")
FILE = "overrides/RCB002.json"
LOANS_SECTION = shipped("overrides/RCB001.json")["profiles"]["standard"]["sections"]["add"][0]["section"]


def refused(document: dict[str, Any]) -> list[Problem]:
    return problems_of(files_with(overrides__RCB002=document))


def case(document: Any, path: str, fragment: str, *, id: str) -> Any:
    return pytest.param(document, path, fragment, id=id)


OV = RCB002
# fmt: off
REJECTED = [
    case(replaced(OV, "/logo", "x.png"), "/logo", "unknown key 'logo' (allowed: $schema, memberBank,", id="unknown-top-level-key"),
    case(replaced(OV, "/presentation/colors/brand", "#000000"), "/presentation/colors/brand", "unknown key 'brand' (allowed: text,", id="unknown-colour"),
    case(replaced(OV, "/profiles/youth/layout", {}), "/profiles/youth/layout", "unknown key 'layout' (allowed: presentation, sections)", id="unknown-profile-change"),
    case(replaced(OV, "/profiles/youth/sections/reorder", ["a"]), "/profiles/youth/sections/reorder", "unknown key 'reorder' (allowed: remove, update, add)", id="unknown-section-change"),
    case(replaced(OV, "/profiles/elder/sections/update/human-help/component", "popup"), "/profiles/elder/sections/update/human-help/component", "unknown key 'component'", id="update-changing-the-component"),
    case(removed(OV, "/memberBank"), "/memberBank", "required key 'memberBank' is missing", id="no-member-bank"),
    case({"memberBank": "RCB002"}, "", "must include at least one of the keys 'presentation', 'profiles'", id="override-of-nothing"),
    case(replaced(OV, "/memberBank", "rcb002"), "/memberBank", "is not a member bank code", id="member-bank-lowercase"),
    case(replaced(OV, "/presentation/gridColumns", 10), "/presentation/gridColumns", "must be at most 6", id="token-out-of-range"),
    case(replaced(OV, "/presentation", {}), "/presentation", "must have at least 1 key", id="empty-presentation"),
    case(replaced(OV, "/profiles/Youth", {"presentation": {"autoplay": False}}), "/profiles/Youth", "key 'Youth' is not a profile id", id="profile-key-not-an-id"),
    case(replaced(OV, "/profiles/youth", {}), "/profiles/youth", "must have at least 1 key", id="empty-profile-change"),
    case(replaced(OV, "/profiles/youth/sections/remove", []), "/profiles/youth/sections/remove", "must have at least 1 entry", id="remove-nothing"),
    case(replaced(OV, "/profiles/elder/sections/update/human-help", {}), "/profiles/elder/sections/update/human-help", "must have at least 1 key", id="update-nothing"),
    case(replaced(OV, "/profiles/youth/sections/add", [{"section": LOANS_SECTION, "after": "cards", "before": "messages"}]), "/profiles/youth/sections/add/0", "either after or before another section, not both", id="add-after-and-before"),
    case(replaced(OV, "/profiles/youth/sections/add", [{"section": removed(LOANS_SECTION, "/fallback")}]), "/profiles/youth/sections/add/0/section/fallback", "required key 'fallback' is missing", id="add-incomplete-section"),
    # rules beyond the schema
    case(replaced(OV, "/memberBank", "RCB001"), "/memberBank", "'RCB001' is not the member bank of its file (RCB002)", id="member-bank-not-the-file-name"),
    case(replaced(OV, "/profiles/senior", {"presentation": {"autoplay": False}}), "/profiles/senior", "there is no profile 'senior' (profiles: elder, rural, standard, youth)", id="unknown-profile"),
    case(replaced(OV, "/profiles/youth/sections/remove/0", "live"), "/profiles/youth/sections/remove/0", "the profile has no section 'live' (sections: account-summary,", id="remove-unknown-section"),
    case(replaced(OV, "/profiles/elder/sections/update/help", {"firstScreen": True}), "/profiles/elder/sections/update/help", "the profile has no section 'help'", id="update-unknown-section"),
    case(replaced(OV, "/profiles/youth/sections/update", {"live-stream": {"firstScreen": True}}), "/profiles/youth/sections/update/live-stream", "section 'live-stream' is also removed", id="update-removed-section"),
    case(replaced(OV, "/profiles/youth/sections/add", [{"section": replaced(LOANS_SECTION, "/id", "cards")}]), "/profiles/youth/sections/add/0/section/id", "the profile already has a section 'cards'", id="add-existing-id"),
    case(replaced(OV, "/profiles/youth/sections/add", [{"section": LOANS_SECTION, "after": "live-stream"}]), "/profiles/youth/sections/add/0/after", "the profile has no section 'live-stream'", id="add-after-removed-section"),
    case(replaced(OV, "/profiles/youth/sections/add", [{"section": LOANS_SECTION, "before": "wealth"}]), "/profiles/youth/sections/add/0/before", "the profile has no section 'wealth'", id="add-before-unknown-section"),
    # the result must be a valid profile
    case(replaced(OV, "/profiles/elder/sections/update/human-help/options/colour", "red"), "/profiles/elder", "with this override, profile 'elder' is refused at /sections/3/options/colour: unknown key 'colour'", id="merged-option-unknown"),
    case(replaced(OV, "/profiles/youth/sections/update", {"cards": {"dataNeeds": ["crm"]}}), "/profiles/youth", "is refused at /sections/3/dataNeeds: a section of component cardsSummary needs 'cards'", id="merged-section-without-its-service"),
]
# fmt: on


@pytest.mark.parametrize(("document", "path", "fragment"), REJECTED)
def test_override_breaking_one_rule_is_refused_naming_the_field(
    document: Any, path: str, fragment: str
) -> None:
    problems = [p for p in refused(document) if p.file == FILE]
    assert [p.path for p in problems] == [path], problems
    assert fragment in problems[0].message


def test_override_making_the_elder_profile_break_the_guideline_is_refused() -> None:
    document = replaced(RCB002, "/presentation/colors/text", "#767676")
    document = replaced(document, "/profiles/elder/sections/remove", ["voice-assistant"])
    problems = refused(document)
    # Both at the profile's entry, which the override has: that is where a fix for 'elder' goes.
    assert [(p.file, p.path) for p in problems] == [(FILE, "/profiles/elder")] * 2
    contrast, voice = problems
    assert "profile 'elder' is refused at /presentation/colors/text" in contrast.message
    assert "contrast of 4.54:1; it must be at least 7:1" in contrast.message
    assert "elder guideline: the profile is marked elderFriendly" in contrast.message
    assert "a voice-assistant entry is required" in voice.message


def test_problems_of_the_profile_itself_are_not_repeated_for_each_override() -> None:
    elder = replaced(shipped("profiles/elder.json"), "/presentation/autoplay", True)
    problems = problems_of(files_with(profiles__elder=elder))
    assert [(p.file, p.path) for p in problems] == [("profiles/elder.json", "/presentation/autoplay")]


# --- merging --------------------------------------------------------------------


def test_top_level_presentation_changes_only_the_given_tokens_of_every_profile() -> None:
    experience = load_with()
    for profile_id, profile in experience.profiles.items():
        overridden = experience.profile_for(profile_id, "RCB002")
        assert overridden.presentation.colors.accent == "#1F4E9E"
        assert overridden.presentation.colors.text == profile.presentation.colors.text
        assert overridden.presentation.typography == profile.presentation.typography


def test_nested_presentation_tokens_merge_key_by_key() -> None:
    experience = load_with()
    saver = experience.profile_for("elder", "RCB003").presentation.data_saver
    assert (saver.enabled, saver.image_quality, saver.prefetch_media) == (True, "low", False)
    assert experience.profile_for("elder", "RCB003").presentation.colors.background == "#FFFFFF"


def test_profile_presentation_applies_after_the_top_level_one() -> None:
    document = replaced(RCB002, "/profiles/youth/presentation", {"colors": {"accent": "#000080"}})
    experience = load_with(overrides__RCB002=document)
    assert experience.profile_for("youth", "RCB002").presentation.colors.accent == "#000080"
    assert experience.profile_for("standard", "RCB002").presentation.colors.accent == "#1F4E9E"


def test_removed_section_is_gone_and_the_rest_keep_their_order() -> None:
    experience = load_with()
    base = [s.id for s in experience.profiles["youth"].sections]
    overridden = [s.id for s in experience.profile_for("youth", "RCB002").sections]
    assert overridden == [section_id for section_id in base if section_id != "live-stream"]


def test_update_replaces_the_given_keys_and_merges_options_one_by_one() -> None:
    document = replaced(
        shipped("overrides/RCB001.json"),
        "/profiles/standard/sections/update/account-summary",
        {"options": {"showBalance": False}, "firstScreen": False, "fallback": {"component": "wealthSummary"}},
    )
    document = replaced(
        document, "/profiles/standard/sections/update/account-summary/dataNeeds", ["core_banking", "wealth"]
    )
    standard = load_with(overrides__RCB001=document).profile_for("standard", "RCB001")
    summary = standard.section("account-summary")
    assert summary is not None
    assert summary.options == AccountSummaryOptions(max_accounts=3, show_balance=False)  # maxAccounts kept
    assert not summary.first_screen
    assert summary.fallback.component == "wealthSummary"
    assert summary.fallback.text == ()  # a fallback is replaced whole, never mixed
    assert summary.data_needs == ("core_banking", "wealth")


def test_update_of_tiles_replaces_the_whole_list() -> None:
    standard = load_with().profile_for("standard", "RCB001")
    grid = standard.sections[1].options
    assert isinstance(grid, TileGridOptions)
    assert grid.tiles[0].id == "com.parkservices.tenant"
    assert len(grid.tiles) == 8
    assert grid.max_tiles == 8  # not in the update, kept


def test_added_sections_go_after_before_or_at_the_end_in_order() -> None:
    extra = replaced(LOANS_SECTION, "/id", "loans-2")
    last = replaced(LOANS_SECTION, "/id", "loans-3")
    document = replaced(
        RCB002,
        "/profiles/youth/sections/add",
        [
            {"section": LOANS_SECTION, "after": "account-summary"},
            {"section": extra, "before": "loans"},  # refers to the section added just before
            {"section": last},
        ],
    )
    youth = load_with(overrides__RCB002=document).profile_for("youth", "RCB002")
    ids = [section.id for section in youth.sections]
    assert ids[:4] == ["account-summary", "loans-2", "loans", "services"]
    assert ids[-1] == "loans-3"
    assert youth.section("loans-3") is not None
    assert youth.sections[2].options == ListOptions(max_items=2)


def test_shipped_overrides_apply_to_their_member_banks_only() -> None:
    experience = load_with()
    elder = experience.profile_for("elder", "RCB002").section("human-help")
    assert elder is not None
    assert elder.options == HumanHelpOptions(mode="phone")
    unchanged = experience.profile_for("elder", "RCB004").section("human-help")
    assert unchanged is not None
    assert unchanged.options == HumanHelpOptions(mode="callback")
    assert experience.profile_for("elder", "RCB004") is experience.profiles["elder"]


def test_override_summaries_say_what_each_member_bank_changes() -> None:
    overrides = load_with().overrides
    assert overrides["RCB002"] == MemberBankOverride(
        member_bank="RCB002",
        description=RCB002["description"],
        presentation_for_all=True,
        profile_ids=frozenset({"youth", "elder"}),
    )
    assert set(overrides) == {"RCB001", "RCB002", "RCB003"}


def test_applying_an_override_leaves_the_profile_document_untouched() -> None:
    youth = shipped("profiles/youth.json")
    before = repr(youth)
    merged = apply_override(youth, RCB002)
    assert repr(youth) == before
    assert len(merged["sections"]) == len(youth["sections"]) - 1


def test_without_any_override_files_every_member_bank_sees_the_shipped_profiles() -> None:
    experience = load_with(overrides__RCB001=None, overrides__RCB002=None, overrides__RCB003=None)
    assert experience.overrides == {}
    assert experience.profile_for("standard", "RCB001") is experience.profiles["standard"]


def test_problem_from_the_top_level_presentation_is_reported_there() -> None:
    document = replaced(shipped("overrides/RCB003.json"), "/presentation/colors/secondaryText", "#999999")
    problems = problems_of(files_with(overrides__RCB003=document))
    assert [(p.file, p.path) for p in problems] == [("overrides/RCB003.json", "/presentation")]
    assert "profile 'elder' is refused at /presentation/colors/secondaryText" in problems[0].message
