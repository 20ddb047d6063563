"""Profiles: every schema rule and every rule beyond it refuses a bad file naming the field; reading a good one."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, get_args

import pytest

from bff.experience.loading import parse_experience_set
from bff.experience.problems import Problem
from bff.experience.profile import (
    AccountSummaryOptions,
    Colors,
    ComponentType,
    Fallback,
    HumanHelpOptions,
    ListOptions,
    LiveStreamOptions,
    PopupOptions,
    ServiceName,
    Tile,
    TileGridOptions,
    TouchTarget,
    Typography,
    read_options,
    read_profile,
)
from bff.experience.schema_check import schema_path
from bff.miniprograms.manifest import parse_version
from tests.experience.documents import files_with, problems_of, removed, replaced, shipped

ROOT = Path(__file__).resolve().parents[2]
STANDARD = shipped("profiles/standard.json")
FILE = "profiles/standard.json"


def refused(document: dict[str, Any]) -> list[Problem]:
    return problems_of(files_with(profiles__standard=document))


def case(document: Any, path: str, fragment: str, *, id: str) -> Any:
    return pytest.param(document, path, fragment, id=id)


S = STANDARD
# One row per rule: (document, path of the problem, part of its message).
# fmt: off
REJECTED = [
    # unknown keys are refused, never dropped
    case(replaced(S, "/layout", "grid"), "/layout", "unknown key 'layout' (allowed: $schema, id, names,", id="unknown-top-level-key"),
    case(replaced(S, "/presentation/fontSize", 16), "/presentation/fontSize", "unknown key 'fontSize' (allowed: typography,", id="unknown-presentation-token"),
    case(replaced(S, "/presentation/typography/weight", 400), "/presentation/typography/weight", "unknown key 'weight'", id="unknown-typography-token"),
    case(replaced(S, "/presentation/colors/link", "#0000FF"), "/presentation/colors/link", "unknown key 'link'", id="unknown-colour"),
    case(replaced(S, "/sections/0/title", "x"), "/sections/0/title", "unknown key 'title' (allowed: id, component,", id="unknown-section-key"),
    case(replaced(S, "/sections/0/options/maxItems", 3), "/sections/0/options/maxItems", "unknown key 'maxItems' (allowed: maxAccounts, showBalance)", id="option-of-another-component"),
    case(replaced(S, "/sections/1/options/tiles/0/size", 2), "/sections/1/options/tiles/0/size", "unknown key 'size' (allowed: kind, id, large)", id="unknown-tile-key"),
    case(replaced(S, "/sections/0/fallback/options", {}), "/sections/0/fallback/options", "unknown key 'options' (allowed: component, text)", id="unknown-fallback-key"),
    # required keys, at the path they should have had
    case(removed(S, "/presentation"), "/presentation", "required key 'presentation' is missing", id="no-presentation"),
    case(removed(S, "/sections"), "/sections", "required key 'sections' is missing", id="no-sections"),
    case(removed(S, "/names"), "/names", "required key 'names' is missing", id="no-names"),
    case(removed(S, "/presentation/typography/bodySize"), "/presentation/typography/bodySize", "required key 'bodySize' is missing", id="no-body-size"),
    case(removed(S, "/presentation/colors/accent"), "/presentation/colors/accent", "required key 'accent' is missing", id="no-accent"),
    case(removed(S, "/presentation/touchTarget/height"), "/presentation/touchTarget/height", "required key 'height' is missing", id="no-touch-height"),
    case(removed(S, "/presentation/dataSaver/enabled"), "/presentation/dataSaver/enabled", "required key 'enabled' is missing", id="no-data-saver-flag"),
    case(removed(S, "/presentation/autoplay"), "/presentation/autoplay", "required key 'autoplay' is missing", id="no-autoplay"),
    case(removed(S, "/sections/2/fallback"), "/sections/2/fallback", "required key 'fallback' is missing", id="section-without-fallback"),
    case(removed(S, "/sections/2/dataNeeds"), "/sections/2/dataNeeds", "required key 'dataNeeds' is missing", id="section-without-data-needs"),
    case(removed(S, "/sections/2/minAppVersion"), "/sections/2/minAppVersion", "required key 'minAppVersion' is missing", id="section-without-min-version"),
    case(removed(S, "/sections/1/options"), "/sections/1/options", "required key 'options' is missing", id="grid-without-options"),
    case(removed(S, "/sections/1/options/maxTiles"), "/sections/1/options/maxTiles", "required key 'maxTiles' is missing", id="grid-without-max-tiles"),
    case(removed(S, "/sections/1/options/tiles/0/kind"), "/sections/1/options/tiles/0/kind", "required key 'kind' is missing", id="tile-without-kind"),
    # ids and texts
    case(replaced(S, "/id", "Standard"), "/id", "is not a profile id", id="profile-id-uppercase"),
    case(replaced(S, "/sections/0/id", "account summary"), "/sections/0/id", "is not a section id", id="section-id-with-space"),
    case(replaced(S, "/names", {"fr": "Standard"}), "/names", "must include at least one of the keys 'zh-CN', 'en'", id="names-without-zh-or-en"),
    case(replaced(S, "/names/EN", "Standard"), "/names/EN", "key 'EN' is not a language tag", id="names-bad-language-tag"),
    case(replaced(S, "/names/en", " Standard"), "/names/en", "is not a text of 1 to 200 characters", id="name-leading-space"),
    case(replaced(S, "/description", ""), "/description", "at least 1 character long", id="empty-description"),
    case(replaced(S, "/elderFriendly", "yes"), "/elderFriendly", "must be a boolean, not a string", id="elder-friendly-not-boolean"),
    # presentation tokens
    case(replaced(S, "/presentation/typography/bodySize", 8), "/presentation/typography/bodySize", "must be at least 10 (it is 8)", id="body-size-too-small"),
    case(replaced(S, "/presentation/typography/headlineSize", 120), "/presentation/typography/headlineSize", "must be at most 96", id="headline-too-large"),
    case(replaced(S, "/presentation/typography/fontScale", "1.2"), "/presentation/typography/fontScale", "must be a number, not a string", id="font-scale-not-a-number"),
    case(replaced(S, "/presentation/typography/lineSpacing", 0.9), "/presentation/typography/lineSpacing", "must be at least 1", id="line-spacing-below-one"),
    case(replaced(S, "/presentation/colors/text", "black"), "/presentation/colors/text", "'black' is not an sRGB colour as #RRGGBB", id="colour-by-name"),
    case(replaced(S, "/presentation/colors/background", "#FFF"), "/presentation/colors/background", "is not an sRGB colour", id="colour-short-form"),
    case(replaced(S, "/presentation/colors/text", "#000000\n"), "/presentation/colors/text", "is not an sRGB colour", id="colour-trailing-newline"),
    case(replaced(S, "/presentation/contrast", "extreme"), "/presentation/contrast", "'extreme' is not one of: standard, high", id="contrast-unknown"),
    case(replaced(S, "/presentation/touchTarget/width", 44.5), "/presentation/touchTarget/width", "must be an integer, not a number", id="touch-target-fraction"),
    case(replaced(S, "/presentation/gridColumns", 7), "/presentation/gridColumns", "must be at most 6 (it is 7)", id="too-many-columns"),
    case(replaced(S, "/presentation/gridColumns", 0), "/presentation/gridColumns", "must be at least 1 (it is 0)", id="no-columns"),
    case(replaced(S, "/presentation/autoplay", "no"), "/presentation/autoplay", "must be a boolean, not a string", id="autoplay-not-boolean"),
    case(replaced(S, "/presentation/motion", "none"), "/presentation/motion", "'none' is not one of: full, reduced", id="motion-unknown"),
    case(replaced(S, "/presentation/navigation", "tabs"), "/presentation/navigation", "is not one of: full, simplified", id="navigation-unknown"),
    case(replaced(S, "/presentation/dataSaver/imageQuality", "tiny"), "/presentation/dataSaver/imageQuality", "is not one of: low, medium, high", id="image-quality-unknown"),
    # sections
    case(replaced(S, "/sections", []), "/sections", "must have at least 1 entry (it has 0)", id="no-sections-at-all"),
    case(replaced(S, "/sections/0/component", "stockTicker"), "/sections/0/component", "'stockTicker' is not one of: accountSummary,", id="unknown-component"),
    case(replaced(S, "/sections/0/dataNeeds", ["ledger"]), "/sections/0/dataNeeds/0", "'ledger' is not one of: core_banking, cards,", id="unknown-service"),
    case(replaced(S, "/sections/0/dataNeeds", ["core_banking", "core_banking"]), "/sections/0/dataNeeds/1", "duplicate of /sections/0/dataNeeds/0", id="service-twice"),
    case(replaced(S, "/sections/0/minAppVersion", "5.0"), "/sections/0/minAppVersion", "'5.0' is not an app version as MAJOR.MINOR.PATCH", id="min-version-two-parts"),
    case(replaced(S, "/sections/0/minAppVersion", "v5.0.0"), "/sections/0/minAppVersion", "is not an app version", id="min-version-with-v"),
    case(replaced(S, "/sections/0/firstScreen", 1), "/sections/0/firstScreen", "must be a boolean, not an integer", id="first-screen-not-boolean"),
    case(replaced(S, "/sections/0/options", []), "/sections/0/options", "must be an object, not an array", id="options-not-an-object"),
    # fallbacks
    case(replaced(S, "/sections/0/fallback", {}), "/sections/0/fallback", "must include at least one of the keys 'component', 'text'", id="empty-fallback"),
    case(replaced(S, "/sections/0/fallback/component", "banner"), "/sections/0/fallback", "a fallback is either a component or a text, not both", id="fallback-component-and-text"),
    case(replaced(S, "/sections/5/fallback/component", "hologram"), "/sections/5/fallback/component", "'hologram' is not one of", id="fallback-unknown-component"),
    case(replaced(S, "/sections/0/fallback/text", {"en": ""}), "/sections/0/fallback/text/en", "at least 1 character long", id="fallback-empty-text"),
    # component options
    case(replaced(S, "/sections/0/options/maxAccounts", 0), "/sections/0/options/maxAccounts", "must be at least 1 (it is 0)", id="no-accounts"),
    case(replaced(S, "/sections/1/options/maxTiles", 33), "/sections/1/options/maxTiles", "must be at most 32", id="too-many-tiles-shown"),
    case(replaced(S, "/sections/1/options/tiles", []), "/sections/1/options/tiles", "must have at least 1 entry", id="grid-without-tiles"),
    case(replaced(S, "/sections/1/options/tiles/0/kind", "widget"), "/sections/1/options/tiles/0/kind", "'widget' is not one of: function, miniProgram", id="tile-kind-unknown"),
    case(replaced(S, "/sections/1/options/tiles/0/id", "teleport"), "/sections/1/options/tiles/0/id", "'teleport' is not one of: transfer,", id="tile-unknown-function"),
    case(replaced(S, "/sections/1/options/tiles/6/id", "ParkServices"), "/sections/1/options/tiles/6/id", "is not a mini-program appId", id="tile-bad-app-id"),
    case(replaced(S, "/sections/1/options/tiles/0/large", "yes"), "/sections/1/options/tiles/0/large", "must be a boolean", id="tile-large-not-boolean"),
    case(replaced(S, "/sections/2/options/maxItems", 0), "/sections/2/options/maxItems", "must be at least 1 (it is 0)", id="list-without-items"),
    case(replaced(S, "/sections/5/options/liveSale", "false"), "/sections/5/options/liveSale", "must be a boolean, not a string", id="live-sale-not-boolean"),
    case(replaced(S, "/sections/6/options/mode", "video"), "/sections/6/options/mode", "'video' is not one of: chat, callback, phone", id="help-mode-unknown"),
    # rules beyond the schema
    case(replaced(S, "/id", "basic"), "/id", "'basic' is not the profile id its file name gives (standard)", id="id-not-the-file-name"),
    case(replaced(S, "/sections/3/id", "banners"), "/sections/3/id", "section id 'banners' is used twice (first at /sections/2/id)", id="section-id-twice"),
    case(replaced(S, "/sections/1/options/tiles/3/id", "transfer"), "/sections/1/options/tiles/3/id", "tile 'transfer' is used twice (first at /sections/1/options/tiles/0/id)", id="tile-twice"),
    case(replaced(S, "/sections/5/fallback/component", "liveStreamCard"), "/sections/5/fallback/component", "the fallback must differ from the section's component", id="fallback-same-component"),
    case(replaced(S, "/sections/0/dataNeeds", ["crm"]), "/sections/0/dataNeeds", "a section of component accountSummary needs 'core_banking' in dataNeeds", id="component-without-its-service"),
    case(replaced(S, "/sections/6/fallback", {"component": "banner"}), "/sections/6/fallback/component", "the fallback banner needs 'content', which is not in the section's dataNeeds", id="fallback-without-its-service"),
]
# fmt: on


@pytest.mark.parametrize(("document", "path", "fragment"), REJECTED)
def test_profile_breaking_one_rule_is_refused_naming_the_field(
    document: Any, path: str, fragment: str
) -> None:
    problems = refused(document)
    assert [p.path for p in problems if p.file == FILE] == [path], problems
    [problem] = [p for p in problems if p.file == FILE]
    assert fragment in problem.message


def test_every_problem_of_a_profile_is_reported_at_once() -> None:
    document = replaced(STANDARD, "/presentation/gridColumns", 9)
    document = replaced(document, "/sections/0/component", "stockTicker")
    document = removed(document, "/sections/3/fallback")
    paths = [p.path for p in refused(document) if p.file == FILE]
    assert paths == ["/presentation/gridColumns", "/sections/0/component", "/sections/3/fallback"]


# --- reading a profile --------------------------------------------------------


def test_shipped_elder_profile_reads_into_typed_values() -> None:
    profile = read_profile(shipped("profiles/elder.json"))

    assert profile.id == "elder"
    assert profile.names == (("en", "Elder-friendly"), ("zh-CN", "长辈版"))
    assert profile.elder_friendly
    assert profile.presentation.typography == Typography(
        font_scale=1.5, body_size=20, headline_size=32, line_spacing=1.5
    )
    assert profile.presentation.colors == Colors("#000000", "#333333", "#FFFFFF", "#B0001E")
    assert profile.presentation.touch_target == TouchTarget(64, 64)
    assert [s.id for s in profile.sections] == [
        "account-summary",
        "services",
        "voice-assistant",
        "human-help",
        "messages",
    ]
    grid = profile.sections[1].options
    assert isinstance(grid, TileGridOptions)
    assert grid.max_tiles == 6
    assert grid.tiles[0] == Tile(kind="function", id="transfer", large=True)
    assert profile.sections[3].options == HumanHelpOptions(mode="callback")
    assert profile.sections[3].fallback == Fallback(
        text=(("en", "Call us on 96588"), ("zh-CN", "客服热线 96588"))
    )
    assert profile.data_needs == frozenset({"core_banking", "messages"})


def test_section_is_found_by_id() -> None:
    profile = read_profile(STANDARD)
    live = profile.section("live-stream")
    assert live is not None
    assert live.fallback == Fallback(component="banner")
    assert profile.section("nowhere") is None


def test_section_renders_only_on_apps_at_least_its_minimum_version() -> None:
    live = read_profile(STANDARD).section("live-stream")
    assert live is not None
    assert live.renders_on(parse_version("5.6.0"))
    assert live.renders_on(parse_version("6.0.0"))
    assert not live.renders_on(parse_version("5.5.9"))
    assert not live.renders_on(parse_version("5.6.0-beta.1"))


def test_absent_options_take_their_defaults() -> None:
    document = removed(STANDARD, "/sections/0/options")
    document = removed(document, "/sections/5/options")
    document = removed(document, "/sections/2/options")
    document = removed(document, "/sections/0/firstScreen")
    profile = read_profile(document)
    assert profile.sections[0].options == AccountSummaryOptions(max_accounts=3, show_balance=True)
    assert profile.sections[0].first_screen is False
    assert profile.sections[5].options == LiveStreamOptions(live_sale=False)
    assert profile.sections[2].options == ListOptions(max_items=5)


def test_integral_numbers_written_as_floats_are_read_as_ints() -> None:
    document = replaced(STANDARD, "/presentation/gridColumns", 4.0)
    document = replaced(document, "/sections/1/options/maxTiles", 8.0)
    profile = parse_experience_set(files_with(profiles__standard=document)).profiles["standard"]
    assert isinstance(profile.presentation.grid_columns, int)
    grid = profile.sections[1].options
    assert isinstance(grid, TileGridOptions)
    assert isinstance(grid.max_tiles, int)


# --- the schema file and the code agree ---------------------------------------


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path("profile").read_text())
    return schema


def test_schema_components_are_the_component_types() -> None:
    assert tuple(_schema()["$defs"]["component"]["enum"]) == get_args(ComponentType)


def test_schema_services_are_the_services_of_the_channel_registry() -> None:
    registry = tomllib.loads((ROOT / "bff" / "channels" / "services.toml").read_text())
    enum = _schema()["$defs"]["serviceName"]["enum"]
    assert set(enum) == set(registry["services"]) == set(get_args(ServiceName))


def _defaults(options_schema: dict[str, Any]) -> dict[str, Any]:
    return {key: sub["default"] for key, sub in options_schema["properties"].items() if "default" in sub}


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        ("accountSummary", AccountSummaryOptions()),
        ("liveStreamCard", LiveStreamOptions()),
        ("humanHelpEntry", HumanHelpOptions()),
        ("popup", PopupOptions()),
        ("banner", ListOptions()),
    ],
)
def test_defaults_documented_in_the_schema_are_the_defaults_read(component: str, expected: object) -> None:
    options_of = _schema()["$defs"]["optionsOf"]
    rule = options_of.get(component) or options_of["list"]
    documented = _defaults(rule["then"]["properties"]["options"])
    assert documented
    assert read_options(component, documented) == expected  # type: ignore[arg-type]
    assert read_options(component, {}) == expected  # type: ignore[arg-type]
