import random

from bff.channels.registry import RetryPolicy
from bff.channels.retry import RetryBudget, backoff_seconds
from tests.support.tuning import FakeClock


def test_budget_refuses_retries_once_spent_and_refills_with_time() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(budget_ratio=0.0, budget_min_per_second=5), clock)
    granted = sum(budget.try_spend() for _ in range(20))
    assert granted == 5
    clock.advance(1.0)
    assert sum(budget.try_spend() for _ in range(20)) == 5


def test_budget_grows_with_traffic() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetryPolicy(budget_ratio=0.5, budget_min_per_second=0), clock)
    while budget.try_spend():
        pass
    for _ in range(10):
        budget.deposit()
    assert sum(budget.try_spend() for _ in range(20)) == 5


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(backoff_ms=10, max_backoff_ms=40)
    rng = random.Random(1)
    samples = [backoff_seconds(policy, n, rng) for n in range(1, 8) for _ in range(50)]
    assert max(samples) <= 0.040
    assert len({round(s, 6) for s in samples}) > 100, "full jitter spreads retries out"
