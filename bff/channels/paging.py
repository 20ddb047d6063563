"""Opaque cursors over offset-paged services (core banking's StartRecord, loans' offset).

The BFF hands out a cursor, never a number, so callers cannot depend on how
a service pages; a cursor from anywhere else is refused as INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import binascii

from bff.channels.errors import ChannelRejected

_PREFIX = "offset:"
MAX_OFFSET = 10**9


def offset_cursor(offset: int) -> str:
    """The cursor of the page that starts at `offset` (0-based)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def cursor_offset(service: str, cursor: str | None) -> int:
    """The 0-based offset a cursor stands for; 0 for no cursor."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_PREFIX)
    if (
        not text.startswith(_PREFIX)
        or not (number.isascii() and number.isdigit())
        or int(number) > MAX_OFFSET
    ):
        raise ChannelRejected(service, "INVALID_CURSOR", "the cursor was not issued for this list")
    return int(number)


def next_offset_cursor(offset: int, returned: int, total: int) -> str | None:
    """The cursor after a page of `returned` items from `offset`, or None on the last page."""
    end = offset + returned
    return offset_cursor(end) if returned and end < total else None
