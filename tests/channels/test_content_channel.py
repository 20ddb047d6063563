"""The content adapter through the real channel client and simulators."""

from __future__ import annotations

import pytest

from bff.channels.client import ChannelClient
from bff.channels.content import ContentChannel
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import ContentItem


async def test_feed_pages_are_domain_items_of_the_member_bank(channel_client: ChannelClient) -> None:
    page = await ContentChannel(channel_client).feed("RCB001", "short_video", first=10)
    assert len(page.items) == 10
    assert page.next_cursor is not None
    assert all(isinstance(item, ContentItem) for item in page.items)
    assert {(item.kind, item.member_bank) for item in page.items} == {("short_video", "RCB001")}
    assert all(item.duration_seconds and item.starts_at is None for item in page.items)


async def test_following_cursors_reads_the_feed_once_to_the_end(channel_client: ChannelClient) -> None:
    channel = ContentChannel(channel_client)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await channel.feed("RCB002", "short_video", first=20, after=cursor)
        seen += [item.content_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 48


async def test_live_streams_carry_times_and_one_is_live(channel_client: ChannelClient) -> None:
    page = await ContentChannel(channel_client).feed("RCB003", "live_stream", first=50)
    assert "live" in {item.live_status for item in page.items}
    for item in page.items:
        assert item.starts_at is not None
        assert item.ends_at is not None
        assert item.starts_at < item.ends_at


async def test_mixed_feed_has_banners_with_links_and_no_media(channel_client: ChannelClient) -> None:
    page = await ContentChannel(channel_client).feed("RCB001", None, first=6)
    assert {item.kind for item in page.items} == {"banner"}
    assert all(item.link_url and item.media_url is None for item in page.items)


async def test_items_batch_returns_found_ids_only(channel_client: ChannelClient) -> None:
    ids = ["RCB001-SV-0001", "RCB002-LS-0001", "RCB001-SV-0999", "RCB001-SV-0001"]
    found = await ContentChannel(channel_client).items(ids)
    assert set(found) == {"RCB001-SV-0001", "RCB002-LS-0001"}
    assert found["RCB002-LS-0001"].kind == "live_stream"


async def test_items_batch_larger_than_the_service_limit_is_split(channel_client: ChannelClient) -> None:
    ids = [f"RCB00{bank}-SV-{n:04d}" for bank in (1, 2, 3) for n in range(1, 49)]
    found = await ContentChannel(channel_client).items(ids)
    assert len(found) == 144


async def test_items_scoped_to_a_member_bank_leave_out_other_banks(channel_client: ChannelClient) -> None:
    found = await ContentChannel(channel_client).items(["RCB001-BN-0001", "RCB002-BN-0001"], "RCB002")
    assert set(found) == {"RCB002-BN-0001"}


async def test_cursor_of_another_feed_is_rejected(channel_client: ChannelClient) -> None:
    channel = ContentChannel(channel_client)
    cursor = (await channel.feed("RCB001", "banner", first=2)).next_cursor
    with pytest.raises(ChannelRejected) as refused:
        await channel.feed("RCB001", "short_video", first=2, after=cursor)
    assert refused.value.code == "INVALID_CURSOR"


async def test_unknown_member_bank_is_not_found(channel_client: ChannelClient) -> None:
    with pytest.raises(NotFound) as missing:
        await ContentChannel(channel_client).feed("RCB404", None, first=5)
    assert missing.value.code == "MEMBER_BANK_NOT_FOUND"
