"""`homeScreen` over the real simulators: the profile's sections filled from only the services they name."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bff.auth.principal import Principal, Role
from bff.channels.bundle import Channels
from bff.channels.client import ChannelClient
from bff.channels.models import CustomerProfile
from bff.experience.home_screens import HomeScreens
from bff.experience.loading import ExperienceSet, load_experience_set
from bff.experience.preferences import PreferenceStore
from bff.graphql.context import RequestContext
from bff.graphql.exceptions import BadUserInput
from bff.graphql.schema import build_schema
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db
from tests.support.sim_control import SimControl

DB = 8
HOME = """query($v: String) { homeScreen(appVersion: $v) {
  segment rule profile chosenBy explanation experienceVersion
  presentation { bodySize headlineSize lineSpacing textColor backgroundColor gridColumns autoplay }
  sections { id component renderAs title minAppVersion firstScreen fallbackText data
             unavailable { code service } } } }"""
PREFER = """mutation($p: String) { setExperiencePreference(profile: $p) { profile profiles } }"""
SERVICES = ("core_banking", "cards", "loans", "wealth", "payments", "content", "messages", "crm")


class ShippedExperience:
    """The shipped experience set at version 7: the live store is not what these tests are about."""

    def __init__(self) -> None:
        self.experience = load_experience_set()

    def current(self) -> tuple[int, ExperienceSet]:
        return 7, self.experience


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture
def screens(redis_client: aioredis.Redis, channel_client: ChannelClient) -> HomeScreens:
    return HomeScreens(ShippedExperience(), PreferenceStore(redis_client), Channels.over(channel_client))


@pytest.fixture(scope="module")
def customers() -> dict[str, str]:
    return {}


async def find_customer(client: ChannelClient, wanted: Any) -> str:
    """The first RCB001 customer (of 300) whose CRM profile `wanted` accepts."""
    ids = [f"RCB001-{n:05d}" for n in range(1, 301)]
    profiles: dict[str, CustomerProfile] = await Channels.over(client).crm.profiles("RCB001", ids)
    return next(cid for cid in ids if cid in profiles and wanted(profiles[cid]))


def customer(customer_id: str) -> Principal:
    return Principal(customer_id, "RCB001", frozenset({Role.CUSTOMER}), frozenset(), None, 9e9)


async def run(screens: HomeScreens, client: ChannelClient, who: str, query: str, **variables: Any) -> Any:
    context = RequestContext(customer(who), Channels.over(client), "req-test", None, screens)
    result = await build_schema().execute(query, variable_values=variables, context_value=context)
    return result


async def home(screens: HomeScreens, client: ChannelClient, who: str, version: str | None = "6.0.0") -> Any:
    result = await run(screens, client, who, HOME, v=version)
    assert result.errors is None, result.errors
    return result.data["homeScreen"]


async def elder_and_youth(client: ChannelClient) -> tuple[str, str]:
    elder = await find_customer(client, lambda p: p.age >= 60)
    youth = await find_customer(client, lambda p: 18 <= p.age <= 30 and p.region_type == "urban")
    return elder, youth


def downstream_calls(sim: SimControl) -> Counter[str]:
    stats = sim.stats()
    return Counter({s: sum(stats[f"{s}/{dc}"]["requests"] for dc in ("dc-a", "dc-b")) for s in SERVICES})


async def test_elder_and_youth_get_their_profiles_in_order_with_their_tokens(
    screens: HomeScreens, channel_client: ChannelClient
) -> None:
    elder, youth = await elder_and_youth(channel_client)
    old, young = await home(screens, channel_client, elder), await home(screens, channel_client, youth)
    shipped = load_experience_set()

    assert (old["profile"], old["rule"], old["chosenBy"]) == ("elder", "elder-60-plus", "rule")
    assert [s["id"] for s in old["sections"]] == [s.id for s in shipped.profiles["elder"].sections]
    assert old["presentation"]["bodySize"] >= 18
    assert old["presentation"]["autoplay"] is False
    assert "matched" in old["explanation"][0]
    assert old["experienceVersion"] == 7
    assert young["profile"] == "youth"
    assert [s["id"] for s in young["sections"]] == [s.id for s in shipped.profiles["youth"].sections]
    accounts = old["sections"][0]
    assert accounts["component"] == "accountSummary"
    assert accounts["data"]["accounts"][0]["maskedNumber"].startswith("**** ")
    assert accounts["data"]["accounts"][0]["balance"]["currency"] == "CNY"
    grid = next(s for s in old["sections"] if s["component"] == "miniProgramGrid")
    assert len(grid["data"]["tiles"]) <= 6
    assert all(tile["large"] for tile in grid["data"]["tiles"])


async def test_elder_home_screen_calls_fewer_downstream_services_than_youth(
    screens: HomeScreens, channel_client: ChannelClient, sim_control: SimControl
) -> None:
    elder, youth = await elder_and_youth(channel_client)
    sim_control.reset_stats()
    await home(screens, channel_client, elder)
    elder_calls = downstream_calls(sim_control)
    sim_control.reset_stats()
    await home(screens, channel_client, youth)
    youth_calls = downstream_calls(sim_control)

    # Exactly the services the elder profile's sections name, plus the CRM for the segment.
    assert {s for s, n in elder_calls.items() if n} == {"crm", "core_banking", "messages"}
    assert {s for s, n in youth_calls.items() if n} == {"crm", "core_banking", "content", "cards", "messages"}
    assert elder_calls.total() < youth_calls.total()
    # Two sections need messages; the request's DataLoader makes that one call.
    assert elder_calls["messages"] == 1


async def test_older_app_gets_the_fallback_of_sections_newer_than_it(
    screens: HomeScreens, channel_client: ChannelClient
) -> None:
    _, youth = await elder_and_youth(channel_client)
    await run(screens, channel_client, youth, PREFER, p="youth")
    screen = await home(screens, channel_client, youth, version="5.5.0")
    by_id = {s["id"]: s for s in screen["sections"]}

    assert screen["chosenBy"] == "preference"
    videos = by_id["short-videos"]  # needs 5.8.0; falls back to a banner, filled as one
    assert (videos["component"], videos["renderAs"]) == ("shortVideoFeed", "banner")
    assert {item["kind"] for item in videos["data"]["items"]} == {"banner"}
    assert by_id["cards"]["renderAs"] == "cardsSummary"  # 5.0.0: shown as is
    assert by_id["cards"]["data"]["cards"]


async def test_customer_preference_wins_and_can_be_cleared(
    screens: HomeScreens, channel_client: ChannelClient
) -> None:
    _, youth = await elder_and_youth(channel_client)
    chosen = await run(screens, channel_client, youth, PREFER, p="elder")
    assert chosen.data["setExperiencePreference"]["profile"] == "elder"
    assert "standard" in chosen.data["setExperiencePreference"]["profiles"]
    screen = await home(screens, channel_client, youth)
    assert (screen["profile"], screen["chosenBy"], screen["segment"]) == ("elder", "preference", "youth")

    await run(screens, channel_client, youth, PREFER, p=None)
    assert (await home(screens, channel_client, youth))["profile"] == "youth"

    unknown = await run(screens, channel_client, youth, PREFER, p="grandpa")
    assert unknown.errors is not None
    assert isinstance(unknown.errors[0].original_error, BadUserInput)  # BAD_USER_INPUT on the wire
    assert "choose one of" in unknown.errors[0].message


async def test_a_service_outage_leaves_its_sections_unavailable_and_the_rest_filled(
    screens: HomeScreens, channel_client: ChannelClient, sim_control: SimControl
) -> None:
    _, youth = await elder_and_youth(channel_client)
    sim_control.set_faults("content", "dc-a", down=True)
    sim_control.set_faults("content", "dc-b", down=True)
    try:
        screen = await home(screens, channel_client, youth)
    finally:
        sim_control.clear_faults()
    by_id = {s["id"]: s for s in screen["sections"]}
    assert by_id["short-videos"]["data"] is None
    assert by_id["short-videos"]["unavailable"] == {"code": "DOWNSTREAM_UNAVAILABLE", "service": "content"}
    assert by_id["cards"]["data"]["cards"]


async def test_a_bad_app_version_is_refused_with_what_to_send(
    screens: HomeScreens, channel_client: ChannelClient
) -> None:
    result = await run(screens, channel_client, "RCB001-00042", HOME, v="five")
    assert result.errors is not None
    assert isinstance(result.errors[0].original_error, BadUserInput)
    assert "5.8.0" in result.errors[0].message


async def test_a_preference_set_after_a_visit_wins_over_the_screen_started_before_reading_it(
    screens: HomeScreens, channel_client: ChannelClient
) -> None:
    # The second visit knows the customer's attributes, so it starts the rules' screen before the
    # preference arrives; the preference must still decide what is shown.
    _, youth = await elder_and_youth(channel_client)
    first = await home(screens, channel_client, youth)
    assert (first["profile"], first["chosenBy"]) == ("youth", "rule")
    await run(screens, channel_client, youth, PREFER, p="elder")
    again = await home(screens, channel_client, youth)
    assert (again["profile"], again["chosenBy"], again["segment"]) == ("elder", "preference", "youth")
    assert [s["id"] for s in again["sections"]] != [s["id"] for s in first["sections"]]
    await run(screens, channel_client, youth, PREFER, p=None)
    back = await home(screens, channel_client, youth)
    assert (back["profile"], back["chosenBy"]) == ("youth", "rule")


async def test_sections_shown_as_fallback_text_call_no_service(
    screens: HomeScreens, channel_client: ChannelClient, sim_control: SimControl
) -> None:
    # Every elder section needs app 5.0.0 or newer and falls back to text: on 4.9.0 no section
    # data is read, so the loads started before the sections run must leave them out too.
    elder, _ = await elder_and_youth(channel_client)
    await home(screens, channel_client, elder)  # the CRM's answer is now cached
    sim_control.reset_stats()
    screen = await home(screens, channel_client, elder, version="4.9.0")
    assert {s["renderAs"] for s in screen["sections"]} == {"text"}
    assert {s for s, n in downstream_calls(sim_control).items() if n} == set()
