"""Customers' segmenting attributes kept in process for a few minutes.

Resolving the profile needs the CRM's attributes before any section can be
filled, so without this every home screen waits for two downstream calls one
after the other. Age, region, assets tier and language change rarely; a copy
at most `ttl_s` old decides the segment, and the sections' calls start at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from bff.channels.models import CustomerProfile, CustomerScope

DEFAULT_TTL_S: Final = 300.0
DEFAULT_MAX_ENTRIES: Final = 100_000


class AttributeCache:
    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[CustomerScope, tuple[float, CustomerProfile]] = OrderedDict()

    def get(self, scope: CustomerScope) -> CustomerProfile | None:
        found = self._entries.get(scope)
        if found is None:
            return None
        stored_at, profile = found
        if self._clock() - stored_at > self._ttl_s:
            del self._entries[scope]
            return None
        return profile

    def put(self, scope: CustomerScope, profile: CustomerProfile) -> None:
        self._entries[scope] = (self._clock(), profile)
        self._entries.move_to_end(scope)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
