"""CRM adapter: the customer profile that segments and experience profiles are built on.

Wire style: JSON, camelCase, upper-case enums (RURAL, AFFLUENT); errors as
{"error": {"code", "message"}}. The member bank travels in the
`X-Member-Bank` header for single reads and in the body of the batch read
(`POST /v1/customers:batchGet`, a read despite the POST, so retried freely).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import AssetsTier, CustomerProfile, CustomerScope, RegionType

SERVICE = "crm"
MAX_BATCH = 100  # the service's largest batch
_REGIONS: dict[str, RegionType] = {"URBAN": "urban", "RURAL": "rural"}
_TIERS: dict[str, AssetsTier] = {"MASS": "mass", "AFFLUENT": "affluent", "PRIVATE": "private"}


class CrmChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def profile(self, scope: CustomerScope) -> CustomerProfile:
        """The customer's profile; NotFound if the customer is not in that member bank."""
        call = Call(
            "GET",
            f"/v1/customers/{quote(scope.customer_id, safe='')}",
            "crm.profile",
            idempotent=True,
            headers={"X-Member-Bank": scope.member_bank},
        )
        return await self._client.call(SERVICE, call, _decode_profile)

    async def profiles(self, member_bank: str, ids: Iterable[str]) -> dict[str, CustomerProfile]:
        """Profiles by customer id, for DataLoaders; ids not in the member bank are absent."""
        unique = list(dict.fromkeys(ids))
        batches = [unique[i : i + MAX_BATCH] for i in range(0, len(unique), MAX_BATCH)]
        found = await asyncio.gather(*(self._batch(member_bank, batch) for batch in batches))
        return {p.customer_id: p for part in found for p in part}

    async def _batch(self, member_bank: str, ids: Sequence[str]) -> list[CustomerProfile]:
        call = Call(
            "POST",
            "/v1/customers:batchGet",
            "crm.profiles",
            idempotent=True,  # a read: POST only because the id list may be long
            json={"memberBank": member_bank, "ids": list(ids)},
        )
        return await self._client.call(SERVICE, call, _decode_batch)


def _decode_profile(reply: Reply) -> CustomerProfile:
    _raise_for_error(reply)
    return profile_from_wire(reply.json())


def _decode_batch(reply: Reply) -> list[CustomerProfile]:
    _raise_for_error(reply)
    return [profile_from_wire(raw) for raw in reply.json()["customers"]]


def _raise_for_error(reply: Reply) -> None:
    if reply.status < 400:
        return
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        raise MalformedBody(f"HTTP {reply.status} without a CRM error body")
    code, message = str(error["code"]), str(error.get("message", ""))
    kind = NotFound if reply.status == 404 else ChannelRejected
    raise kind(SERVICE, code, message, status=reply.status)


def profile_from_wire(raw: dict[str, Any]) -> CustomerProfile:
    return CustomerProfile(
        customer_id=str(raw["customerId"]),
        member_bank=str(raw["memberBank"]),
        name=str(raw["fullName"]),
        age=int(raw["age"]),
        region_type=_REGIONS[raw["regionType"]],
        assets_tier=_TIERS[raw["assetsTier"]],
        preferred_language=str(raw["preferredLanguage"]),
        phone=str(raw["mobile"]),
        customer_since=date.fromisoformat(raw["customerSince"]),
    )
