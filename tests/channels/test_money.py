"""Reading money from the wire is exact and strict: garbage never becomes an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bff.channels.call import MalformedBody
from bff.channels.models import Money
from bff.channels.money import decimal_from_text, money_from_fen, money_from_number, money_from_text


def test_fen_become_yuan_with_two_decimals() -> None:
    assert money_from_fen("12345", "CNY") == Money(Decimal("123.45"), "CNY")
    assert str(money_from_fen("0", "CNY").amount) == "0.00"
    assert money_from_fen("-5", "CNY").amount == Decimal("-0.05")


def test_json_numbers_are_quantized_to_the_fen_and_floats_are_refused() -> None:
    assert str(money_from_number(Decimal("746000.0"), "CNY").amount) == "746000.00"
    assert str(money_from_number(12, "CNY").amount) == "12.00"
    with pytest.raises(MalformedBody):
        money_from_number(0.1, "CNY")
    with pytest.raises(MalformedBody):
        money_from_number(True, "CNY")


def test_decimal_strings_are_read_exactly() -> None:
    assert money_from_text("0.10", "CNY").amount == Decimal("0.10")
    assert decimal_from_text("1.2345") == Decimal("1.2345")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e3", " 12.00", "12.", "", "1,000.00", "12.34.5"])
def test_anything_but_a_plain_decimal_string_is_malformed(text: str) -> None:
    with pytest.raises(MalformedBody):
        money_from_text(text, "CNY")


@pytest.mark.parametrize("fen", ["12.5", "1e3", "", "abc", "१२"])
def test_anything_but_whole_fen_is_malformed(fen: str) -> None:
    with pytest.raises(MalformedBody):
        money_from_fen(fen, "CNY")


@pytest.mark.parametrize("currency", ["cny", "CN", "", None, 156])
def test_currency_must_be_an_iso_4217_code(currency: object) -> None:
    with pytest.raises(MalformedBody):
        money_from_text("1.00", currency)
