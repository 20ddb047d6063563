"""An experience profile: presentation tokens and the ordered home-screen sections of a segment.

The format is schemas/experience-profile.schema.json; `read_profile` turns a
document that passed it into a `Profile`, and `profile_problems` checks the
rules the schema cannot express. Language-keyed texts are sorted tuples of
(language, text) pairs, as in a mini-program `Manifest`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, cast

from bff.experience.problems import Problem, pointer
from bff.miniprograms.manifest import VersionKey, parse_version

ComponentType = Literal[
    "accountSummary",
    "miniProgramGrid",
    "banner",
    "shortVideoFeed",
    "liveStreamCard",
    "voiceAssistantEntry",
    "humanHelpEntry",
    "messagesInbox",
    "cardsSummary",
    "loansSummary",
    "wealthSummary",
    "popup",
    "offerButton",
]
# As named in bff/channels/services.toml.
ServiceName = Literal["core_banking", "cards", "loans", "wealth", "payments", "content", "messages", "crm"]
Contrast = Literal["standard", "high"]
Motion = Literal["full", "reduced"]
Navigation = Literal["full", "simplified"]
ImageQuality = Literal["low", "medium", "high"]
TileKind = Literal["function", "miniProgram"]
HumanHelpMode = Literal["chat", "callback", "phone"]
PopupFrequency = Literal["once", "daily", "everyLaunch"]

LocalizedText: TypeAlias = tuple[tuple[str, str], ...]

# The service a component cannot be filled without; a section of that component must list it.
SERVICE_OF_COMPONENT: Final[Mapping[ComponentType, ServiceName]] = {
    "accountSummary": "core_banking",
    "banner": "content",
    "popup": "content",
    "shortVideoFeed": "content",
    "liveStreamCard": "content",
    "messagesInbox": "messages",
    "cardsSummary": "cards",
    "loansSummary": "loans",
    "wealthSummary": "wealth",
}


# --- presentation tokens ----------------------------------------------------


@dataclass(frozen=True)
class Typography:
    """Text sizes in dp; `font_scale` applies to text the profile does not size (tile labels, native screens)."""

    font_scale: float
    body_size: float
    headline_size: float
    line_spacing: float


@dataclass(frozen=True)
class Colors:
    """sRGB colours as #RRGGBB."""

    text: str
    secondary_text: str
    background: str
    accent: str


@dataclass(frozen=True)
class TouchTarget:
    """The smallest size of a main control, in dp."""

    width: int
    height: int


@dataclass(frozen=True)
class DataSaver:
    enabled: bool
    image_quality: ImageQuality
    prefetch_media: bool


@dataclass(frozen=True)
class Presentation:
    typography: Typography
    colors: Colors
    contrast: Contrast
    touch_target: TouchTarget
    grid_columns: int
    autoplay: bool
    motion: Motion
    navigation: Navigation
    data_saver: DataSaver


# --- section options, one kind per component ---------------------------------


@dataclass(frozen=True)
class AccountSummaryOptions:
    max_accounts: int = 3
    show_balance: bool = True


@dataclass(frozen=True)
class Tile:
    """A bank function built into the app, or a partner mini-program by its appId."""

    kind: TileKind
    id: str
    large: bool = False


@dataclass(frozen=True)
class TileGridOptions:
    """Candidate tiles in order; tiles the customer cannot use are skipped, at most `max_tiles` shown."""

    tiles: tuple[Tile, ...] = ()
    max_tiles: int = 0


@dataclass(frozen=True)
class ListOptions:
    """For banners, video feeds, messages, cards, loans and wealth: how many items to show."""

    max_items: int = 5


@dataclass(frozen=True)
class LiveStreamOptions:
    live_sale: bool = False


@dataclass(frozen=True)
class VoiceAssistantOptions:
    greeting: LocalizedText = ()


@dataclass(frozen=True)
class HumanHelpOptions:
    mode: HumanHelpMode = "chat"


@dataclass(frozen=True)
class PopupOptions:
    frequency: PopupFrequency = "once"


@dataclass(frozen=True)
class OfferButtonOptions:
    label: LocalizedText = ()


SectionOptions: TypeAlias = (
    AccountSummaryOptions
    | TileGridOptions
    | ListOptions
    | LiveStreamOptions
    | VoiceAssistantOptions
    | HumanHelpOptions
    | PopupOptions
    | OfferButtonOptions
)


# --- sections and the profile ------------------------------------------------


@dataclass(frozen=True)
class Fallback:
    """What an app older than the section's minimum version shows: a component (default options) or a text."""

    component: ComponentType | None = None
    text: LocalizedText = ()


@dataclass(frozen=True)
class Section:
    id: str
    component: ComponentType
    data_needs: tuple[ServiceName, ...]
    fallback: Fallback
    min_app_version: str
    first_screen: bool
    options: SectionOptions

    def renders_on(self, app_version: VersionKey) -> bool:
        """Whether an app of `app_version` knows the component (otherwise it gets the fallback)."""
        return app_version >= parse_version(self.min_app_version)


@dataclass(frozen=True)
class Profile:
    id: str
    names: LocalizedText
    description: str | None
    elder_friendly: bool
    presentation: Presentation
    sections: tuple[Section, ...]

    @property
    def data_needs(self) -> frozenset[ServiceName]:
        """Every downstream service some section of the profile is filled from."""
        return frozenset(service for section in self.sections for service in section.data_needs)

    def section(self, section_id: str) -> Section | None:
        return next((section for section in self.sections if section.id == section_id), None)


# --- reading a document that passed the schema --------------------------------


