"""Sticky percentage releases: a stable share of customers, growing without anyone losing the release."""

from __future__ import annotations

import pytest

from bff.miniprograms.rollout import BUCKETS, Rollout, bucket, choose_version, in_release

APP = "com.parkservices.tenant"
CUSTOMERS = [f"RCB001-{n:05d}" for n in range(10_000)]


def rollout(basis_points: int, member_banks: frozenset[str] = frozenset({"RCB001"})) -> Rollout:
    return Rollout(APP, "2.0.0", basis_points, "1.4.0", member_banks)


def released_to(basis_points: int) -> set[str]:
    release = rollout(basis_points)
    return {c for c in CUSTOMERS if choose_version(release, c, "RCB001") == "2.0.0"}


def test_ten_percent_release_reaches_between_nine_and_eleven_percent_of_customers() -> None:
    assert 900 <= len(released_to(1_000)) <= 1_100


def test_same_customer_always_gets_the_same_answer() -> None:
    answers = {choose_version(rollout(1_000), CUSTOMERS[7], "RCB001") for _ in range(10)}
    assert len(answers) == 1
    assert bucket(APP, CUSTOMERS[7], "RCB001") == bucket(APP, CUSTOMERS[7], "RCB001")


def test_bucket_is_fixed_across_processes_and_python_versions() -> None:
    # A literal value: any change to the encoding or hash would move every customer.
    assert bucket(APP, "RCB001-00042", "RCB001") == 4302


def test_raising_the_release_from_ten_to_thirty_percent_keeps_everyone_who_had_it() -> None:
    ten, thirty = released_to(1_000), released_to(3_000)
    assert ten < thirty
    assert 2_700 <= len(thirty) <= 3_300


def test_customers_outside_the_release_get_the_previous_version() -> None:
    release = rollout(1_000)
    versions = {choose_version(release, c, "RCB001") for c in CUSTOMERS[:200]}
    assert versions == {"2.0.0", "1.4.0"}


def test_customer_of_a_member_bank_not_on_the_allow_list_gets_nothing() -> None:
    assert choose_version(rollout(10_000), CUSTOMERS[0], "RCB002") is None


def test_star_allows_every_member_bank() -> None:
    assert choose_version(rollout(10_000, frozenset({"*"})), CUSTOMERS[0], "RCB002") == "2.0.0"


def test_first_release_without_a_previous_version_reaches_only_its_share() -> None:
    release = Rollout(APP, "1.0.0", 1_000, None, frozenset({"RCB001"}))
    outside = [c for c in CUSTOMERS[:100] if not in_release(bucket(APP, c, "RCB001"), 1_000)]
    assert outside
    assert all(choose_version(release, c, "RCB001") is None for c in outside)


def test_zero_percent_reaches_nobody_and_hundred_percent_everybody() -> None:
    assert released_to(0) == set()
    assert released_to(BUCKETS) == set(CUSTOMERS)


def test_buckets_differ_between_mini_programs() -> None:
    # Otherwise the same customers would be first to try every partner's release.
    other = {c for c in CUSTOMERS if bucket("com.agrimarket.seeds", c, "RCB001") < 1_000}
    assert other != released_to(1_000)


@pytest.mark.parametrize("basis_points", [-1, BUCKETS + 1])
def test_release_share_outside_zero_to_ten_thousand_basis_points_is_refused(basis_points: int) -> None:
    with pytest.raises(ValueError, match="basis points"):
        rollout(basis_points)
