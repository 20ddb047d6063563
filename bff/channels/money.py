"""Money from the wire shapes the services use: integer fen, decimal strings, JSON numbers.

Every reader is strict: anything that is not a finite, exactly written amount
raises MalformedBody (which the client turns into a ChannelFailure), so a
garbled body never becomes a wrong balance. Never a float.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bff.channels.call import MalformedBody
from bff.channels.models import Money

_FEN = re.compile(r"^-?[0-9]{1,18}$")
_DECIMAL = re.compile(r"^-?[0-9]{1,18}(\.[0-9]{1,8})?$")
_CENT = Decimal("0.01")


def money_from_fen(fen: str, currency: str) -> Money:
    """`fen` is an integer count of 1/100 yuan, as text ("12345" is 123.45)."""
    if not _FEN.match(fen):
        raise MalformedBody(f"amount {fen!r} is not an integer number of fen")
    return Money(Decimal(fen).scaleb(-2), _currency(currency))


def money_from_text(amount: object, currency: object) -> Money:
    """`amount` is a decimal string in major units ("123.45")."""
    return Money(decimal_from_text(amount), _currency(currency))


def money_from_number(amount: object, currency: object) -> Money:
    """`amount` is a JSON number read as Decimal (json.loads(parse_float=Decimal)) or int."""
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise MalformedBody(f"amount {amount!r} is not a number")
    value = Decimal(amount)
    if not value.is_finite():
        raise MalformedBody(f"amount {amount!r} is not finite")
    return Money(value.quantize(_CENT), _currency(currency))


def decimal_from_text(value: object) -> Decimal:
    """A decimal string such as "1234.5678"; no exponent, no NaN, no spaces."""
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise MalformedBody(f"{value!r} is not a decimal string")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # unreachable after the pattern; kept as a guard
        raise MalformedBody(f"{value!r} is not a decimal string") from exc


def _currency(code: object) -> str:
    if not isinstance(code, str) or len(code) != 3 or not code.isalpha() or not code.isupper():
        raise MalformedBody(f"currency {code!r} is not an ISO 4217 code")
    return code