def read_profile(document: Mapping[str, Any]) -> Profile:
    """The `Profile` of a document that passed the profile schema."""
    return Profile(
        id=document["id"],
        names=read_text(document["names"]),
        description=document.get("description"),
        elder_friendly=bool(document.get("elderFriendly", False)),
        presentation=_read_presentation(document["presentation"]),
        sections=tuple(_read_section(section) for section in document["sections"]),
    )


def read_text(texts: Mapping[str, str]) -> LocalizedText:
    return tuple(sorted(texts.items()))


def _read_presentation(tokens: Mapping[str, Any]) -> Presentation:
    typography, colors = tokens["typography"], tokens["colors"]
    target, saver = tokens["touchTarget"], tokens["dataSaver"]
    return Presentation(
        typography=Typography(
            font_scale=float(typography["fontScale"]),
            body_size=float(typography["bodySize"]),
            headline_size=float(typography["headlineSize"]),
            line_spacing=float(typography["lineSpacing"]),
        ),
        colors=Colors(
            text=colors["text"],
            secondary_text=colors["secondaryText"],
            background=colors["background"],
            accent=colors["accent"],
        ),
        contrast=tokens["contrast"],
        # JSON Schema counts 60.0 as an integer; the dataclasses promise int.
        touch_target=TouchTarget(width=int(target["width"]), height=int(target["height"])),
        grid_columns=int(tokens["gridColumns"]),
        autoplay=tokens["autoplay"],
        motion=tokens["motion"],
        navigation=tokens["navigation"],
        data_saver=DataSaver(
            enabled=saver["enabled"],
            image_quality=saver["imageQuality"],
            prefetch_media=saver["prefetchMedia"],
        ),
    )


def _read_section(section: Mapping[str, Any]) -> Section:
    fallback = section["fallback"]
    return Section(
        id=section["id"],
        component=section["component"],
        data_needs=tuple(section["dataNeeds"]),
        fallback=Fallback(component=fallback.get("component"), text=read_text(fallback.get("text", {}))),
        min_app_version=section["minAppVersion"],
        first_screen=bool(section.get("firstScreen", False)),
        options=read_options(section["component"], section.get("options", {})),
    )


def read_options(component: ComponentType, options: Mapping[str, Any]) -> SectionOptions:
    """The typed options of a component; absent options take the dataclass defaults."""
    match component:
        case "accountSummary":
            default = AccountSummaryOptions()
            return AccountSummaryOptions(
                max_accounts=int(options.get("maxAccounts", default.max_accounts)),
                show_balance=options.get("showBalance", default.show_balance),
            )
        case "miniProgramGrid":
            return TileGridOptions(
                tiles=tuple(
                    Tile(kind=tile["kind"], id=tile["id"], large=tile.get("large", False))
                    for tile in options.get("tiles", ())
                ),
                max_tiles=int(options.get("maxTiles", 0)),
            )
        case "liveStreamCard":
            return LiveStreamOptions(live_sale=options.get("liveSale", False))
        case "voiceAssistantEntry":
            return VoiceAssistantOptions(greeting=read_text(options.get("greeting", {})))
        case "humanHelpEntry":
            return HumanHelpOptions(mode=options.get("mode", HumanHelpOptions().mode))
        case "popup":
            return PopupOptions(frequency=options.get("frequency", PopupOptions().frequency))
        case "offerButton":
            return OfferButtonOptions(label=read_text(options.get("label", {})))
    return ListOptions(max_items=int(options.get("maxItems", ListOptions().max_items)))


# --- rules the schema cannot express -------------------------------------------


def profile_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Problems in a document that passed the profile schema; problems carry no file name."""
    sections = cast(list[dict[str, Any]], document["sections"])
    return [
        *_unique(((pointer("sections", i, "id"), s["id"]) for i, s in enumerate(sections)), "section id"),
        *(problem for index, section in enumerate(sections) for problem in _section_problems(index, section)),
    ]


def _section_problems(index: int, section: Mapping[str, Any]) -> Iterator[Problem]:
    component, needs = section["component"], section["dataNeeds"]
    fallback = section["fallback"].get("component")
    if fallback == component:
        yield Problem(
            "",
            pointer("sections", index, "fallback", "component"),
            f"the fallback must differ from the section's component {component!r}: an app that does not "
            "know the component does not know its fallback either",
        )
    needed = SERVICE_OF_COMPONENT.get(component)
    if needed and needed not in needs:
        yield Problem(
            "",
            pointer("sections", index, "dataNeeds"),
            f"a section of component {component} needs {needed!r} in dataNeeds",
        )
    fallback_needs = SERVICE_OF_COMPONENT.get(fallback) if fallback else None
    if fallback_needs and fallback_needs not in needs:
        yield Problem(
            "",
            pointer("sections", index, "fallback", "component"),
            f"the fallback {fallback} needs {fallback_needs!r}, which is not in the section's dataNeeds",
        )
    tiles = section.get("options", {}).get("tiles", []) if component == "miniProgramGrid" else []
    yield from _unique(
        (
            (pointer("sections", index, "options", "tiles", i, "id"), (t["kind"], t["id"]))
            for i, t in enumerate(tiles)
        ),
        "tile",
    )


def _unique(entries: Iterator[tuple[str, object]], what: str) -> Iterator[Problem]:
    """A problem for every entry whose value an earlier entry already has."""
    first_seen: dict[object, str] = {}
    for path, value in entries:
        if value in first_seen:
            shown = value[1] if isinstance(value, tuple) else value
            yield Problem("", path, f"{what} {shown!r} is used twice (first at {first_seen[value]})")
        else:
            first_seen[value] = path
