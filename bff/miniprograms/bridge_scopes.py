"""Which scope each bridge API needs, and the check every bridge call passes first.

The table is the manifest's `SCOPES_FOR_BRIDGE_API` (a manifest declaring an
API must request one of its scopes), so publishing and calling agree. An API
that hands out no user data (storage.*, journey.open) needs no scope; an API
the host does not offer is refused before any scope is looked at.
"""

from __future__ import annotations

import functools
import json

from bff.miniprograms.bridge_errors import BridgeAuthError, BridgeErrorCode
from bff.miniprograms.bridge_tokens import BridgeSession
from bff.miniprograms.manifest import SCHEMA_PATH, SCOPES_FOR_BRIDGE_API


@functools.cache
def bridge_apis() -> frozenset[str]:
    """Every bridge API the host offers: the manifest schema's enum, read once."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return frozenset(schema["properties"]["bridgeApis"]["items"]["properties"]["api"]["enum"])


def scopes_for_api(api: str) -> frozenset[str]:
    """The scopes any one of which lets a token call `api`; empty when it reads no user data."""
    if api not in bridge_apis():
        raise BridgeAuthError(
            BridgeErrorCode.BRIDGE_API_UNKNOWN,
            f"{api!r} is not a bridge API; the host offers {', '.join(sorted(bridge_apis()))}",
        )
    return SCOPES_FOR_BRIDGE_API.get(api, frozenset())


def granted_for_api(session: BridgeSession, api: str) -> frozenset[str]:
    """The scopes of `api` this token carries: e.g. which profile fields user.info may return."""
    return scopes_for_api(api) & session.scopes


def check_call(session: BridgeSession, api: str) -> None:
    """Refuse with BRIDGE_SCOPE_MISSING, naming the scope, unless the token may call `api`."""
    needed = scopes_for_api(api)
    if needed and not needed & session.scopes:
        choices = " or ".join(sorted(needed))
        raise BridgeAuthError(
            BridgeErrorCode.BRIDGE_SCOPE_MISSING,
            f"{api} needs the scope {choices}, which the customer has not granted to {session.app_id}; "
            "ask for it in the manifest and the customer will be asked for consent",
        )
