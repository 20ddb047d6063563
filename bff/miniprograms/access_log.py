"""The customer-visible access log: which mini-program read which kind of data, through which API, when.

One capped stream per customer, under the customer's hash tag (the slot of
their consents):

    bff:access:{<member bank>:<customer>}   stream: app_id, scope, api, at

The stream is trimmed to about `max_entries` on every append (XADD MAXLEN ~,
which trims whole internal nodes, so it may hold up to about a hundred more)
and expires `retention_s` after the last access, so a customer who stops
using mini-programs costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from redis.typing import EncodableT, FieldT

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient, text
from bff.store.keys import tag

MAX_ENTRIES: Final = 1000
RETENTION_S: Final = 180 * 24 * 3600
MAX_READ: Final = 500


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access: `scope` is the kind of data read (a consent scope), `api` the bridge API called."""

    entry_id: str
    app_id: str
    scope: str
    api: str
    at: float


def access_key(customer: CustomerScope) -> str:
    return f"bff:access:{tag(customer.member_bank, customer.customer_id)}"


class AccessLog:
    def __init__(
        self,
        redis: RedisClient,
        clock: Callable[[], float] = time.time,
        max_entries: int = MAX_ENTRIES,
        retention_s: int = RETENTION_S,
    ) -> None:
        self._redis = redis
        self._clock = clock
        self._max_entries = max_entries
        self._retention_s = retention_s

    async def record(
        self, customer: CustomerScope, app_id: str, scope: str, api: str, at: float | None = None
    ) -> str:
        """Append one access (at now unless given); returns the entry id."""
        key = access_key(customer)
        when = self._clock() if at is None else at
        fields: dict[FieldT, EncodableT] = {
            "app_id": app_id,
            "scope": scope,
            "api": api,
            "at": repr(when),
        }
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, fields, maxlen=self._max_entries, approximate=True)
            pipe.expire(key, self._retention_s)
            entry_id, _ = await pipe.execute()
        return text(entry_id)

    async def read(
        self, customer: CustomerScope, since: float | None = None, limit: int = 50
    ) -> list[AccessEntry]:
        """The newest `limit` accesses (at most 500), newest first; only those at or after `since` if given."""
        count = max(0, min(limit, MAX_READ))
        if count == 0:
            return []
        replies = await self._redis.xrevrange(access_key(customer), count=count) or []
        entries = [_entry(entry_id, fields) for entry_id, fields in replies if entry_id and fields]
        # Stream order is arrival at Redis; `at` is the caller's clock, so filter rather than stop early.
        return [entry for entry in entries if since is None or entry.at >= since]


def _entry(entry_id: bytes | str, raw: dict[bytes | str, bytes | str]) -> AccessEntry:
    fields = {text(key): text(value) for key, value in raw.items()}
    return AccessEntry(
        entry_id=text(entry_id),
        app_id=fields["app_id"],
        scope=fields["scope"],
        api=fields["api"],
        at=float(fields["at"]),
    )
