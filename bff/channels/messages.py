"""Messages adapter: cross-end conversations between a customer and bank employees.

Wire style: JSON, camelCase, offset paging in the Spring Data style
(`page` from 1, `pageSize`, `totalElements`), newest message first; errors
in the Spring Boot shape {"timestamp", "status", "error", "code", "message"}.
Offsets hide behind opaque cursors (bff/channels/paging.py). Sending is not
idempotent (the service has no idempotency key), so `send` is never retried.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import CustomerScope, Message, MessageThread, Page, SenderRole
from bff.channels.paging import cursor_offset, next_offset_cursor

SERVICE = "messages"
MAX_PAGE = 100  # the service's largest page size
_ROLES: dict[str, SenderRole] = {"CUSTOMER": "customer", "EMPLOYEE": "employee"}


class MessagesChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def threads(self, scope: CustomerScope) -> tuple[MessageThread, ...]:
        """The customer's threads, each with its unread count."""
        call = Call("GET", "/msg/v1/threads", "messages.threads", idempotent=True, params=_scope(scope))
        return await self._client.call(SERVICE, call, _decode_threads)

    async def messages(
        self, scope: CustomerScope, thread_id: str, first: int, after: str | None = None
    ) -> Page[Message]:
        """Up to `first` messages (at most 100) of a thread, newest first, after the cursor."""
        size = max(1, min(first, MAX_PAGE))
        offset = cursor_offset(SERVICE, after)
        pages = pages_covering(offset, size)
        rows: list[Message] = []
        total = 0
        for page in pages:
            chunk, total = await self._page(scope, thread_id, page, size)
            rows.extend(chunk)
        start = offset - (pages.start - 1) * size
        items = tuple(rows[start : start + size])
        return Page(items, next_offset_cursor(offset, len(items), total), total)

    async def _page(
        self, scope: CustomerScope, thread_id: str, page: int, size: int
    ) -> tuple[list[Message], int]:
        params = {**_scope(scope), "page": str(page), "pageSize": str(size)}
        path = f"/msg/v1/threads/{quote(thread_id, safe='')}/messages"
        call = Call("GET", path, "messages.list", idempotent=True, params=params)
        return await self._client.call(SERVICE, call, _decode_page)

    async def send(self, scope: CustomerScope, thread_id: str, body: str) -> Message:
        """Post a message from the customer: sent at most once, never retried."""
        call = Call(
            "POST",
            f"/msg/v1/threads/{quote(thread_id, safe='')}/messages",
            "messages.send",
            idempotent=False,
            json={**_scope(scope), "body": body},
        )
        return await self._client.call(SERVICE, call, _decode_message)

    async def mark_read(self, scope: CustomerScope, thread_id: str) -> MessageThread:
        """Mark the whole thread read (repeatable: reading twice changes nothing)."""
        call = Call(
            "POST",
            f"/msg/v1/threads/{quote(thread_id, safe='')}/read",
            "messages.mark_read",
            idempotent=True,
            json=_scope(scope),
        )
        return await self._client.call(SERVICE, call, _decode_thread)


def pages_covering(offset: int, size: int) -> range:
    """The 1-based pages of `size` holding items [offset, offset + size): one, or two if unaligned."""
    return range(offset // size + 1, (offset + size - 1) // size + 2)


def _scope(scope: CustomerScope) -> dict[str, str]:
    return {"customerId": scope.customer_id, "memberBank": scope.member_bank}


def _decode_threads(reply: Reply) -> tuple[MessageThread, ...]:
    _raise_for_error(reply)
    return tuple(thread_from_wire(raw) for raw in reply.json()["threads"])


def _decode_thread(reply: Reply) -> MessageThread:
    _raise_for_error(reply)
    return thread_from_wire(reply.json())


def _decode_page(reply: Reply) -> tuple[list[Message], int]:
    _raise_for_error(reply)
    body = reply.json()
    return [message_from_wire(raw) for raw in body["content"]], int(body["totalElements"])


def _decode_message(reply: Reply) -> Message:
    _raise_for_error(reply)
    return message_from_wire(reply.json())


def _raise_for_error(reply: Reply) -> None:
    if reply.status < 400:
        return
    error = reply.json()
    if not isinstance(error, dict) or "code" not in error:
        raise MalformedBody(f"HTTP {reply.status} without a messages error body")
    code, message = str(error["code"]), str(error.get("message", ""))
    kind = NotFound if reply.status == 404 else ChannelRejected
    raise kind(SERVICE, code, message, status=reply.status)


def thread_from_wire(raw: dict[str, Any]) -> MessageThread:
    employee = raw["employee"]
    last, preview = raw["lastMessageAt"], raw["lastMessagePreview"]
    return MessageThread(
        thread_id=str(raw["threadId"]),
        customer_id=str(raw["customerId"]),
        member_bank=str(raw["memberBank"]),
        subject=str(raw["subject"]),
        employee_id=str(employee["employeeId"]),
        employee_name=str(employee["name"]),
        employee_role=str(employee["role"]).lower(),
        message_count=int(raw["messageCount"]),
        unread_count=int(raw["unreadCount"]),
        last_message_at=None if last is None else datetime.fromisoformat(last),
        last_message_preview=None if preview is None else str(preview),
    )


def message_from_wire(raw: dict[str, Any]) -> Message:
    return Message(
        message_id=str(raw["messageId"]),
        thread_id=str(raw["threadId"]),
        customer_id=str(raw["customerId"]),
        sender_role=_ROLES[raw["senderRole"]],
        sender_id=str(raw["senderId"]),
        body=str(raw["body"]),
        sent_at=datetime.fromisoformat(raw["sentAt"]),
        read=bool(raw["read"]),
    )
