"""When a failed call may be tried again: jittered backoff and a retry budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from bff.channels.registry import RetryPolicy


def backoff_seconds(policy: RetryPolicy, retry_number: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff (AWS architecture blog): uniform in [0, cap]."""
    cap = min(policy.max_backoff_ms, policy.backoff_ms * (2 ** (retry_number - 1)))
    return rng.uniform(0, cap) / 1000


class RetryBudget:
    """Caps retries to a share of traffic so retries cannot multiply an outage.

    Each call deposits `budget_ratio` tokens and a retry spends one; a floor
    of `budget_min_per_second` tokens per second keeps quiet services
    retryable. Tokens are capped at one second's floor plus 100 calls' deposits.
    """

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._ratio = policy.budget_ratio
        self._floor = policy.budget_min_per_second
        self._cap = policy.budget_min_per_second + 100 * policy.budget_ratio
        self._clock = clock
        self._tokens = self._cap
        self._stamp = clock()

    def deposit(self) -> None:
        self._tokens = min(self._cap, self._tokens + self._ratio)

    def try_spend(self) -> bool:
        now = self._clock()
        self._tokens = min(self._cap, self._tokens + (now - self._stamp) * self._floor)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
