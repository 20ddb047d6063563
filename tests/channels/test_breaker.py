from bff.channels.breaker import Breaker, BreakerState
from bff.channels.registry import BreakerPolicy
from tests.support.tuning import FakeClock


def make(
    threshold: int = 3, open_ms: float = 1000, probes: int = 1
) -> tuple[Breaker, FakeClock, list[BreakerState]]:
    clock = FakeClock()
    changes: list[BreakerState] = []
    breaker = Breaker(BreakerPolicy(threshold, open_ms, probes), clock, changes.append)
    return breaker, clock, changes


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker, _, changes = make(threshold=3)
    for _ in range(2):
        assert breaker.try_acquire()
        breaker.on_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.try_acquire()
    breaker.on_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.try_acquire()
    assert changes == [BreakerState.OPEN]


def test_a_success_resets_the_consecutive_failure_count() -> None:
    breaker, _, _ = make(threshold=3)
    for _ in range(2):
        breaker.on_failure()
    breaker.on_success()
    for _ in range(2):
        breaker.on_failure()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_half_opens_after_open_period_and_admits_one_probe() -> None:
    breaker, clock, _ = make(threshold=1, open_ms=500)
    breaker.on_failure()
    clock.advance(0.499)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.002)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.try_acquire()
    assert not breaker.try_acquire(), "only one probe at a time"


def test_successful_probe_closes_and_failed_probe_reopens() -> None:
    breaker, clock, changes = make(threshold=1, open_ms=100)
    breaker.on_failure()
    clock.advance(0.2)
    assert breaker.try_acquire()
    breaker.on_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.2)
    assert breaker.try_acquire()
    breaker.on_success()
    assert breaker.state is BreakerState.CLOSED
    assert changes == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_released_probe_slot_can_be_taken_again() -> None:
    breaker, clock, _ = make(threshold=1, open_ms=100)
    breaker.on_failure()
    clock.advance(0.2)
    assert breaker.try_acquire()
    breaker.release()
    assert breaker.try_acquire()
