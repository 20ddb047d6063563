"""The messages adapter through the real channel client and simulators."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bff.channels.call import Call, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelFailure, ChannelRejected, FailureReason, NotFound
from bff.channels.messages import MessagesChannel
from bff.channels.models import CustomerScope, MessageThread
from tests.support.sim_control import SimControl


async def created(client: ChannelClient) -> int:
    def count(reply: Reply) -> int:
        return int(reply.json()["messagesCreated"])

    return await client.call("messages", Call("GET", "/msg/v1/stats", "messages.stats", True), count)


async def a_thread(
    channel: MessagesChannel, start: int, accept: Callable[[MessageThread], bool] = lambda t: True
) -> MessageThread:
    """The first thread `accept` likes, of RCB003 customers from `start` on."""
    for number in range(start, start + 200):
        for thread in await channel.threads(CustomerScope(f"RCB003-{number:05d}", "RCB003")):
            if accept(thread):
                return thread
    raise AssertionError("no such thread among 200 customers")


def scope_of(thread: MessageThread) -> CustomerScope:
    return CustomerScope(thread.customer_id, thread.member_bank)


async def test_threads_are_domain_threads_of_the_customer(channel_client: ChannelClient) -> None:
    thread = await a_thread(MessagesChannel(channel_client), 1000)
    assert thread.thread_id.startswith(thread.customer_id)
    assert thread.employee_role in {"loan_officer", "remote_teller", "relationship_manager", "service_agent"}
    assert thread.last_message_at is not None


async def test_cursors_page_through_messages_newest_first(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 1200, lambda t: t.message_count >= 12)
    everything = await channel.messages(scope_of(thread), thread.thread_id, first=100)
    assert everything.total == thread.message_count
    assert everything.next_cursor is None
    first = await channel.messages(scope_of(thread), thread.thread_id, first=5)
    # A different page size after the cursor: the window straddles two service pages.
    second = await channel.messages(scope_of(thread), thread.thread_id, first=3, after=first.next_cursor)
    assert first.items + second.items == everything.items[:8]
    times = [m.sent_at for m in everything.items]
    assert times == sorted(times, reverse=True)


async def test_send_returns_the_message_and_creates_exactly_one(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 1400)
    before = await created(channel_client)
    message = await channel.send(scope_of(thread), thread.thread_id, "See you on Friday")
    assert (message.sender_role, message.body, message.read) == ("customer", "See you on Friday", True)
    assert await created(channel_client) == before + 1
    newest = await channel.messages(scope_of(thread), thread.thread_id, first=1)
    assert newest.items == (message,)


async def test_send_is_not_retried_when_the_answer_is_garbled(
    channel_client: ChannelClient, sim_control: SimControl
) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 1600)
    before = await created(channel_client)
    for dc in ("dc-a", "dc-b"):
        sim_control.set_faults("messages", dc, malformed_rate=1.0)
    with pytest.raises(ChannelFailure) as failed:
        await channel.send(scope_of(thread), thread.thread_id, "only once")
    sim_control.clear_faults()
    assert failed.value.reason is FailureReason.MALFORMED
    assert await created(channel_client) == before + 1


async def test_mark_read_clears_the_unread_count(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 1800, lambda t: t.unread_count > 0)
    updated = await channel.mark_read(scope_of(thread), thread.thread_id)
    assert (updated.thread_id, updated.unread_count) == (thread.thread_id, 0)


async def test_thread_of_another_customer_is_not_found(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 2000)
    stranger = CustomerScope("RCB003-09999", "RCB003")
    with pytest.raises(NotFound) as missing:
        await channel.messages(stranger, thread.thread_id, first=5)
    assert missing.value.code == "THREAD_NOT_FOUND"
    with pytest.raises(NotFound):
        await channel.send(stranger, thread.thread_id, "hello")


async def test_empty_message_is_rejected_with_its_code(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 2200)
    with pytest.raises(ChannelRejected) as refused:
        await channel.send(scope_of(thread), thread.thread_id, "   ")
    assert (refused.value.code, refused.value.status) == ("INVALID_BODY", 400)


async def test_foreign_cursor_is_rejected(channel_client: ChannelClient) -> None:
    channel = MessagesChannel(channel_client)
    thread = await a_thread(channel, 2400)
    with pytest.raises(ChannelRejected) as refused:
        await channel.messages(scope_of(thread), thread.thread_id, first=5, after="not-a-cursor")
    assert refused.value.code == "INVALID_CURSOR"
