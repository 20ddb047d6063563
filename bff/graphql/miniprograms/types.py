"""The mini-program catalog, consent and launch, for the app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from bff.graphql.ids import to_global_id
from bff.graphql.relay import Node
from bff.miniprograms.access_log import AccessEntry
from bff.miniprograms.host import Launch, LaunchRefused, Offer


@strawberry.type(description="A permission the mini-program asks for, why, and whether you granted it.")
class ScopeRequest:
    scope: str
    purpose: str
    granted: bool


@strawberry.type(description="A partner mini-program available to you, in the version you get.")
class MiniProgram(Node):
    app_id: str
    version: str
    name: str
    names: list[LocalizedName]
    entry_page: str
    scopes: list[ScopeRequest]
    missing_consent: list[str] = strawberry.field(description="Scopes to ask for before launch.")

    @classmethod
    def of(cls, offer: Offer, language: str = "zh-CN") -> MiniProgram:
        manifest = offer.manifest
        names = dict(manifest.names)
        return cls(
            id=strawberry.ID(to_global_id("MiniProgram", manifest.app_id)),
            app_id=manifest.app_id,
            version=offer.version.version,
            name=names.get(language) or names.get("zh-CN") or names.get("en") or manifest.app_id,
            names=[LocalizedName(language=lang, text=text) for lang, text in manifest.names],
            entry_page=manifest.entry_page,
            scopes=[
                ScopeRequest(scope=scope, purpose=purpose, granted=scope in offer.granted)
                for scope, purpose in manifest.scopes
            ],
            missing_consent=sorted(offer.missing),
        )


@strawberry.type
class LocalizedName:
    language: str
    text: str


@strawberry.type(description="Open the mini-program: load entryUrl in a sandboxed web view with this CSP.")
class MiniProgramLaunch:
    app_id: str
    version: str
    bundle_url: str
    entry_url: str
    content_security_policy: str
    bridge_token: str
    bridge_token_expires_at: datetime
    scopes: list[str]
    missing_consent: list[str] = strawberry.field(
        description="Requested scopes not granted: bridge calls needing them are refused until you grant them."
    )

    @classmethod
    def of(cls, launch: Launch) -> MiniProgramLaunch:
        return cls(
            app_id=launch.app_id,
            version=launch.version,
            bundle_url=launch.bundle_url,
            entry_url=launch.entry_url,
            content_security_policy=launch.content_security_policy,
            bridge_token=launch.bridge_token,
            bridge_token_expires_at=datetime.fromtimestamp(launch.expires_at, UTC),
            scopes=sorted(launch.scopes),
            missing_consent=sorted(launch.missing),
        )


@strawberry.type(description="The launch was refused; `missingConsent` lists what to ask the customer for.")
class MiniProgramRefused:
    code: str
    message: str
    missing_consent: list[str]

    @classmethod
    def of(cls, refused: LaunchRefused) -> MiniProgramRefused:
        return cls(code=refused.code, message=refused.message, missing_consent=sorted(refused.missing))


LaunchResult = Annotated[MiniProgramLaunch | MiniProgramRefused, strawberry.union("LaunchResult")]
ConsentResult = Annotated[MiniProgram | MiniProgramRefused, strawberry.union("ConsentResult")]


@strawberry.type(description="One use of your data by a mini-program.")
class DataAccess:
    app_id: str
    scope: str
    api: str
    at: datetime

    @classmethod
    def of(cls, entry: AccessEntry) -> DataAccess:
        return cls(
            app_id=entry.app_id, scope=entry.scope, api=entry.api, at=datetime.fromtimestamp(entry.at, UTC)
        )
