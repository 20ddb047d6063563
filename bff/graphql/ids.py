"""Opaque global object ids (Relay global object identification).

An id is base64url("<Type>:<key>"): opaque to clients, stable, and carrying
nothing a client may rely on. Decoding never grants access: every lookup still
goes through the caller's own scope.
"""

from __future__ import annotations

import base64
import binascii


class InvalidGlobalId(ValueError):
    """The id was not issued by this API."""


def to_global_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidGlobalId(f"{global_id!r} is not an id issued by this API") from exc
    type_name, sep, key = raw.partition(":")
    if not sep or not type_name or not key:
        raise InvalidGlobalId(f"{global_id!r} is not an id issued by this API")
    return type_name, key


def expect_global_id(global_id: str, type_name: str) -> str:
    """The key inside an id that must be of `type_name`."""
    found, key = from_global_id(global_id)
    if found != type_name:
        raise InvalidGlobalId(f"{global_id!r} is a {found} id, expected a {type_name} id")
    return key
