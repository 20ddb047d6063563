"""Consent per mini-program against a real Redis: grant, revoke, what a new version must ask for, audit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from bff.channels.models import CustomerScope
from bff.miniprograms.consent import (
    ConsentError,
    ConsentErrorCode,
    ConsentStore,
    apps_key,
    audit_key,
    consent_key,
)
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db
from tests.support.tuning import FakeClock

DB = 5  # shared with the other mini-program tests of this kind: ids are unique, keys deleted after
V1_REQUESTS = frozenset({"profile.name", "location.city"})
V2_REQUESTS = V1_REQUESTS | {"phone.masked"}


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB, flush=False, delete_prefixes=["bff:consent:"]) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def store(redis: aioredis.Redis, clock: FakeClock) -> ConsentStore:
    return ConsentStore(redis, clock)


@pytest.fixture
def customer() -> CustomerScope:
    return CustomerScope(f"c-{uuid.uuid4().hex[:10]}", "RCB001")


APP = "com.parkservices.tenant"
OTHER_APP = "com.agrimarket.shop"


async def test_grant_records_the_scopes_and_the_manifest_version(
    store: ConsentStore, customer: CustomerScope
) -> None:
    consent = await store.grant(
        customer, APP, ["profile.name", "location.city"], app_version="1.0.0", requested=V1_REQUESTS
    )
    assert consent.scopes == {"profile.name", "location.city"}
    assert {grant.app_version for grant in consent.grants} == {"1.0.0"}
    assert await store.granted(customer, APP) == {"profile.name", "location.city"}


async def test_new_version_adding_a_scope_is_missing_only_the_new_scope(
    store: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await store.grant(customer, APP, V1_REQUESTS, app_version="1.0.0", requested=V1_REQUESTS)
    assert await store.missing(customer, APP, V1_REQUESTS) == frozenset()
    assert await store.missing(customer, APP, V2_REQUESTS) == {"phone.masked"}

    clock.advance(60)
    consent = await store.grant(customer, APP, ["phone.masked"], app_version="2.0.0", requested=V2_REQUESTS)
    assert await store.missing(customer, APP, V2_REQUESTS) == frozenset()
    versions = {grant.scope: grant.app_version for grant in consent.grants}
    assert versions == {"profile.name": "1.0.0", "location.city": "1.0.0", "phone.masked": "2.0.0"}
    assert consent.latest.app_version == "2.0.0"


async def test_never_consented_app_is_missing_every_requested_scope(
    store: ConsentStore, customer: CustomerScope
) -> None:
    assert await store.missing(customer, APP, V1_REQUESTS) == V1_REQUESTS
    assert await store.consent(customer, APP) is None


async def test_granting_a_scope_the_manifest_does_not_request_is_refused(
    store: ConsentStore, customer: CustomerScope
) -> None:
    with pytest.raises(ConsentError) as refused:
        await store.grant(
            customer, APP, ["profile.name", "accounts.summary"], app_version="1.0.0", requested=V1_REQUESTS
        )
    assert refused.value.code is ConsentErrorCode.CONSENT_SCOPE_NOT_REQUESTED
    assert "accounts.summary" in refused.value.message
    assert await store.granted(customer, APP) == frozenset()


async def test_granting_no_scope_is_refused(store: ConsentStore, customer: CustomerScope) -> None:
    with pytest.raises(ConsentError) as refused:
        await store.grant(customer, APP, [], app_version="1.0.0", requested=V1_REQUESTS)
    assert refused.value.code is ConsentErrorCode.CONSENT_SCOPES_EMPTY


async def test_revoking_some_scopes_keeps_the_others(store: ConsentStore, customer: CustomerScope) -> None:
    await store.grant(customer, APP, V1_REQUESTS, app_version="1.0.0", requested=V1_REQUESTS)
    removed = await store.revoke(customer, APP, ["location.city", "phone.masked"])
    assert removed == {"location.city"}
    assert await store.granted(customer, APP) == {"profile.name"}
    assert await store.missing(customer, APP, V1_REQUESTS) == {"location.city"}


async def test_revoking_everything_removes_the_app_from_the_consent_screen(
    store: ConsentStore, customer: CustomerScope
) -> None:
    await store.grant(customer, APP, V1_REQUESTS, app_version="1.0.0", requested=V1_REQUESTS)
    await store.grant(customer, OTHER_APP, ["profile.name"], app_version="3.1.0", requested=V1_REQUESTS)
    assert [consent.app_id for consent in await store.list(customer)] == [OTHER_APP, APP]

    assert await store.revoke(customer, APP) == V1_REQUESTS
    assert await store.granted(customer, APP) == frozenset()
    assert [consent.app_id for consent in await store.list(customer)] == [OTHER_APP]


async def test_revoking_the_last_scope_one_by_one_also_removes_the_app_from_the_list(
    store: ConsentStore, customer: CustomerScope
) -> None:
    await store.grant(customer, APP, ["profile.name"], app_version="1.0.0", requested=V1_REQUESTS)
    await store.revoke(customer, APP, ["profile.name"])
    assert await store.list(customer) == ()


async def test_every_grant_and_revoke_is_in_the_audit_trail_newest_first(
    store: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await store.grant(customer, APP, V1_REQUESTS, app_version="1.0.0", requested=V1_REQUESTS)
    clock.advance(10)
    await store.revoke(customer, APP, ["location.city"])
    clock.advance(10)
    await store.revoke(customer, APP)

    events = await store.history(customer)
    assert [(e.action, e.scopes, e.app_version) for e in events] == [
        ("revoked", ("profile.name",), None),
        ("revoked", ("location.city",), None),
        ("granted", ("location.city", "profile.name"), "1.0.0"),
    ]
    assert [e.at for e in events] == [1_700_000_020.0, 1_700_000_010.0, 1_700_000_000.0]
    assert {e.app_id for e in events} == {APP}


async def test_customers_do_not_see_each_others_consents(
    store: ConsentStore, customer: CustomerScope
) -> None:
    same_id_other_bank = CustomerScope(customer.customer_id, "RCB002")
    await store.grant(customer, APP, ["profile.name"], app_version="1.0.0", requested=V1_REQUESTS)
    assert await store.granted(same_id_other_bank, APP) == frozenset()
    assert await store.list(same_id_other_bank) == ()
    assert await store.history(same_id_other_bank) == ()


async def test_separators_in_ids_cannot_make_two_customers_share_keys() -> None:
    first = CustomerScope("b:c", "a")
    second = CustomerScope("c", "a:b")
    assert consent_key(first, APP) != consent_key(second, APP)
    assert apps_key(CustomerScope("x}", "RCB001")) == "bff:consent:{RCB001:x%7D}:apps"


def test_one_customers_consent_keys_share_a_cluster_slot(customer: CustomerScope) -> None:
    keys = [
        consent_key(customer, APP),
        consent_key(customer, OTHER_APP),
        apps_key(customer),
        audit_key(customer),
    ]
    assert len({key_slot(key.encode()) for key in keys}) == 1
