"""Per-request DataLoaders: one downstream call per service per batchable key set.

A screen asks for the customer's accounts, cards or profile from many places
in one query; each loader turns those into a single downstream call, and the
per-request cache makes a repeated ask free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

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

K = TypeVar("K")
V = TypeVar("V")


def _per_key(fetch: Callable[[K], Awaitable[V]]) -> Callable[[list[K]], Awaitable[list[V | BaseException]]]:
    """A batch function for sources that answer one key per call (a customer's own lists)."""

    async def load(keys: list[K]) -> list[V | BaseException]:
        return list(await asyncio.gather(*(fetch(key) for key in keys), return_exceptions=True))

    return load


class Loaders:
    def __init__(self, channels: Channels) -> None:
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


def first_or_none(items: Sequence[V], match: Callable[[V], bool]) -> V | None:
    return next((item for item in items if match(item)), None)
