"""Pairwise subjects: one stable id per customer and partner, unlinkable across partners."""

from __future__ import annotations

import pytest

from bff.miniprograms.pairwise import pairwise_subject

SECRET = bytes(range(32))
CUSTOMER = "RCB001-00042"


def test_same_customer_gets_different_ids_at_different_partners() -> None:
    park = pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices")
    farm = pairwise_subject(SECRET, CUSTOMER, "RCB001", "agrimarket")
    assert park != farm


def test_same_customer_id_at_different_member_banks_gets_different_ids() -> None:
    first = pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices")
    second = pairwise_subject(SECRET, CUSTOMER, "RCB002", "parkservices")
    assert first != second


def test_id_is_stable_across_calls() -> None:
    ids = {pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices") for _ in range(5)}
    assert len(ids) == 1


def test_id_is_a_known_value_so_a_change_of_encoding_cannot_slip_through() -> None:
    # Changing it would give every customer a new id at every partner.
    subject = pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices")
    assert subject == "pw_oekkdqis2gj6jczaupxx7xgmhbggvb7v"


def test_another_secret_gives_another_id() -> None:
    other = bytes(reversed(range(32)))
    assert pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices") != pairwise_subject(
        other, CUSTOMER, "RCB001", "parkservices"
    )


def test_id_does_not_contain_the_customer_id() -> None:
    subject = pairwise_subject(SECRET, CUSTOMER, "RCB001", "parkservices")
    assert subject.startswith("pw_")
    assert CUSTOMER.lower() not in subject.lower()
    assert "00042" not in subject


def test_field_boundaries_matter() -> None:
    # Without length prefixes these two triples would encode alike.
    assert pairwise_subject(SECRET, "ab", "RCB001", "c") != pairwise_subject(SECRET, "a", "RCB001", "bc")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        pairwise_subject(b"short", CUSTOMER, "RCB001", "parkservices")


def test_empty_field_is_refused() -> None:
    with pytest.raises(ValueError, match="member bank"):
        pairwise_subject(SECRET, CUSTOMER, "", "parkservices")
