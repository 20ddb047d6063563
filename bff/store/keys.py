"""Redis key naming shared by the domains: escaped key parts and cluster hash tags.

Redis Cluster places a key by its hash tag, the text between the first `{`
and the next `}`: keys with the same tag share a slot, so one script or
transaction may use them together. Parts that come from outside (customer
ids, app ids, scope names) are percent-encoded, so that no value can close a
tag early or forge a separator: bank "a:b" with customer "c" and bank "a"
with customer "b:c" get different keys.
"""

from __future__ import annotations

from urllib.parse import quote


def part(value: str) -> str:
    """`value` safe to place between separators and inside a hash tag (letters, digits, `-._~` kept)."""
    if not value:
        # An empty tag `{}` is no tag at all: the key would be placed by its whole name.
        raise ValueError("a Redis key part must not be empty")
    return quote(value, safe="")


def tag(*parts: str) -> str:
    """A hash tag over escaped parts, e.g. tag("RCB001", "c-42") == "{RCB001:c-42}"."""
    return "{" + ":".join(part(p) for p in parts) + "}"
