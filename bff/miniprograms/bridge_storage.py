"""Key-value storage a mini-program keeps per customer, small and bounded (the bridge's storage.* APIs).

One hash per (app, customer), under that pair's hash tag, so a write and its
quota check are one script:

    bff:bridge:storage:{<app id>:<member bank>:<customer>}   hash: key -> value

The quota (keys and total bytes of keys and values) is checked in the
script, so two concurrent writes cannot both squeeze under it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient, text
from bff.store.keys import tag

MAX_VALUE_BYTES: Final = 4 * 1024
MAX_KEYS: Final = 64
MAX_TOTAL_BYTES: Final = 64 * 1024
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")

# KEYS: the hash. ARGV: key, value, max keys, max total bytes.
# Returns 'ok', 'keys' or 'bytes' (which quota a new write would break).
_PUT: Final = """
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if not exists and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 'keys' end
local total = 0
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if flat[i] ~= ARGV[1] then total = total + #flat[i] + #flat[i + 1] end
end
if total + #ARGV[1] + #ARGV[2] > tonumber(ARGV[4]) then return 'bytes' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
"""


class StorageErrorCode(enum.StrEnum):
    STORAGE_KEY_INVALID = "STORAGE_KEY_INVALID"
    STORAGE_VALUE_TOO_LARGE = "STORAGE_VALUE_TOO_LARGE"
    STORAGE_QUOTA_KEYS = "STORAGE_QUOTA_KEYS"
    STORAGE_QUOTA_BYTES = "STORAGE_QUOTA_BYTES"


class StorageRefused(Exception):
    def __init__(self, code: StorageErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class StorageQuota:
    max_value_bytes: int = MAX_VALUE_BYTES
    max_keys: int = MAX_KEYS
    max_total_bytes: int = MAX_TOTAL_BYTES


def storage_key(app_id: str, customer: CustomerScope) -> str:
    return f"bff:bridge:storage:{tag(app_id, customer.member_bank, customer.customer_id)}"


class BridgeStorage:
    def __init__(self, redis: RedisClient, quota: StorageQuota | None = None) -> None:
        self._redis = redis
        self._quota = quota or StorageQuota()
        self._put = redis.register_script(_PUT)

    async def get(self, app_id: str, customer: CustomerScope, key: str) -> str | None:
        _require_key(key)
        value = await self._redis.hget(storage_key(app_id, customer), key)
        return None if value is None else text(value)

    async def put(self, app_id: str, customer: CustomerScope, key: str, value: str) -> None:
        """Store `value` under `key`, or StorageRefused naming the limit it breaks."""
        _require_key(key)
        size = len(value.encode())
        if size > self._quota.max_value_bytes:
            raise StorageRefused(
                StorageErrorCode.STORAGE_VALUE_TOO_LARGE,
                f"a stored value is at most {self._quota.max_value_bytes} bytes (UTF-8), not {size}",
            )
        quota = self._quota
        outcome = await self._put(
            keys=[storage_key(app_id, customer)], args=[key, value, quota.max_keys, quota.max_total_bytes]
        )
        if text(outcome) == "keys":
            raise StorageRefused(
                StorageErrorCode.STORAGE_QUOTA_KEYS,
                f"a mini-program keeps at most {quota.max_keys} keys per customer; remove one first",
            )
        if text(outcome) == "bytes":
            raise StorageRefused(
                StorageErrorCode.STORAGE_QUOTA_BYTES,
                f"a mini-program keeps at most {quota.max_total_bytes} bytes per customer; remove some first",
            )

    async def delete(self, app_id: str, customer: CustomerScope, key: str) -> bool:
        """Remove `key`; False when it was not there."""
        _require_key(key)
        return bool(await self._redis.hdel(storage_key(app_id, customer), key))


def _require_key(key: str) -> None:
    if KEY_PATTERN.match(key) is None:
        raise StorageRefused(
            StorageErrorCode.STORAGE_KEY_INVALID,
            "a storage key is 1 to 64 characters of letters, digits, '.', '_' and '-'",
        )
