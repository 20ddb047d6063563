"""The CRM adapter through the real channel client and simulators."""

from __future__ import annotations

from datetime import date

import pytest

from bff.channels.client import ChannelClient
from bff.channels.crm import CrmChannel
from bff.channels.errors import NotFound
from bff.channels.models import CustomerScope
from tests.support.sim_control import SimControl


async def test_profile_is_a_domain_profile_with_lower_case_attributes(channel_client: ChannelClient) -> None:
    profile = await CrmChannel(channel_client).profile(CustomerScope("RCB003-00123", "RCB003"))
    assert (profile.customer_id, profile.member_bank) == ("RCB003-00123", "RCB003")
    assert profile.region_type in {"urban", "rural"}
    assert profile.assets_tier in {"mass", "affluent", "private"}
    assert isinstance(profile.customer_since, date)


async def test_profile_in_another_member_bank_is_not_found(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await CrmChannel(channel_client).profile(CustomerScope("RCB003-00123", "RCB001"))
    assert (missing.value.code, missing.value.service) == ("CUSTOMER_NOT_FOUND", "crm")


async def test_profiles_batch_splits_large_requests_and_leaves_out_strangers(
    channel_client: ChannelClient,
) -> None:
    ids = [f"RCB001-{n:05d}" for n in range(1, 151)] + ["RCB002-00001", "RCB001-99999"]
    found = await CrmChannel(channel_client).profiles("RCB001", ids)
    assert set(found) == {f"RCB001-{n:05d}" for n in range(1, 151)}
    assert found["RCB001-00042"] == await CrmChannel(channel_client).profile(
        CustomerScope("RCB001-00042", "RCB001")
    )


async def test_profiles_of_no_ids_make_no_call(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    before = sim_control.requests("crm", "dc-a") + sim_control.requests("crm", "dc-b")
    assert await CrmChannel(channel_client).profiles("RCB001", []) == {}
    assert sim_control.requests("crm", "dc-a") + sim_control.requests("crm", "dc-b") == before
