"""An unambiguous byte encoding of several strings, for hashing them together.

Joining with a separator is ambiguous: ("a|b", "c") and ("a", "b|c") both
give "a|b|c", and without a separator ("ab", "c") and ("a", "bc") collide.
Prefixing each field with its length makes distinct tuples distinct bytes.
"""

from __future__ import annotations


def length_prefixed(*fields: str) -> bytes:
    """Each field as a 4-byte big-endian length followed by its UTF-8 bytes."""
    out = bytearray()
    for field in fields:
        data = field.encode("utf-8")
        out += len(data).to_bytes(4, "big")
        out += data
    return bytes(out)
