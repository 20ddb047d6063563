"""Offset cursors are opaque, round-trip, and refuse anything they did not issue."""

from __future__ import annotations

import pytest

from bff.channels.errors import ChannelRejected
from bff.channels.paging import cursor_offset, next_offset_cursor, offset_cursor


def test_cursor_round_trips_its_offset_without_showing_it() -> None:
    cursor = offset_cursor(40)
    assert "40" not in cursor
    assert cursor_offset("loans", cursor) == 40
    assert cursor_offset("loans", None) == 0


def test_last_page_has_no_next_cursor() -> None:
    assert next_offset_cursor(0, 20, 45) == offset_cursor(20)
    assert next_offset_cursor(40, 5, 45) is None
    assert next_offset_cursor(60, 0, 45) is None


@pytest.mark.parametrize(
    "cursor", ["", "garbage!", "NDA", offset_cursor(1)[:-2] + "zz", "b2Zmc2V0Oi0x", "\u00e9"]
)
def test_foreign_cursor_is_rejected_as_invalid_cursor(cursor: str) -> None:
    with pytest.raises(ChannelRejected) as rejected:
        cursor_offset("core_banking", cursor)
    assert (rejected.value.code, rejected.value.service) == ("INVALID_CURSOR", "core_banking")
