"""Per-request DataLoaders: one downstream call per service per batchable key set.

A screen asks for the customer's accounts, cards or profile from many places
in one query; each loader turns those into a single downstream call, and the
per-request cache makes a repeated ask free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from bff.channels.bundle import Channels
from bff.channels.models import (
    Account,
    Card,
    ContentItem,
    CustomerProfile,
    CustomerScope,
    MessageThread,
    WealthSummary,
)

Fetch = Callable[[CustomerScope], Awaitable[Any]]
K = TypeVar("K")
V = TypeVar("V")


def _per_key(fetch: Callable[[K], Awaitable[V]]) -> Callable[[list[K]], Awaitable[list[V | BaseException]]]:
    """A batch function for sources that answer one key per call (a customer's own lists)."""

    async def load(keys: list[K]) -> list[V | BaseException]:
        return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))

    return load


class Loaders:
    def __init__(self, channels: Channels) -> None:
        self._client = channels.client
        self._channels = channels
        self.profile: DataLoader[CustomerScope, CustomerProfile] = DataLoader(_per_key(channels.crm.profile))
        self.accounts: DataLoader[CustomerScope, list[Account]] = DataLoader(
            _per_key(channels.core_banking.accounts)
        )
        self.cards: DataLoader[CustomerScope, list[Card]] = DataLoader(_per_key(channels.cards.cards))
        self.wealth: DataLoader[CustomerScope, WealthSummary] = DataLoader(_per_key(channels.wealth.summary))
        self.threads: DataLoader[CustomerScope, tuple[MessageThread, ...]] = DataLoader(
            _per_key(channels.messages.threads)
        )
        self.content_items: DataLoader[tuple[str, str], ContentItem | None] = DataLoader(
            self._content_batch(channels)
        )

    def prefetch(self, scope: CustomerScope, fields: set[str]) -> None:
        """Start the customer loads these `me` fields will need, slowest service first.

        A request waits for its slowest downstream call; issuing calls one after
        another costs a few hundred microseconds each, so the slow one goes first.
        """
        wanted = [source for field, source in self._by_field().items() if field in fields]
        wanted.sort(key=lambda source: self._client.latency_estimate(source[0]), reverse=True)
        for _, loader, fetch in wanted:
            if loader.cache_map.get(scope) is None:
                # A task starts on the next loop turn; DataLoader's own dispatch takes two.
                task = asyncio.ensure_future(fetch(scope))
                task.add_done_callback(_retrieve)
                loader.cache_map.set(scope, task)

    def _by_field(self) -> dict[str, tuple[str, DataLoader[CustomerScope, Any], Fetch]]:
        channels = self._channels
        return {
            "profile": ("crm", self.profile, channels.crm.profile),
            "accounts": ("core_banking", self.accounts, channels.core_banking.accounts),
            "cards": ("cards", self.cards, channels.cards.cards),
            "wealth": ("wealth", self.wealth, channels.wealth.summary),
            "messageThreads": ("messages", self.threads, channels.messages.threads),
            "unreadMessageCount": ("messages", self.threads, channels.messages.threads),
        }

    @staticmethod
    def _content_batch(
        channels: Channels,
    ) -> Callable[[list[tuple[str, str]]], Awaitable[list[ContentItem | None]]]:
        async def load(keys: list[tuple[str, str]]) -> list[ContentItem | None]:
            by_bank: dict[str, list[str]] = {}
            for bank, content_id in keys:
                by_bank.setdefault(bank, []).append(content_id)
            found = await asyncio.gather(
                *(channels.content.items(ids, bank) for bank, ids in by_bank.items())
            )
            merged = {
                (bank, cid): item
                for bank, part in zip(by_bank, found, strict=True)
                for cid, item in part.items()
            }
            return [merged.get(key) for key in keys]

        return load


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A prefetched load whose field is skipped must not log 'exception never retrieved'."""
    if not task.cancelled():
        task.exception()


def first_or_none(items: Sequence[V], match: Callable[[V], bool]) -> V | None:
    return next((item for item in items if match(item)), None)
