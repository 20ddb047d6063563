"""Rate limits on bridge calls, per mini-program and per (mini-program, customer), shared by all instances.

GCRA (the generic cell rate algorithm) in one Lua script over one key: a
limit of N per window lets N calls through at once, then one every window/N.
Unlike a fixed window it never lets 2N through across a window boundary, and
it keeps one number per key (the theoretical arrival time, in microseconds),
which expires as soon as it no longer limits anything. A refused call
changes nothing. Time is Redis's own clock unless a clock is given, so BFF
instances with skewed clocks agree.

    bff:rate:app:{<app id>}                                per mini-program
    bff:rate:customer:{<app id>:<member bank>:<customer>}  per (mini-program, customer)

Each call touches one key, so keys may live in any slot; a mini-program's
own key is hot by nature (every call of that app), which is what it limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bff.channels.models import CustomerScope
from bff.store.client import RedisClient
from bff.store.keys import tag

# KEYS: the limit's key. ARGV: emission interval (us), window (us), now (us) or "" for Redis time.
# Returns {allowed (1/0), remaining, retry after (us)}. Times stay below 2^53 us, exact in Lua numbers.
_GCRA: Final = """
local interval, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, math.floor((now + window - new_tat) / interval), 0}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a call may go ahead; if not, how long until one would (seconds)."""

    allowed: bool
    retry_after_s: float
    remaining: int


def app_key(app_id: str) -> str:
    return f"bff:rate:app:{tag(app_id)}"


def customer_key(app_id: str, customer: CustomerScope) -> str:
    return f"bff:rate:customer:{tag(app_id, customer.member_bank, customer.customer_id)}"


class RateLimiter:
    def __init__(self, redis: RedisClient, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock
        self._gcra = redis.register_script(_GCRA)

    async def hit(self, key: str, limit: int, window_s: float) -> Decision:
        """Count one call against `limit` calls per `window_s` seconds under `key`."""
        if limit < 1 or window_s <= 0:
            raise ValueError(f"a rate limit needs limit >= 1 and a positive window, not {limit}/{window_s}s")
        window_us = round(window_s * 1_000_000)
        interval_us = max(1, window_us // limit)
        now = "" if self._clock is None else str(round(self._clock() * 1_000_000))
        allowed, remaining, retry_after_us = await self._gcra(keys=[key], args=[interval_us, window_us, now])
        return Decision(bool(allowed), int(retry_after_us) / 1_000_000, int(remaining))
