"""Handoff codes: a journey carried to another channel (a teller at a branch, the customer's other device).

A code is 9 characters from a 31-letter alphabet without look-alikes (no 0/O,
1/I/L): 44.6 bits, so with 10,000 live codes a guesser needs about 2.6 billion
tries per hit, and failed tries are rate limited per redeemer. A code is bound
to one journey, one target channel and one member bank, lives a few minutes,
and is redeemed at most once: the check and the delete are one script.

    bff:ho:{<code>}                 hash: journey, channel, member_bank, created_by, expires_at
    bff:ho-fail:{<redeemer>}        counter of failed redemptions in the current window
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from bff.journeys.actors import Channel
from bff.journeys.errors import JourneyError, JourneyStoreUnavailable
from bff.store.client import RedisClient, text
from bff.store.keys import tag

ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 letters: 0 O 1 I L left out
CODE_LENGTH: Final = 9  # 31**9 is about 2**44.6
DEFAULT_TTL_S: Final = 300
MAX_FAILURES: Final = 10
FAILURE_WINDOW_S: Final = 600

# KEYS: code hash. ARGV: channel, member bank. Returns {journey, created_by} or an error word.
_REDEEM: Final = """
local found = redis.call('HMGET', KEYS[1], 'journey', 'channel', 'member_bank', 'created_by')
if not found[1] then return {'missing'} end
if found[2] ~= ARGV[1] then return {'channel', found[2]} end
if found[3] ~= ARGV[2] then return {'bank'} end
redis.call('DEL', KEYS[1])
return {'ok', found[1], found[4]}
"""


class HandoffRefused(JourneyError):
    code = "HANDOFF_INVALID"


class HandoffRateLimited(JourneyError):
    code = "HANDOFF_RATE_LIMITED"

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed handoff codes; try again in {retry_after_s} s")


@dataclass(frozen=True, slots=True)
class Handoff:
    code: str
    journey_id: str
    channel: Channel
    expires_at: float

    @property
    def qr_payload(self) -> str:
        """What the QR code shows; the receiving app or branch terminal reads the code from it."""
        return f"bffhandoff:{self.code}"


@dataclass(frozen=True, slots=True)
class Redeemed:
    journey_id: str
    created_by: str


def handoff_key(code: str) -> str:
    return f"bff:ho:{tag(code)}"


def failures_key(redeemer: str) -> str:
    return f"bff:ho-fail:{tag(redeemer)}"


def normalise(code: str) -> str:
    """What a person typed, as issued: upper case, spaces and dashes dropped."""
    return code.strip().upper().replace("-", "").replace(" ", "")


class HandoffCodes:
    def __init__(
        self, redis: RedisClient, *, ttl_s: int = DEFAULT_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._clock = clock
        self._redeem = redis.register_script(_REDEEM)

    async def create(self, journey_id: str, channel: Channel, member_bank: str, created_by: str) -> Handoff:
        """A fresh code for `journey_id`, valid for `ttl_s` on `channel` in `member_bank`."""
        expires_at = self._clock() + self._ttl_s
        fields: dict[FieldT, EncodableT] = {
            "journey": journey_id,
            "channel": channel.value,
            "member_bank": member_bank,
            "created_by": created_by,
            "expires_at": str(expires_at),
        }
        try:
            while True:
                code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
                key = handoff_key(code)
                # HSETNX on a field no other code has: a collision (astronomically rare) draws again.
                if await self._redis.hsetnx(key, "journey", journey_id):
                    async with self._redis.pipeline(transaction=True) as pipe:
                        pipe.hset(key, mapping=fields)
                        pipe.expire(key, self._ttl_s)
                        await pipe.execute()
                    return Handoff(code, journey_id, channel, expires_at)
        except (RedisError, OSError) as exc:
            raise JourneyStoreUnavailable(f"handoff codes cannot be stored now: {exc}") from exc

    async def redeem(self, code: str, channel: Channel, member_bank: str, redeemer: str) -> Redeemed:
        """Use a code once; unknown, expired, used or mismatched codes count against the redeemer."""
        try:
            await self._require_not_limited(redeemer)
            code = normalise(code)
            valid_shape = len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)
            result = (
                await self._redeem(keys=[handoff_key(code)], args=[channel.value, member_bank])
                if valid_shape
                else [b"missing"]
            )
        except (RedisError, OSError) as exc:
            raise JourneyStoreUnavailable(f"handoff codes cannot be read now: {exc}") from exc
        outcome = text(result[0])
        if outcome == "ok":
            return Redeemed(text(result[1]), text(result[2]))
        await self._count_failure(redeemer)
        if outcome == "channel":
            raise HandoffRefused(f"this code is for the {text(result[1])} channel, not {channel.value}")
        if outcome == "bank":
            raise HandoffRefused("this code belongs to another member bank")
        raise HandoffRefused("unknown, expired or already used handoff code; ask for a new one")

    async def _require_not_limited(self, redeemer: str) -> None:
        failures = await self._redis.get(failures_key(redeemer))
        if failures is not None and int(failures) >= MAX_FAILURES:
            ttl = await self._redis.ttl(failures_key(redeemer))
            raise HandoffRateLimited(max(1, math.ceil(ttl if ttl and ttl > 0 else FAILURE_WINDOW_S)))

    async def _count_failure(self, redeemer: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(failures_key(redeemer))
            pipe.expire(failures_key(redeemer), FAILURE_WINDOW_S, nx=True)
            await pipe.execute()
