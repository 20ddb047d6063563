"""A customer's own experience choice ("switch me to elder mode"), which wins over the segment rules."""

from __future__ import annotations

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient, text
from bff.store.keys import tag


def preference_key(customer: CustomerScope) -> str:
    return f"bff:xp:pref:{tag(customer.member_bank, customer.customer_id)}"


class PreferenceStore:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def get(self, customer: CustomerScope) -> str | None:
        found = await self._redis.get(preference_key(customer))
        return text(found) if found is not None else None

    async def set(self, customer: CustomerScope, profile_id: str | None) -> None:
        """Remember the customer's profile (None: back to what the segment rules give)."""
        if profile_id is None:
            await self._redis.delete(preference_key(customer))
        else:
            await self._redis.set(preference_key(customer), profile_id)
