"""Bridge tokens against a real Redis: one audience, consented scopes only, pairwise subject, revocation."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from redis.crc import key_slot

from bff.auth.principal import Principal, Role
from bff.channels.models import CustomerScope
from bff.miniprograms.bridge_errors import BridgeAuthError, BridgeErrorCode
from bff.miniprograms.bridge_tokens import (
    LEEWAY_S,
    BridgeTokenIssuer,
    BridgeTokenVerifier,
    customer_live_key,
    token_key,
)
from bff.miniprograms.consent import ConsentStore
from tests.support.processes import RedisServer
from tests.support.tuning import FakeClock

DB = 5  # ids are unique per test and keys deleted after, so other tests may share the database
ISSUER = "https://bff.dev.bff.local/bridge"
SECRET = bytes(range(32))
PARK_APP, PARK_PARTNER = "com.parkservices.tenant", "parkservices"
FARM_APP, FARM_PARTNER = "com.agrimarket.shop", "agrimarket"
REQUESTED = frozenset({"profile.name", "phone.masked", "location.city"})
PHONE = "13812345678"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_server.url.rsplit("/", 1)[0] + f"/{DB}")
    yield client
    keys = [key for pattern in ("bff:bridge:*", "bff:consent:*") async for key in client.scan_iter(pattern)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def signing_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "bridge-1"})


@pytest.fixture
def consents(redis: aioredis.Redis, clock: FakeClock) -> ConsentStore:
    return ConsentStore(redis, clock)


@pytest.fixture
def issuer(
    redis: aioredis.Redis, consents: ConsentStore, signing_key: ECKey, clock: FakeClock
) -> BridgeTokenIssuer:
    return BridgeTokenIssuer(redis, consents, signing_key, ISSUER, pairwise_secret=SECRET, clock=clock)


@pytest.fixture
def verifier(redis: aioredis.Redis, issuer: BridgeTokenIssuer, clock: FakeClock) -> BridgeTokenVerifier:
    return BridgeTokenVerifier(redis, issuer.public_keys(), ISSUER, clock=clock)


@pytest.fixture
def customer() -> CustomerScope:
    # A customer id that embeds a phone number, as some member banks' ids do.
    return CustomerScope(f"{PHONE}-{uuid.uuid4().hex[:8]}", "RCB001")


def principal_of(customer: CustomerScope, clock: FakeClock, expires_in: float = 3600) -> Principal:
    return Principal(
        subject=customer.customer_id,
        member_bank=customer.member_bank,
        roles=frozenset({Role.CUSTOMER}),
        scopes=frozenset({"openid"}),
        token_id="customer-token-1",
        expires_at=clock() + expires_in,
    )


async def consent_to(consents: ConsentStore, customer: CustomerScope, app_id: str, *scopes: str) -> None:
    await consents.grant(customer, app_id, scopes, app_version="1.0.0", requested=REQUESTED)


def payload(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return claims


def code_of(error: pytest.ExceptionInfo[BridgeAuthError]) -> BridgeErrorCode:
    return error.value.code


async def test_token_audience_is_exactly_the_one_mini_program(
    issuer: BridgeTokenIssuer, consents: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    issued = await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    claims = payload(issued.token)
    assert claims["aud"] == PARK_APP
    assert claims["iss"] == ISSUER
    assert claims["sub"] == issued.subject
    assert claims["exp"] == issued.expires_at == 1_700_000_000 + 300
    assert claims["member_bank"] == "RCB001"


async def test_token_carries_only_the_scopes_given_not_everything_consented(
    issuer: BridgeTokenIssuer, consents: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name", "location.city")
    issued = await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    assert payload(issued.token)["scope"] == "profile.name"


async def test_issuing_a_scope_the_customer_has_not_granted_is_refused_and_leaves_no_live_token(
    issuer: BridgeTokenIssuer,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
    redis: aioredis.Redis,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    with pytest.raises(BridgeAuthError) as refused:
        await issuer.issue(
            principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name", "phone.masked"]
        )
    assert code_of(refused) is BridgeErrorCode.BRIDGE_CONSENT_MISSING
    assert "phone.masked" in refused.value.message
    subject = issuer.subject(customer, PARK_PARTNER)
    assert await redis.zcard(customer_live_key(subject, PARK_APP)) == 0


async def test_pairwise_subject_differs_between_partners_and_is_stable_across_tokens(
    issuer: BridgeTokenIssuer, consents: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    await consent_to(consents, customer, FARM_APP, "profile.name")
    principal = principal_of(customer, clock)
    park_1 = await issuer.issue(principal, PARK_APP, PARK_PARTNER, ["profile.name"])
    clock.advance(120)
    park_2 = await issuer.issue(principal, PARK_APP, PARK_PARTNER, ["profile.name"])
    farm = await issuer.issue(principal, FARM_APP, FARM_PARTNER, ["profile.name"])
    assert payload(park_1.token)["sub"] == payload(park_2.token)["sub"]
    assert payload(park_1.token)["jti"] != payload(park_2.token)["jti"]
    assert payload(park_1.token)["sub"] != payload(farm.token)["sub"]


async def test_token_contains_no_customer_id_or_phone_number(
    issuer: BridgeTokenIssuer, consents: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name", "phone.masked")
    issued = await issuer.issue(
        principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name", "phone.masked"]
    )
    header_segment, payload_segment, _ = issued.token.split(".")
    readable = b"".join(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        for segment in (header_segment, payload_segment)
    ).decode()
    assert customer.customer_id not in readable
    assert PHONE not in readable
    assert PHONE[-4:] not in readable


async def test_verified_token_leads_back_to_the_customer(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name", "location.city")
    issued = await issuer.issue(
        principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name", "location.city"]
    )
    session = await verifier.verify(issued.token, PARK_APP)
    assert session.customer == customer
    assert session.app_id == PARK_APP
    assert session.partner_id == PARK_PARTNER
    assert session.partner_subject == issued.subject
    assert session.scopes == {"profile.name", "location.city"}
    assert session.expires_at == issued.expires_at


async def test_token_never_outlives_the_customers_own_token(
    issuer: BridgeTokenIssuer, consents: ConsentStore, customer: CustomerScope, clock: FakeClock
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    issued = await issuer.issue(
        principal_of(customer, clock, expires_in=60), PARK_APP, PARK_PARTNER, ["profile.name"]
    )
    assert issued.expires_at == 1_700_000_060


async def test_only_a_customers_token_can_be_exchanged(issuer: BridgeTokenIssuer, clock: FakeClock) -> None:
    employee = Principal("E-7", "RCB001", frozenset({Role.EMPLOYEE}), frozenset(), None, clock() + 600)
    with pytest.raises(BridgeAuthError) as refused:
        await issuer.issue(employee, PARK_APP, PARK_PARTNER, [])
    assert code_of(refused) is BridgeErrorCode.BRIDGE_SUBJECT_NOT_CUSTOMER


async def test_expired_token_is_refused(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    issued = await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    clock.advance(300 + LEEWAY_S + 1)
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(issued.token, PARK_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_EXPIRED


async def test_token_for_one_mini_program_is_refused_by_another(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    issued = await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(issued.token, FARM_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_WRONG_AUDIENCE


async def test_token_whose_record_is_deleted_is_refused_as_revoked(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
    redis: aioredis.Redis,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    issued = await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    await redis.delete(token_key(issued.subject, issued.jti))
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(issued.token, PARK_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_REVOKED


async def test_revoking_a_customers_tokens_for_an_app_leaves_their_other_apps_working(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    await consent_to(consents, customer, PARK_APP, "profile.name")
    await consent_to(consents, customer, FARM_APP, "profile.name")
    principal = principal_of(customer, clock)
    park = [await issuer.issue(principal, PARK_APP, PARK_PARTNER, ["profile.name"]) for _ in range(2)]
    farm = await issuer.issue(principal, FARM_APP, FARM_PARTNER, ["profile.name"])

    await consents.revoke(customer, PARK_APP)
    assert await issuer.revoke_for(customer, PARK_APP, PARK_PARTNER) == 2

    for issued in park:
        with pytest.raises(BridgeAuthError) as refused:
            await verifier.verify(issued.token, PARK_APP)
        assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_REVOKED
    assert (await verifier.verify(farm.token, FARM_APP)).customer == customer


async def test_stopping_an_app_kills_the_live_tokens_of_all_its_customers(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    other = CustomerScope(f"c-{uuid.uuid4().hex[:8]}", "RCB002")
    tokens = []
    for who in (customer, other):
        await consent_to(consents, who, PARK_APP, "profile.name")
        await consent_to(consents, who, FARM_APP, "profile.name")
        tokens.append(await issuer.issue(principal_of(who, clock), PARK_APP, PARK_PARTNER, ["profile.name"]))
    farm = await issuer.issue(principal_of(customer, clock), FARM_APP, FARM_PARTNER, ["profile.name"])

    assert await issuer.revoke_app(PARK_APP) == 2

    for issued in tokens:
        with pytest.raises(BridgeAuthError):
            await verifier.verify(issued.token, PARK_APP)
    assert (await verifier.verify(farm.token, FARM_APP)).app_id == FARM_APP


async def test_stopping_an_app_at_one_member_bank_keeps_it_working_at_the_others(
    issuer: BridgeTokenIssuer,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    other_bank = CustomerScope(f"c-{uuid.uuid4().hex[:8]}", "RCB002")
    issued = {}
    for who in (customer, other_bank):
        await consent_to(consents, who, PARK_APP, "profile.name")
        issued[who.member_bank] = await issuer.issue(
            principal_of(who, clock), PARK_APP, PARK_PARTNER, ["profile.name"]
        )

    assert await issuer.revoke_app(PARK_APP, member_banks={"RCB001"}) == 1

    with pytest.raises(BridgeAuthError):
        await verifier.verify(issued["RCB001"].token, PARK_APP)
    assert (await verifier.verify(issued["RCB002"].token, PARK_APP)).customer == other_bank


async def test_token_issued_while_its_app_is_being_stopped_is_not_handed_out(
    redis: aioredis.Redis,
    consents: ConsentStore,
    signing_key: ECKey,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    class StoppedMidway(BridgeTokenIssuer):
        async def _remember(self, *args: Any, **kwargs: Any) -> None:
            await super()._remember(*args, **kwargs)
            await self.revoke_app(PARK_APP)

    issuer = StoppedMidway(redis, consents, signing_key, ISSUER, pairwise_secret=SECRET, clock=clock)
    await consent_to(consents, customer, PARK_APP, "profile.name")
    with pytest.raises(BridgeAuthError) as refused:
        await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_REVOKED


async def test_token_issued_while_consent_is_withdrawn_is_not_handed_out(
    redis: aioredis.Redis,
    consents: ConsentStore,
    signing_key: ECKey,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    class WithdrawnMidway(BridgeTokenIssuer):
        async def _remember(self, *args: Any, **kwargs: Any) -> None:
            await super()._remember(*args, **kwargs)
            await consents.revoke(customer, PARK_APP)
            await self.revoke_for(customer, PARK_APP, PARK_PARTNER)

    issuer = WithdrawnMidway(redis, consents, signing_key, ISSUER, pairwise_secret=SECRET, clock=clock)
    await consent_to(consents, customer, PARK_APP, "profile.name")
    with pytest.raises(BridgeAuthError) as refused:
        await issuer.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    assert code_of(refused) is BridgeErrorCode.BRIDGE_CONSENT_MISSING


async def test_token_signed_by_another_key_is_refused(
    redis: aioredis.Redis,
    verifier: BridgeTokenVerifier,
    consents: ConsentStore,
    customer: CustomerScope,
    clock: FakeClock,
) -> None:
    impostor_key = ECKey.generate_key("P-256", parameters={"kid": "bridge-1"})
    impostor = BridgeTokenIssuer(redis, consents, impostor_key, ISSUER, pairwise_secret=SECRET, clock=clock)
    await consent_to(consents, customer, PARK_APP, "profile.name")
    forged = await impostor.issue(principal_of(customer, clock), PARK_APP, PARK_PARTNER, ["profile.name"])
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(forged.token, PARK_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_SIGNATURE_INVALID


async def test_token_signed_with_another_algorithm_is_refused(
    verifier: BridgeTokenVerifier, customer: CustomerScope, clock: FakeClock
) -> None:
    claims = {"iss": ISSUER, "aud": PARK_APP, "sub": "pw_x", "jti": "j", "scope": "", "exp": clock() + 60}
    hmac_token = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, OctKey.generate_key(256))
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(hmac_token, PARK_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_SIGNATURE_INVALID


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, BridgeErrorCode.BRIDGE_TOKEN_MISSING),
        ("", BridgeErrorCode.BRIDGE_TOKEN_MISSING),
        ("not-a-token", BridgeErrorCode.BRIDGE_TOKEN_MALFORMED),
        ("e30.e30.sig", BridgeErrorCode.BRIDGE_TOKEN_SIGNATURE_INVALID),  # header {} names no algorithm
        ("!!.e30.sig", BridgeErrorCode.BRIDGE_TOKEN_MALFORMED),
    ],
)
async def test_missing_or_unreadable_token_is_refused(
    verifier: BridgeTokenVerifier, token: str | None, code: BridgeErrorCode
) -> None:
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(token, PARK_APP)
    assert code_of(refused) is code


def test_a_tokens_record_and_its_customers_live_set_share_a_cluster_slot() -> None:
    subject = "pw_k3v2example"
    assert key_slot(token_key(subject, "jti-1").encode()) == key_slot(
        customer_live_key(subject, PARK_APP).encode()
    )


async def test_token_naming_several_audiences_is_refused_even_by_one_of_them(
    verifier: BridgeTokenVerifier, signing_key: ECKey, clock: FakeClock
) -> None:
    claims = {
        "iss": ISSUER,
        "aud": [PARK_APP, FARM_APP],
        "sub": "pw_x",
        "jti": "j",
        "scope": "",
        "nbf": int(clock()),
        "exp": int(clock()) + 60,
    }
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": "bridge-1"}, claims, signing_key)
    with pytest.raises(BridgeAuthError) as refused:
        await verifier.verify(token, PARK_APP)
    assert code_of(refused) is BridgeErrorCode.BRIDGE_TOKEN_WRONG_AUDIENCE
