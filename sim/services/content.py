"""Content: each member bank's short videos, live streams and banners.

Wire style: JSON, camelCase, no auth; lists as {"data": [...], "paging":
{"nextCursor", "hasMore"}} with opaque cursors; errors as {"errorCode",
"errorMessage"}. The catalogue is derived from the seed, so both data centres
(and any restart) serve the same items; only live-stream times move with the
wall clock, anchored to the current hour, so that some stream is always live.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from aiohttp import web

from sim.accounts import Accounts
from sim.ledger import Ledger
from sim.population import Population, rng_for

KINDS = ("banner", "live_stream", "short_video")  # the order of the mixed feed
_CODES = {"short_video": "SV", "live_stream": "LS", "banner": "BN"}
_COUNTS = {"short_video": 48, "live_stream": 10, "banner": 6}
_MARKETING_SHARE = {"short_video": 0.25, "live_stream": 0.4, "banner": 0.8}
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_BATCH = 100
CDN = "https://cdn.rcb-group.example"

_TOPICS = (
    ("Spot a phone scam in 60 seconds", ("fraud-prevention",)),
    ("Paying your electricity bill in the app", ("bill-payment",)),
    ("What a fixed deposit earns you", ("savings",)),
    ("Applying for a spring planting loan", ("farming", "loans")),
    ("Sending money to family safely", ("transfers",)),
    ("Reading your card statement", ("cards",)),
    ("Elder mode: bigger text, fewer taps", ("accessibility",)),
    ("Crop insurance explained", ("farming", "insurance")),
    ("Your first wealth fund", ("wealth",)),
    ("Setting a transfer limit", ("security",)),
    ("Market prices for tea this week", ("farming", "market")),
    ("Face ID login on your phone", ("security",)),
)
_SHOWS = (
    "Morning market briefing",
    "Ask the loan officer",
    "Harvest season savings special",
    "Rural e-commerce live",
    "Pension and health insurance Q&A",
    "Anti-fraud live clinic",
)
_CAMPAIGNS = (
    "New customer gift: 3.2% savings rate",
    "Pay utilities, win a rice cooker",
    "Agricultural loans from 3.45% a year",
    "Credit card cashback on groceries",
    "Invite a friend, both earn points",
    "Branch open on Saturdays this month",
)


@dataclass(frozen=True, slots=True)
class Item:
    """One catalogue entry; live-stream times are minutes from the current hour."""

    item_id: str
    kind: str
    member_bank: str
    title: str
    tags: tuple[str, ...]
    marketing: bool
    duration_seconds: int | None = None
    start_offset_min: int | None = None
    length_min: int | None = None


class ContentError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ContentService:
    name = "content"
    required_scope: str | None = None

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.catalogue = lru_cache(maxsize=64)(self._catalogue)

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"errorCode": code, "errorMessage": message}, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/content/v1/feed", self.get_feed)
        app.router.add_get("/content/v1/items", self.get_items)

    def _catalogue(self, member_bank: str, kind: str) -> tuple[Item, ...]:
        return tuple(
            _make_item(self.population.seed, member_bank, kind, n) for n in range(1, _COUNTS[kind] + 1)
        )

    def feed(self, member_bank: str, kind: str | None) -> tuple[Item, ...]:
        kinds = KINDS if kind is None else (kind,)
        return tuple(item for k in kinds for item in self.catalogue(member_bank, k))

    def find(self, item_id: str) -> Item | None:
        bank, _, rest = item_id.partition("-")
        code, _, number = rest.partition("-")
        kind = next((k for k, c in _CODES.items() if c == code), None)
        if bank not in self.population.banks or kind is None or not number.isdigit():
            return None
        items = self.catalogue(bank, kind)
        index = int(number) - 1
        return items[index] if 0 <= index < len(items) and items[index].item_id == item_id else None

    async def get_feed(self, request: web.Request) -> web.Response:
        try:
            bank, kind, limit = self._feed_query(request)
            offset = _read_cursor(request.query.get("cursor"), bank, kind)
        except ContentError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        items = self.feed(bank, kind)
        page = items[offset : offset + limit]
        end = offset + len(page)
        more = end < len(items)
        now = datetime.now(UTC)
        return web.json_response(
            {
                "data": [_wire(item, now) for item in page],
                "paging": {"nextCursor": _cursor(bank, kind, end) if more else None, "hasMore": more},
            }
        )

    def _feed_query(self, request: web.Request) -> tuple[str, str | None, int]:
        bank = request.query.get("memberBank", "")
        if not bank:
            raise ContentError(400, "MEMBER_BANK_REQUIRED", "memberBank is required")
        if bank not in self.population.banks:
            raise ContentError(404, "MEMBER_BANK_NOT_FOUND", f"no member bank {bank!r}")
        kind = request.query.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise ContentError(400, "INVALID_KIND", f"kind must be one of {', '.join(KINDS)}")
        raw_limit = request.query.get("limit", str(DEFAULT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise ContentError(400, "INVALID_LIMIT", f"limit must be 1 to {MAX_LIMIT}")
        return bank, kind, int(raw_limit)

    async def get_items(self, request: web.Request) -> web.Response:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return self.error_response(400, "IDS_REQUIRED", "ids is a comma-separated list of item ids")
        if len(ids) > MAX_BATCH:
            return self.error_response(400, "BATCH_TOO_LARGE", f"at most {MAX_BATCH} ids")
        bank = request.query.get("memberBank") or None
        now = datetime.now(UTC)
        found, missing = [], []
        for item_id in dict.fromkeys(ids):
            item = self.find(item_id)
            if item is None or (bank is not None and item.member_bank != bank):
                missing.append(item_id)
            else:
                found.append(_wire(item, now))
        return web.json_response({"data": found, "notFound": missing})


def _make_item(seed: int, member_bank: str, kind: str, n: int) -> Item:
    rng = rng_for(seed, "content", member_bank, kind, n)
    item_id = f"{member_bank}-{_CODES[kind]}-{n:04d}"
    marketing = rng.random() < _MARKETING_SHARE[kind]
    if kind == "short_video":
        title, tags = rng.choice(_TOPICS)
        return Item(item_id, kind, member_bank, title, tags, marketing, duration_seconds=rng.randint(15, 180))
    if kind == "banner":
        return Item(item_id, kind, member_bank, rng.choice(_CAMPAIGNS), ("promotion",), marketing)
    # Stream 1 started half an hour before the current hour and runs two
    # hours, so it is live whenever you look; the rest are spread over three days.
    offset = -30 if n == 1 else (n - 2) * 420 + rng.randint(-60, 300)
    length = 120 if n == 1 else rng.choice((45, 60, 90))
    title = f"{rng.choice(_SHOWS)} #{n}"
    return Item(
        item_id, kind, member_bank, title, ("live",), marketing, start_offset_min=offset, length_min=length
    )


def _wire(item: Item, now: datetime) -> dict[str, Any]:
    path = f"{CDN}/{item.member_bank}/{item.kind}/{item.item_id}"
    starts, ends = _schedule(item, now)
    return {
        "id": item.item_id,
        "kind": item.kind,
        "memberBank": item.member_bank,
        "title": item.title,
        "tags": list(item.tags),
        "imageUrl": f"{path}.jpg",
        "mediaUrl": None if item.kind == "banner" else f"{path}.m3u8",
        "linkUrl": f"https://app.rcb-group.example/campaign/{item.item_id}"
        if item.kind == "banner"
        else None,
        "durationSeconds": item.duration_seconds,
        "startsAt": _iso(starts),
        "endsAt": _iso(ends),
        "liveStatus": _live_status(starts, ends, now),
        "marketing": item.marketing,
    }


def _schedule(item: Item, now: datetime) -> tuple[datetime | None, datetime | None]:
    if item.start_offset_min is None or item.length_min is None:
        return None, None
    hour = now.replace(minute=0, second=0, microsecond=0)
    starts = hour + timedelta(minutes=item.start_offset_min)
    return starts, starts + timedelta(minutes=item.length_min)


def _live_status(starts: datetime | None, ends: datetime | None, now: datetime) -> str | None:
    if starts is None or ends is None:
        return None
    if now < starts:
        return "UPCOMING"
    return "LIVE" if now < ends else "ENDED"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _cursor(bank: str, kind: str | None, offset: int) -> str:
    raw = f"{bank}|{kind or '*'}|{offset}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str | None, bank: str, kind: str | None) -> int:
    """The offset a cursor points at; a cursor from another feed is refused."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ContentError(400, "INVALID_CURSOR", "cursor is not one this feed issued") from exc
    c_bank, _, rest = raw.partition("|")
    c_kind, _, offset = rest.partition("|")
    if (c_bank, c_kind) != (bank, kind or "*") or not offset.isdigit():
        raise ContentError(400, "INVALID_CURSOR", "cursor is not one this feed issued")
    return int(offset)
