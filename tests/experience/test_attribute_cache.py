"""The in-process attribute cache: fresh copies only, bounded in size."""

from __future__ import annotations

from datetime import date

from bff.channels.models import CustomerProfile, CustomerScope
from bff.experience.attribute_cache import AttributeCache


def profile(customer_id: str, age: int = 40) -> CustomerProfile:
    return CustomerProfile(
        customer_id, "RCB001", "Li Wei", age, "urban", "mass", "zh", "13812345678", date(2015, 3, 1)
    )


def test_a_copy_older_than_the_ttl_is_not_served() -> None:
    now = [1000.0]
    cache = AttributeCache(ttl_s=300, clock=lambda: now[0])
    scope = CustomerScope("RCB001-00001", "RCB001")
    cache.put(scope, profile("RCB001-00001", age=59))
    now[0] += 299
    assert cache.get(scope) == profile("RCB001-00001", age=59)
    now[0] += 2
    assert cache.get(scope) is None


def test_the_least_recently_stored_entries_go_first_beyond_the_bound() -> None:
    cache = AttributeCache(max_entries=2)
    scopes = [CustomerScope(f"RCB001-0000{i}", "RCB001") for i in range(3)]
    for scope in scopes:
        cache.put(scope, profile(scope.customer_id))
    assert cache.get(scopes[0]) is None
    assert cache.get(scopes[2]) is not None
    assert cache.get(scopes[1]) is not None
