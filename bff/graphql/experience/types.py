"""The home screen as server-driven UI: presentation tokens and ordered sections with their data."""

from __future__ import annotations

import enum

import strawberry
from strawberry.scalars import JSON

from bff.experience.home_screen import HomeScreenView, SectionView
from bff.experience.profile import Presentation as PresentationTokens


@strawberry.type(description="How to draw the screen: sizes in dp, colours as #RRGGBB.")
class Presentation:
    font_scale: float
    body_size: float
    headline_size: float
    line_spacing: float
    text_color: str
    secondary_text_color: str
    background_color: str
    accent_color: str
    contrast: str
    touch_target_width: int
    touch_target_height: int
    grid_columns: int
    autoplay: bool
    motion: str
    navigation: str
    data_saver: bool
    image_quality: str

    @classmethod
    def of(cls, tokens: PresentationTokens) -> Presentation:
        typography, colors = tokens.typography, tokens.colors
        return cls(
            font_scale=typography.font_scale,
            body_size=typography.body_size,
            headline_size=typography.headline_size,
            line_spacing=typography.line_spacing,
            text_color=colors.text,
            secondary_text_color=colors.secondary_text,
            background_color=colors.background,
            accent_color=colors.accent,
            contrast=tokens.contrast,
            touch_target_width=tokens.touch_target.width,
            touch_target_height=tokens.touch_target.height,
            grid_columns=tokens.grid_columns,
            autoplay=tokens.autoplay,
            motion=tokens.motion,
            navigation=tokens.navigation,
            data_saver=tokens.data_saver.enabled,
            image_quality=tokens.data_saver.image_quality,
        )


@strawberry.type(description="Why a section has no data: the service that failed.")
class SectionUnavailable:
    code: str
    service: str
    reason: str


@strawberry.type(
    description=(
        "One section of the home screen. Draw `renderAs` (the component, or its fallback for an app "
        "older than minAppVersion; `text` means show fallbackText). An app that does not know "
        "`renderAs` shows fallbackText. `data` holds the component's content (see experience/README.md)."
    )
)
class HomeSection:
    id: str
    component: str
    render_as: str
    title: str
    min_app_version: str
    first_screen: bool
    fallback_text: str | None
    data: JSON | None
    unavailable: SectionUnavailable | None

    @classmethod
    def of(cls, section: SectionView) -> HomeSection:
        gone = section.unavailable
        return cls(
            id=section.id,
            component=section.component,
            render_as=section.render_as,
            title=section.title,
            min_app_version=section.min_app_version,
            first_screen=section.first_screen,
            fallback_text=section.fallback_text,
            data=section.data,  # type: ignore[arg-type]  # JSON is a NewType over object
            unavailable=SectionUnavailable(**gone) if gone else None,
        )


@strawberry.type(description="Your home screen: the profile of your segment (or your own choice), filled in.")
class HomeScreen:
    segment: str
    rule: str = strawberry.field(description="The segment rule that matched.")
    profile: str
    chosen_by: str = strawberry.field(description="rule, rollout or preference: what decided the profile.")
    explanation: list[str] = strawberry.field(description="Each step of the decision, in words.")
    experience_version: int
    presentation: Presentation
    sections: list[HomeSection]

    @classmethod
    def of(cls, view: HomeScreenView) -> HomeScreen:
        resolution = view.resolution
        return cls(
            segment=resolution.segment_id,
            rule=resolution.matched_rule,
            profile=resolution.profile_id,
            chosen_by=resolution.chosen_by,
            explanation=list(resolution.explanation),
            experience_version=view.experience_version,
            presentation=Presentation.of(view.presentation),
            sections=[HomeSection.of(section) for section in view.sections],
        )


@strawberry.enum(description="Where the request comes from.")
class ClientChannel(enum.Enum):
    APP = "app"
    WEB = "web"
    BRANCH = "branch"
    CALL_CENTRE = "call_centre"
    MINI_PROGRAM = "mini_program"


@strawberry.type(description="Your own experience choice, and the profiles you can choose from.")
class ExperienceChoice:
    profile: str | None = strawberry.field(description="null: the profile of your segment applies.")
    profiles: list[str]
