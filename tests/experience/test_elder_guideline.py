"""The elder guideline: the shipped elder profile passes, and each violation is refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from bff.experience.elder_guideline import check_elder_guideline, contrast_ratio, relative_luminance
from bff.experience.problems import Problem
from bff.experience.profile import read_profile
from tests.experience.documents import files_with, load_with, problems_of, removed, replaced, shipped

ELDER = shipped("profiles/elder.json")
FILE = "profiles/elder.json"
BANNER = {
    "id": "offers",
    "component": "banner",
    "dataNeeds": ["content"],
    "fallback": {"text": {"en": "See our offers"}},
    "minAppVersion": "5.0.0",
}


def violations(document: dict[str, Any]) -> list[Problem]:
    return check_elder_guideline(read_profile(document))


def test_shipped_elder_profile_passes_the_guideline() -> None:
    assert violations(ELDER) == []
    assert load_with().profiles["elder"].elder_friendly


def test_shipped_elder_profile_passes_with_every_member_banks_override() -> None:
    experience = load_with()
    for bank in ("RCB001", "RCB002", "RCB003"):
        assert check_elder_guideline(experience.profile_for("elder", bank)) == []


def case(document: Any, path: str, fragment: str, *, id: str) -> Any:
    return pytest.param(document, path, fragment, id=id)


E = ELDER
# One row per check: (a copy of the elder profile breaking it, path of the violation, part of its message).
# fmt: off
VIOLATIONS = [
    case(replaced(E, "/presentation/typography/bodySize", 17.5), "/presentation/typography/bodySize", "main text must be at least 18 dp (it is 17.5)", id="small-main-text"),
    case(replaced(E, "/presentation/typography/headlineSize", 28), "/presentation/typography/headlineSize", "the largest text on main pages must be at least 30 dp (it is 28)", id="small-headline"),
    case(replaced(E, "/presentation/typography/lineSpacing", 1.2), "/presentation/typography/lineSpacing", "line spacing must be at least 1.3 (it is 1.2)", id="tight-lines"),
    case(replaced(E, "/presentation/colors/text", "#5E575E"), "/presentation/colors/text", "text #5E575E on background #FFFFFF has a contrast of 6.99:1; it must be at least 7:1", id="text-contrast-just-below"),
    case(replaced(E, "/presentation/colors/secondaryText", "#888888"), "/presentation/colors/secondaryText", "has a contrast of 3.54:1", id="grey-secondary-text"),
    case(replaced(E, "/presentation/colors/background", "#B0B0B0"), "/presentation/colors/secondaryText", "secondaryText #333333 on background #B0B0B0", id="grey-background"),
    case(replaced(E, "/presentation/touchTarget/width", 48), "/presentation/touchTarget/width", "main controls must be at least 60 x 60 dp (width is 48)", id="narrow-controls"),
    case(replaced(E, "/presentation/touchTarget/height", 59), "/presentation/touchTarget/height", "(height is 59)", id="low-controls"),
    case(replaced(E, "/presentation/autoplay", True), "/presentation/autoplay", "autoplay must be false", id="autoplay"),
    case(replaced(E, "/presentation/navigation", "full"), "/presentation/navigation", "navigation must be 'simplified'", id="full-navigation"),
    case(replaced(E, "/sections/-", BANNER), "/sections/5/component", "no advertising banners: remove the banner section", id="advertising-banner"),
    case(replaced(E, "/sections/-", {**BANNER, "component": "popup"}), "/sections/5/component", "no pop-ups", id="pop-up"),
    case(replaced(E, "/sections/-", {**BANNER, "component": "offerButton", "dataNeeds": []}), "/sections/5/component", "no induced-payment buttons", id="induced-payment-button"),
    case(replaced(E, "/sections/-", {**BANNER, "component": "liveStreamCard", "options": {"liveSale": True}}), "/sections/5/options/liveSale", "no live-sale cards", id="live-sale-card"),
    case(replaced(replaced(E, "/sections/4/fallback", {"component": "banner"}), "/sections/4/dataNeeds/-", "content"), "/sections/4/fallback/component", "no advertising banners, not even as a fallback", id="banner-as-fallback"),
    case(removed(E, "/sections/2"), "/sections", "a voice-assistant entry is required", id="no-voice-assistant"),
    case(removed(E, "/sections/3"), "/sections", "a human-help entry is required", id="no-human-help"),
    case(replaced(E, "/sections/2/firstScreen", False), "/sections/2/firstScreen", "a voice-assistant entry must be on the first screen", id="voice-assistant-below-the-fold"),
    case(removed(E, "/sections/3/firstScreen"), "/sections/3/firstScreen", "a human-help entry must be on the first screen", id="human-help-below-the-fold"),
    case(replaced(E, "/sections/1/options/tiles/4/large", False), "/sections/1/options/tiles/4/large", "tiles on the first screen must be large: tile 'bill-payment' is not", id="small-tile"),
    case(removed(E, "/sections/1/options/tiles/0/large"), "/sections/1/options/tiles/0/large", "tile 'transfer' is not", id="tile-large-by-default-false"),
    case(replaced(replaced(E, "/sections/1/options/tiles/-", {"kind": "function", "id": "cards", "large": True}), "/sections/1/options/maxTiles", 7), "/sections/1/options/maxTiles", "the first screen may show at most 6 tiles; it shows up to 7", id="seven-tiles"),
]
# fmt: on


@pytest.mark.parametrize(("document", "path", "fragment"), VIOLATIONS)
def test_elder_profile_breaking_one_check_fails_naming_the_field(
    document: Any, path: str, fragment: str
) -> None:
    [violation] = violations(document)
    assert violation.path == path
    assert fragment in violation.message


@pytest.mark.parametrize(("document", "path", "fragment"), VIOLATIONS)
def test_elder_profile_breaking_the_guideline_cannot_be_loaded(
    document: Any, path: str, fragment: str
) -> None:
    problems = [p for p in problems_of(files_with(profiles__elder=document)) if p.file == FILE]
    assert [p.path for p in problems] == [path]
    assert fragment in problems[0].message
    assert problems[0].message.endswith("(elder guideline: the profile is marked elderFriendly)")


def test_more_candidate_tiles_than_shown_count_only_as_shown() -> None:
    document = replaced(
        ELDER, "/sections/1/options/tiles/-", {"kind": "function", "id": "cards", "large": True}
    )
    assert violations(document) == []  # seven candidates, maxTiles 6


def test_tiles_of_two_first_screen_grids_add_up() -> None:
    second = replaced(ELDER["sections"][1], "/id", "more-services")
    second = replaced(second, "/options/maxTiles", 1)
    assert [v.path for v in violations(replaced(ELDER, "/sections/-", {**second, "firstScreen": True}))] == [
        "/sections/5/options/maxTiles"
    ]
    assert violations(replaced(ELDER, "/sections/-", {**second, "firstScreen": False})) == []


def test_every_violation_is_reported_at_once() -> None:
    document = replaced(ELDER, "/presentation/autoplay", True)
    document = replaced(document, "/presentation/typography/bodySize", 14)
    document = replaced(document, "/sections/-", BANNER)
    paths = {v.path for v in violations(document)}
    assert paths == {"/presentation/autoplay", "/presentation/typography/bodySize", "/sections/5/component"}


def test_other_profiles_need_not_pass_unless_shown_to_an_elder_segment() -> None:
    assert violations(shipped("profiles/youth.json"))  # autoplay, small text, live sale, ...
    load_with()  # and yet the shipped set loads: no elder segment shows youth


def test_a_profile_marked_elder_friendly_must_pass_even_if_no_segment_shows_it() -> None:
    youth = replaced(shipped("profiles/youth.json"), "/elderFriendly", True)
    problems = problems_of(files_with(profiles__youth=youth))
    assert {"/presentation/autoplay", "/sections/3/options/liveSale"} <= {
        p.path for p in problems if p.file == "profiles/youth.json"
    }
    others = [p for p in problems if p.file != "profiles/youth.json"]
    assert all("profile 'youth' is refused" in p.message for p in others)  # found only with an override


# --- contrast ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("foreground", "background", "ratio"),
    [
        ("#000000", "#FFFFFF", 21.0),
        ("#FFFFFF", "#000000", 21.0),  # order does not matter
        ("#777777", "#FFFFFF", 4.48),  # the well-known AA edge for grey on white
        ("#595959", "#FFFFFF", 7.0),  # the lightest grey that passes AAA on white
        ("#FFFFFF", "#FFFFFF", 1.0),
        ("#ff0000", "#FFFFFF", 4.0),  # lowercase hex is fine
    ],
)
def test_contrast_ratio_follows_wcag(foreground: str, background: str, ratio: float) -> None:
    assert contrast_ratio(foreground, background) == pytest.approx(ratio, abs=0.01)


def test_relative_luminance_of_black_and_white() -> None:
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#FFFFFF") == pytest.approx(1)


def test_contrast_just_below_seven_is_not_shown_as_seven() -> None:
    ratio = contrast_ratio("#5E575E", "#FFFFFF")
    assert f"{ratio:.2f}" == "7.00"
    assert ratio < 7
    [violation] = violations(replaced(ELDER, "/presentation/colors/text", "#5E575E"))
    assert "6.99:1" in violation.message
