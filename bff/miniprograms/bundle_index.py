"""Which version a stored bundle belongs to, so the bundle can be served with that manifest's CSP.

    bff:mp:bundle:{<sha256>}    JSON {"app_id", "version"}: the first version that named the bundle

Bundles are content-addressed, so two versions may share one; the first keeps
the entry. Its manifest was reviewed with these very bytes, so its network
domains are a CSP that the bundle was approved to run under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bff.store.client import RedisClient, text
from bff.store.keys import tag


@dataclass(frozen=True)
class BundleOwner:
    app_id: str
    version: str


def bundle_key(sha256: str) -> str:
    return f"bff:mp:bundle:{tag(sha256)}"


class BundleIndex:
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def remember(self, sha256: str, owner: BundleOwner) -> None:
        """Record `owner` for the bundle unless a version already named it."""
        value = json.dumps({"app_id": owner.app_id, "version": owner.version})
        await self._redis.set(bundle_key(sha256), value, nx=True)

    async def owner(self, sha256: str) -> BundleOwner | None:
        stored = await self._redis.get(bundle_key(sha256))
        if stored is None:
            return None
        data = json.loads(text(stored))
        return BundleOwner(str(data["app_id"]), str(data["version"]))
