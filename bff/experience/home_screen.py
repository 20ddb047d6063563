"""The home screen as server-driven UI: a resolved profile's sections, in order, each filled with its data.

An app tells its version; a section whose `minAppVersion` is newer renders as
its fallback (a component the app knows, filled with default options, or a
text), so an older app still shows something sensible. Sections are filled
concurrently and independently: a downstream outage marks one section
`unavailable` (the app shows its fallback text) instead of failing the screen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Final

from bff.channels.errors import ChannelFailure
from bff.experience.profile import ComponentType, Presentation, Section, SectionOptions, read_options
from bff.experience.resolution import Resolution
from bff.experience.section_data import Data, SectionData
from bff.miniprograms.manifest import VersionKey

FALLBACK_TEXT: Final = "text"  # render_as for a section shown as its fallback text

# Titles an app shows above a section, by component and language.
TITLES: Final[dict[str, dict[str, str]]] = {
    "accountSummary": {"zh-CN": "我的账户", "en": "My accounts"},
    "miniProgramGrid": {"zh-CN": "常用服务", "en": "Services"},
    "banner": {"zh-CN": "活动", "en": "Highlights"},
    "shortVideoFeed": {"zh-CN": "短视频", "en": "Videos"},
    "liveStreamCard": {"zh-CN": "直播", "en": "Live"},
    "voiceAssistantEntry": {"zh-CN": "语音助手", "en": "Voice assistant"},
    "humanHelpEntry": {"zh-CN": "人工服务", "en": "Talk to a person"},
    "messagesInbox": {"zh-CN": "消息", "en": "Messages"},
    "cardsSummary": {"zh-CN": "我的卡", "en": "My cards"},
    "loansSummary": {"zh-CN": "我的贷款", "en": "My loans"},
    "wealthSummary": {"zh-CN": "我的理财", "en": "My wealth"},
    "popup": {"zh-CN": "通知", "en": "Notice"},
    "offerButton": {"zh-CN": "推荐", "en": "Offer"},
}


@dataclass(frozen=True)
class SectionView:
    id: str
    component: ComponentType
    render_as: str  # the component to draw: the section's own, its fallback component, or FALLBACK_TEXT
    title: str
    min_app_version: str
    first_screen: bool
    fallback_text: str | None
    data: Data | None
    unavailable: Data | None = None  # {code, service, reason} when the data could not be read


@dataclass(frozen=True)
class HomeScreenView:
    resolution: Resolution
    experience_version: int
    sections: tuple[SectionView, ...]

    @property
    def presentation(self) -> Presentation:
        return self.resolution.profile.presentation


async def build_home_screen(
    resolution: Resolution,
    experience_version: int,
    data: SectionData,
    app_version: VersionKey | None,
    language: str,
) -> HomeScreenView:
    """Fill every section of the resolved profile; only the services the shown components name are called."""
    drawn = [_drawn(section, app_version) for section in resolution.profile.sections]
    data.prefetch([component for component, _, render_as in drawn if render_as != FALLBACK_TEXT])
    sections = await asyncio.gather(
        *(
            _section(section, shown, data, language)
            for section, shown in zip(resolution.profile.sections, drawn, strict=True)
        )
    )
    return HomeScreenView(resolution, experience_version, tuple(sections))


async def _section(
    section: Section, drawn: tuple[ComponentType, SectionOptions, str], data: SectionData, language: str
) -> SectionView:
    component, options, render_as = drawn
    fallback_text = _localized(dict(section.fallback.text), language)
    view = SectionView(
        id=section.id,
        component=section.component,
        render_as=render_as,
        title=_localized(TITLES.get(component, {}), language) or component,
        min_app_version=section.min_app_version,
        first_screen=section.first_screen,
        fallback_text=fallback_text,
        data=None,
    )
    if render_as == FALLBACK_TEXT:
        return view
    try:
        filled = await data.fill(component, options, frozenset(section.data_needs))
    except ChannelFailure as failure:
        unavailable = {"code": "DOWNSTREAM_UNAVAILABLE", "service": failure.service, "reason": failure.reason}
        return replace(view, unavailable=unavailable)
    return replace(view, data=filled)


def _drawn(section: Section, app_version: VersionKey | None) -> tuple[ComponentType, SectionOptions, str]:
    """The component whose data the section shows, its options, and what the app draws (FALLBACK_TEXT: no data)."""
    if app_version is None or section.renders_on(app_version):
        return section.component, section.options, section.component
    fallback = section.fallback.component
    if fallback is None:
        return section.component, section.options, FALLBACK_TEXT
    return fallback, read_options(fallback, {}), fallback


def _localized(texts: dict[str, str], language: str) -> str | None:
    return texts.get(language) or texts.get("zh-CN") or texts.get("en") or next(iter(texts.values()), None)


def presentation_json(presentation: Presentation) -> Data:
    """The presentation tokens, flat, as the app and the console preview read them."""
    typography, colors = presentation.typography, presentation.colors
    return {
        "fontScale": typography.font_scale,
        "bodySize": typography.body_size,
        "headlineSize": typography.headline_size,
        "lineSpacing": typography.line_spacing,
        "textColor": colors.text,
        "secondaryTextColor": colors.secondary_text,
        "backgroundColor": colors.background,
        "accentColor": colors.accent,
        "contrast": presentation.contrast,
        "touchTargetWidth": presentation.touch_target.width,
        "touchTargetHeight": presentation.touch_target.height,
        "gridColumns": presentation.grid_columns,
        "autoplay": presentation.autoplay,
        "motion": presentation.motion,
        "navigation": presentation.navigation,
        "dataSaver": presentation.data_saver.enabled,
        "imageQuality": presentation.data_saver.image_quality,
    }


def home_screen_json(view: HomeScreenView) -> Data:
    """The shape of docs/experience-admin-api.md's preview (GraphQL `homeScreen` carries the same)."""
    resolution = view.resolution
    return {
        "segment": resolution.segment_id,
        "rule": resolution.matched_rule,
        "profile": resolution.profile_id,
        "chosenBy": resolution.chosen_by,
        "explanation": list(resolution.explanation),
        "experienceVersion": view.experience_version,
        "presentation": presentation_json(view.presentation),
        "sections": [
            {
                "id": s.id,
                "component": s.component,
                "renderAs": s.render_as,
                "title": s.title,
                "minAppVersion": s.min_app_version,
                "firstScreen": s.first_screen,
                "fallbackText": s.fallback_text,
                "data": s.data,
                "unavailable": s.unavailable,
            }
            for s in view.sections
        ],
    }
