"""Queries and mutations of the mini-program host; the domain work is in bff/miniprograms/host.py."""

from __future__ import annotations

from typing import Any

import strawberry

from bff.graphql.context import RequestContext
from bff.graphql.exceptions import BadUserInput, Forbidden
from bff.graphql.miniprograms.types import (
    ConsentResult,
    DataAccess,
    LaunchResult,
    MiniProgram,
    MiniProgramLaunch,
    MiniProgramRefused,
)
from bff.miniprograms.consent import ConsentError
from bff.miniprograms.host import LaunchRefused, MiniProgramHost

MAX_ACCESS_LOG = 200


def _host(info: strawberry.Info[RequestContext, Any]) -> MiniProgramHost:
    host = info.context.miniprograms
    if host is None:
        raise Forbidden("the mini-program host is not enabled on this server")
    info.context.customer()  # customers only
    return host


async def mini_programs(info: strawberry.Info[RequestContext, Any]) -> list[MiniProgram]:
    offers = await _host(info).offers(info.context.principal)
    return [MiniProgram.of(offer) for offer in offers]


async def mini_program(info: strawberry.Info[RequestContext, Any], app_id: str) -> MiniProgram | None:
    offer = await _host(info).offer(info.context.principal, app_id)
    return MiniProgram.of(offer) if offer else None


async def mini_program_access_log(
    info: strawberry.Info[RequestContext, Any], first: int = 50
) -> list[DataAccess]:
    if not 1 <= first <= MAX_ACCESS_LOG:
        raise BadUserInput(f"`first` must be between 1 and {MAX_ACCESS_LOG}, got {first}")
    entries = await _host(info).access_log(info.context.principal, first)
    return [DataAccess.of(entry) for entry in entries]


async def launch_mini_program(info: strawberry.Info[RequestContext, Any], app_id: str) -> LaunchResult:
    try:
        return MiniProgramLaunch.of(await _host(info).launch(info.context.principal, app_id))
    except LaunchRefused as refused:
        return MiniProgramRefused.of(refused)


async def grant_mini_program_consent(
    info: strawberry.Info[RequestContext, Any], app_id: str, scopes: list[str]
) -> ConsentResult:
    try:
        return MiniProgram.of(await _host(info).grant(info.context.principal, app_id, scopes))
    except LaunchRefused as refused:
        return MiniProgramRefused.of(refused)
    except ConsentError as exc:
        return MiniProgramRefused(code=str(exc.code), message=exc.message, missing_consent=[])


async def revoke_mini_program_consent(
    info: strawberry.Info[RequestContext, Any], app_id: str, scopes: list[str] | None = None
) -> ConsentResult:
    try:
        offer = await _host(info).revoke(info.context.principal, app_id, scopes)
    except LaunchRefused as refused:
        return MiniProgramRefused.of(refused)
    if offer is None:
        return MiniProgramRefused(
            code="MINIPROGRAM_NOT_AVAILABLE",
            message=f"{app_id!r} is not available to you",
            missing_consent=[],
        )
    return MiniProgram.of(offer)
