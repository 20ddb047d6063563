"""The elder guideline: what a profile shown to elderly customers must meet, checked over its data.

It follows the national guideline for elder-friendly apps (MIIT, 2021: main
text at least 18 dp, the largest text on main pages at least 30 dp, main
controls at least 60 x 60 dp, no advertising, pop-ups or induced buttons) and
adds what the product asks of the elder mode: line spacing of 1.3 or more,
text contrast of 7:1 or more (WCAG 2 AAA), no autoplay and no live-sale
cards, simplified navigation, voice-assistant and human-help entries on the
first screen, and only a few large tiles there.

A profile that claims `elderFriendly`, or that a segment marked elder can
show, must pass: the loader refuses it otherwise, so it cannot be published.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from bff.experience.problems import Problem, pointer
from bff.experience.profile import (
    ComponentType,
    LiveStreamOptions,
    Profile,
    Section,
    TileGridOptions,
)

MIN_BODY_TEXT_DP: Final = 18
MIN_HEADLINE_DP: Final = 30
MIN_LINE_SPACING: Final = 1.3
MIN_TEXT_CONTRAST: Final = 7.0
MIN_TOUCH_TARGET_DP: Final = 60
MAX_FIRST_SCREEN_TILES: Final = 6

# Components that sell rather than serve; none may appear, not even as a fallback.
FORBIDDEN_COMPONENTS: Final[dict[ComponentType, str]] = {
    "banner": "advertising banners",
    "popup": "pop-ups",
    "offerButton": "induced-payment buttons",
}
REQUIRED_ENTRIES: Final[dict[ComponentType, str]] = {
    "voiceAssistantEntry": "a voice-assistant entry",
    "humanHelpEntry": "a human-help entry",
}


def check_elder_guideline(profile: Profile) -> list[Problem]:
    """Every way `profile` breaks the elder guideline, each with the path of the field in the profile."""
    return [
        *_typography(profile),
        *_contrast(profile),
        *_controls(profile),
        *(problem for index, section in enumerate(profile.sections) for problem in _section(index, section)),
        *_required_entries(profile),
        *_first_screen_tiles(profile),
    ]


def contrast_ratio(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two #RRGGBB colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def relative_luminance(color: str) -> float:
    """The WCAG 2 relative luminance of an sRGB colour written #RRGGBB."""
    red, green, blue = (_linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _linear(channel: float) -> float:
    # The sRGB transfer function (IEC 61966-2-1), as WCAG 2.2 quotes it.
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _violation(path: str, message: str) -> Problem:
    return Problem("", path, message)


def _typography(profile: Profile) -> Iterator[Problem]:
    typography = profile.presentation.typography
    if typography.body_size < MIN_BODY_TEXT_DP:
        yield _violation(
            "/presentation/typography/bodySize",
            f"main text must be at least {MIN_BODY_TEXT_DP} dp (it is {typography.body_size:g})",
        )
    if typography.headline_size < MIN_HEADLINE_DP:
        yield _violation(
            "/presentation/typography/headlineSize",
            f"the largest text on main pages must be at least {MIN_HEADLINE_DP} dp (it is {typography.headline_size:g})",
        )
    if typography.line_spacing < MIN_LINE_SPACING:
        yield _violation(
            "/presentation/typography/lineSpacing",
            f"line spacing must be at least {MIN_LINE_SPACING:g} (it is {typography.line_spacing:g})",
        )


def _contrast(profile: Profile) -> Iterator[Problem]:
    colors = profile.presentation.colors
    for key, color in (("text", colors.text), ("secondaryText", colors.secondary_text)):
        ratio = contrast_ratio(color, colors.background)
        if ratio < MIN_TEXT_CONTRAST:
            # Rounded down, so that 6.996:1 is never shown as a passing 7.00:1.
            shown = int(ratio * 100) / 100
            yield _violation(
                f"/presentation/colors/{key}",
                f"{key} {color} on background {colors.background} has a contrast of {shown:.2f}:1; "
                f"it must be at least {MIN_TEXT_CONTRAST:g}:1",
            )


def _controls(profile: Profile) -> Iterator[Problem]:
    presentation = profile.presentation
    for key, size in (
        ("width", presentation.touch_target.width),
        ("height", presentation.touch_target.height),
    ):
        if size < MIN_TOUCH_TARGET_DP:
            yield _violation(
                f"/presentation/touchTarget/{key}",
                f"main controls must be at least {MIN_TOUCH_TARGET_DP} x {MIN_TOUCH_TARGET_DP} dp ({key} is {size})",
            )
    if presentation.autoplay:
        yield _violation("/presentation/autoplay", "nothing may play by itself: autoplay must be false")
    if presentation.navigation != "simplified":
        yield _violation("/presentation/navigation", "navigation must be 'simplified'")


def _section(index: int, section: Section) -> Iterator[Problem]:
    if section.component in FORBIDDEN_COMPONENTS:
        yield _violation(
            pointer("sections", index, "component"),
            f"no {FORBIDDEN_COMPONENTS[section.component]}: remove the {section.component} section",
        )
    fallback = section.fallback.component
    if fallback in FORBIDDEN_COMPONENTS:
        yield _violation(
            pointer("sections", index, "fallback", "component"),
            f"no {FORBIDDEN_COMPONENTS[fallback]}, not even as a fallback",
        )
    if isinstance(section.options, LiveStreamOptions) and section.options.live_sale:
        yield _violation(
            pointer("sections", index, "options", "liveSale"), "no live-sale cards: liveSale must be false"
        )


def _required_entries(profile: Profile) -> Iterator[Problem]:
    for component, name in REQUIRED_ENTRIES.items():
        found = [(index, s) for index, s in enumerate(profile.sections) if s.component == component]
        if not found:
            yield _violation(
                "/sections", f"{name} is required: add a {component} section on the first screen"
            )
        elif not any(section.first_screen for _, section in found):
            yield _violation(
                pointer("sections", found[0][0], "firstScreen"),
                f"{name} must be on the first screen: set firstScreen",
            )


def _first_screen_tiles(profile: Profile) -> Iterator[Problem]:
    shown = 0
    for index, section in enumerate(profile.sections):
        if not (section.first_screen and isinstance(section.options, TileGridOptions)):
            continue
        options = section.options
        for tile_index, tile in enumerate(options.tiles):
            if not tile.large:
                yield _violation(
                    pointer("sections", index, "options", "tiles", tile_index, "large"),
                    f"tiles on the first screen must be large: tile {tile.id!r} is not",
                )
        shown += min(len(options.tiles), options.max_tiles)
        if shown > MAX_FIRST_SCREEN_TILES:
            yield _violation(
                pointer("sections", index, "options", "maxTiles"),
                f"the first screen may show at most {MAX_FIRST_SCREEN_TILES} tiles; it shows up to {shown}",
            )
