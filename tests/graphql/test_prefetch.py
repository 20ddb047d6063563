"""Loads under `me` start before execution, slowest first, and only for selected fields."""

from __future__ import annotations

from typing import Any

from graphql import parse

from bff.auth.principal import Principal, Role
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.graphql.context import RequestContext
from bff.graphql.engine import GraphQLEngine, root_selections
from bff.graphql.schema import build_schema
from tests.support.sim_control import SimControl

CUSTOMER = Principal("RCB001-00042", "RCB001", frozenset({Role.CUSTOMER}), frozenset(), None, 9e9)


def test_root_selections_follow_inline_fragments_and_spreads() -> None:
    document = parse(
        "query { me { id ... on Customer { cards { id } } ...W } contentFeed { totalCount } }"
        "fragment W on Customer { wealth { total { amount } } profile { name } }"
    )
    operation = document.definitions[0]
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    roots = root_selections(operation.selection_set, fragments)  # type: ignore[attr-defined]
    assert roots == {
        "me": frozenset({"id", "cards", "wealth", "profile"}),
        "contentFeed": frozenset({"totalCount"}),
    }


async def calls_for(query: str, client: ChannelClient, sim_control: SimControl) -> dict[str, int]:
    engine = GraphQLEngine(build_schema())
    prepared = engine.prepare(query)
    operation = engine.plan(prepared, None, {})
    sim_control.reset_stats()
    result = await engine.execute(
        prepared, operation, None, RequestContext(CUSTOMER, Channels.over(client), "t")
    )
    assert result.errors is None
    stats: dict[str, Any] = sim_control.stats()
    counts: dict[str, int] = {}
    for key, value in stats.items():
        if "/" in key:
            service = key.split("/")[0]
            counts[service] = counts.get(service, 0) + int(value["requests"])
    return {service: n for service, n in counts.items() if n}


async def test_only_selected_services_are_called(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    assert await calls_for("{ me { profile { name } } }", channel_client, sim_control) == {"crm": 1}


async def test_prefetched_and_resolved_loads_share_one_call(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    query = (
        "{ me { ...W unreadMessageCount messageThreads { id } a: wealth { asOf } } }"
        "fragment W on Customer { wealth { total { amount } } }"
    )
    assert await calls_for(query, channel_client, sim_control) == {"wealth": 1, "messages": 1}
