"""Entries posted at run time (transfers), on top of the seeded history.

Shared by the payments simulator (which posts) and core banking (which shows
balances and transactions), in one process, like one replicated database
behind both data centres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PostedEntry:
    entry_id: str
    account_id: str
    amount_fen: int  # negative for a debit
    description: str
    counterparty: str | None
    booked_at: datetime


class Ledger:
    def __init__(self) -> None:
        self._entries: dict[str, list[PostedEntry]] = {}

    def post(self, entry: PostedEntry) -> None:
        self._entries.setdefault(entry.account_id, []).append(entry)

    def entries(self, account_id: str) -> list[PostedEntry]:
        """Posted entries of an account, newest first."""
        return list(reversed(self._entries.get(account_id, [])))

    def delta_fen(self, account_id: str) -> int:
        return sum(e.amount_fen for e in self._entries.get(account_id, []))
