"""`homeScreen` and the customer's own experience choice; the work is in bff/experience/home_screens.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from bff.experience.home_screens import HomeScreens, InvalidAppVersion, UnknownProfile, app_context
from bff.graphql.context import RequestContext
from bff.graphql.exceptions import BadUserInput, Forbidden
from bff.graphql.experience.types import ClientChannel, ExperienceChoice, HomeScreen


def _screens(info: strawberry.Info[RequestContext, Any]) -> HomeScreens:
    screens = info.context.home_screens
    if screens is None:
        raise Forbidden("experience profiles are not enabled on this server")
    return screens


async def home_screen(
    info: strawberry.Info[RequestContext, Any],
    app_version: str | None = None,
    channel: ClientChannel = ClientChannel.APP,
) -> HomeScreen:
    context = info.context
    scope = context.customer()
    try:
        client = app_context(channel.value, app_version)
    except InvalidAppVersion as exc:
        raise BadUserInput(str(exc)) from None
    host = context.miniprograms

    async def available(app_ids: Sequence[str], language: str) -> dict[str, str]:
        return await host.names_available(context.principal, app_ids, language) if host else {}

    view = await _screens(info).for_customer(scope, context.loaders, client, available if host else None)
    return HomeScreen.of(view)


async def set_experience_preference(
    info: strawberry.Info[RequestContext, Any], profile: str | None = None
) -> ExperienceChoice:
    screens = _screens(info)
    try:
        await screens.set_preference(info.context.customer(), profile)
    except UnknownProfile as exc:
        raise BadUserInput(str(exc)) from None
    return ExperienceChoice(profile=profile, profiles=screens.profile_ids())
