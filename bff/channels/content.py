"""Content adapter: each member bank's short videos, live streams and banners.

Wire style: JSON, camelCase, no auth; cursor paging as {"data": [...],
"paging": {"nextCursor", "hasMore"}}; errors as {"errorCode", "errorMessage"}.
The service's cursors pass through unchanged as `Page.next_cursor`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import ContentItem, ContentKind, LiveStatus, Page

SERVICE = "content"
MAX_PAGE = 50  # the service's largest page
MAX_BATCH = 100  # the service's largest batch of ids
_KINDS: frozenset[str] = frozenset({"short_video", "live_stream", "banner"})
_LIVE: dict[str | None, LiveStatus | None] = {
    None: None,
    "UPCOMING": "upcoming",
    "LIVE": "live",
    "ENDED": "ended",
}


class ContentChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def feed(
        self, member_bank: str, kind: ContentKind | None, first: int, after: str | None = None
    ) -> Page[ContentItem]:
        """Up to `first` items (at most 50) of a member bank's feed; `kind=None` mixes every kind."""
        params = {"memberBank": member_bank, "limit": str(min(first, MAX_PAGE))}
        if kind is not None:
            params["kind"] = kind
        if after:
            params["cursor"] = after
        call = Call("GET", "/content/v1/feed", "content.feed", idempotent=True, params=params)
        return await self._client.call(SERVICE, call, _decode_feed)

    async def items(self, ids: Iterable[str], member_bank: str | None = None) -> dict[str, ContentItem]:
        """Items by id, for DataLoaders; ids not found (or of another member bank) are absent."""
        unique = list(dict.fromkeys(ids))
        batches = [unique[i : i + MAX_BATCH] for i in range(0, len(unique), MAX_BATCH)]
        found = await asyncio.gather(*(self._batch(batch, member_bank) for batch in batches))
        return {item.content_id: item for part in found for item in part}

    async def _batch(self, ids: Sequence[str], member_bank: str | None) -> list[ContentItem]:
        params = {"ids": ",".join(ids)}
        if member_bank is not None:
            params["memberBank"] = member_bank
        call = Call("GET", "/content/v1/items", "content.items", idempotent=True, params=params)
        return await self._client.call(SERVICE, call, _decode_items)


def _decode_feed(reply: Reply) -> Page[ContentItem]:
    _raise_for_error(reply)
    body = reply.json()
    paging = body["paging"]
    cursor = paging["nextCursor"] if paging["hasMore"] else None
    return Page(tuple(item_from_wire(raw) for raw in body["data"]), cursor)


def _decode_items(reply: Reply) -> list[ContentItem]:
    _raise_for_error(reply)
    return [item_from_wire(raw) for raw in reply.json()["data"]]


def _raise_for_error(reply: Reply) -> None:
    if reply.status < 400:
        return
    error = reply.json()
    if not isinstance(error, dict) or "errorCode" not in error:
        raise MalformedBody(f"HTTP {reply.status} without a content error body")
    code, message = str(error["errorCode"]), str(error.get("errorMessage", ""))
    kind = NotFound if reply.status == 404 else ChannelRejected
    raise kind(SERVICE, code, message, status=reply.status)


def item_from_wire(raw: dict[str, Any]) -> ContentItem:
    kind = raw["kind"]
    if kind not in _KINDS:
        raise MalformedBody(f"unknown content kind {kind!r}")
    return ContentItem(
        content_id=str(raw["id"]),
        kind=cast(ContentKind, kind),
        member_bank=str(raw["memberBank"]),
        title=str(raw["title"]),
        image_url=str(raw["imageUrl"]),
        media_url=_optional_text(raw["mediaUrl"]),
        duration_seconds=_optional_int(raw["durationSeconds"]),
        starts_at=_optional_time(raw["startsAt"]),
        is_marketing=bool(raw["marketing"]),
        ends_at=_optional_time(raw["endsAt"]),
        live_status=_LIVE[raw["liveStatus"]],
        link_url=_optional_text(raw["linkUrl"]),
        tags=tuple(str(tag) for tag in raw["tags"]),
    )


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
