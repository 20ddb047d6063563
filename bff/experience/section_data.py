"""What fills each home-screen component, read from the one downstream service it names.

`SectionData.fill` answers a component's `data` as plain JSON-ready dicts
(camelCase, money as decimal strings). Reads go through the request's
DataLoaders, so two sections needing the same service share one call, and a
section whose component needs no service calls nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from bff.channels.bundle import Channels
from bff.channels.models import ContentItem, ContentKind, CustomerScope, Money
from bff.experience.profile import (
    AccountSummaryOptions,
    ComponentType,
    HumanHelpOptions,
    ListOptions,
    LiveStreamOptions,
    OfferButtonOptions,
    SectionOptions,
    TileGridOptions,
    VoiceAssistantOptions,
)
from bff.graphql.loaders import Loaders

# Of the given app ids, the partner mini-programs this customer may open (app id -> name in the language).
AvailableMiniPrograms = Callable[[Sequence[str], str], Awaitable[dict[str, str]]]
Data = dict[str, Any]
T = TypeVar("T")

# Components that read a customer DataLoader, by the `me` field whose load it is (Loaders.prefetch).
_LOADER_FIELDS: Final[dict[ComponentType, str]] = {
    "accountSummary": "accounts",
    "cardsSummary": "cards",
    "wealthSummary": "wealth",
    "messagesInbox": "messageThreads",
}
_CONTENT_KIND: Final[dict[ComponentType, ContentKind]] = {
    "banner": "banner",
    "popup": "banner",
    "shortVideoFeed": "short_video",
    "liveStreamCard": "live_stream",
}


class SectionData:
    def __init__(
        self,
        channels: Channels,
        loaders: Loaders,
        scope: CustomerScope,
        language: str,
        mini_programs: AvailableMiniPrograms | None = None,
    ) -> None:
        self._channels = channels
        self._loaders = loaders
        self._scope = scope
        self._language = language
        self._mini_programs = mini_programs

    def prefetch(self, components: Iterable[ComponentType]) -> None:
        """Start the customer loads these components will read, slowest service first, before any section runs.

        Through the DataLoaders a section's call would start two loop turns after the
        section asks, behind the others; started here they all leave at once.
        """
        fields = {_LOADER_FIELDS[component] for component in components if component in _LOADER_FIELDS}
        if fields:
            self._loaders.prefetch(self._scope, fields)

    async def fill(self, component: ComponentType, options: SectionOptions, needs: frozenset[str]) -> Data:
        """The data of one section; ChannelFailure propagates so the caller can mark it unavailable."""
        match component:
            case "accountSummary":
                return await self._accounts(_as(options, AccountSummaryOptions))
            case "miniProgramGrid":
                return await self._tiles(_as(options, TileGridOptions))
            case "banner" | "popup" | "shortVideoFeed" | "liveStreamCard":
                return await self._content(component, options)
            case "messagesInbox":
                return await self._messages(_as(options, ListOptions))
            case "cardsSummary":
                return await self._cards(_as(options, ListOptions))
            case "loansSummary":
                return await self._loans(_as(options, ListOptions))
            case "wealthSummary":
                wealth = await self._loaders.wealth.load(self._scope)
                return {"total": _money(wealth.total), "asOf": wealth.as_of.isoformat()}
            case "voiceAssistantEntry":
                greeting = _as(options, VoiceAssistantOptions).greeting
                return {"greeting": _text(greeting, self._language)}
            case "humanHelpEntry":
                return await self._help(_as(options, HumanHelpOptions), needs)
            case "offerButton":
                return {"label": _text(_as(options, OfferButtonOptions).label, self._language)}
        return {}

    async def _accounts(self, options: AccountSummaryOptions) -> Data:
        accounts = await self._loaders.accounts.load(self._scope)
        shown = [
            {
                "id": account.account_id,
                "name": account.name,
                "kind": account.kind,
                "maskedNumber": account.masked_number,
                "balance": _money(account.balance) if options.show_balance else None,
            }
            for account in accounts[: options.max_accounts]
        ]
        return {"accounts": shown, "totalAccounts": len(accounts)}

    async def _tiles(self, options: TileGridOptions) -> Data:
        wanted = [tile.id for tile in options.tiles if tile.kind == "miniProgram"]
        available = (
            await self._mini_programs(wanted, self._language) if self._mini_programs and wanted else None
        )
        tiles: list[Data] = []
        for tile in options.tiles:
            if tile.kind == "miniProgram" and available is not None and tile.id not in available:
                continue  # not released to this customer, or suspended
            label = (available or {}).get(tile.id) if tile.kind == "miniProgram" else None
            tiles.append({"kind": tile.kind, "id": tile.id, "large": tile.large, "label": label or tile.id})
        return {"tiles": tiles[: options.max_tiles or None]}

    async def _content(self, component: ComponentType, options: SectionOptions) -> Data:
        first = _as(options, ListOptions).max_items if isinstance(options, ListOptions) else 1
        page = await self._channels.content.feed(self._scope.member_bank, _CONTENT_KIND[component], first)
        data: Data = {"items": [_content_item(item) for item in page.items]}
        if isinstance(options, LiveStreamOptions):
            data["liveSale"] = options.live_sale
        return data

    async def _messages(self, options: ListOptions) -> Data:
        threads = await self._loaders.threads.load(self._scope)
        return {
            "unreadTotal": sum(thread.unread_count for thread in threads),
            "threads": [
                {"id": t.thread_id, "subject": t.subject, "from": t.employee_name, "unread": t.unread_count}
                for t in threads[: options.max_items]
            ],
        }

    async def _cards(self, options: ListOptions) -> Data:
        cards = await self._loaders.cards.load(self._scope)
        return {
            "cards": [
                {"id": c.card_id, "kind": c.kind, "maskedNumber": c.masked_number, "status": c.status}
                for c in cards[: options.max_items]
            ]
        }

    async def _loans(self, options: ListOptions) -> Data:
        page = await self._channels.loans.loans(self._scope, options.max_items, None)
        return {
            "loans": [
                {
                    "id": loan.loan_id,
                    "product": loan.product,
                    "outstanding": _money(loan.outstanding),
                    "nextPaymentDue": loan.next_payment_due.isoformat() if loan.next_payment_due else None,
                }
                for loan in page.items
            ]
        }

    async def _help(self, options: HumanHelpOptions, needs: frozenset[str]) -> Data:
        data: Data = {"mode": options.mode}
        if "messages" in needs:
            threads = await self._loaders.threads.load(self._scope)
            data["unreadMessages"] = sum(thread.unread_count for thread in threads)
        return data


def _as(options: SectionOptions, kind: type[T]) -> T:
    # read_options gives each component its own options type; anything else is a bug here.
    return options if isinstance(options, kind) else kind()


def _money(money: Money) -> Data:
    return {"amount": str(money.amount), "currency": money.currency}


def _content_item(item: ContentItem) -> Data:
    return {
        "id": item.content_id,
        "kind": item.kind,
        "title": item.title,
        "imageUrl": item.image_url,
        "mediaUrl": item.media_url,
        "durationSeconds": item.duration_seconds,
        "liveStatus": item.live_status,
        "linkUrl": item.link_url,
        "marketing": item.is_marketing,
    }


def _text(texts: tuple[tuple[str, str], ...], language: str) -> str | None:
    found = dict(texts)
    return found.get(language) or found.get("zh-CN") or found.get("en") or next(iter(found.values()), None)
