"""The mini-program registry against a real Redis: versions, review, release, audit, notifications."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from bff.miniprograms.manifest import ALL_MEMBER_BANKS, load_manifest
from bff.miniprograms.registry import (
    APPS_KEY,
    CHANGES_CHANNEL,
    GENERATION_KEY,
    AuditAction,
    ErrorCode,
    MiniProgramRegistry,
    RegistryError,
    Release,
    ReviewState,
    Version,
    parse_change,
)
from bff.miniprograms.rollout import bucket
from bff.miniprograms.signing import generate_partner_key, sign_manifest
from bff.store.client import text
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

# A database of its own, emptied around every test: the server is shared with other tests.
REGISTRY_DB = 9
PARTNER = "partner-parks"
OTHER_PARTNER = "partner-bills"
PARTNER_KEY = generate_partner_key("Ed25519", "parks-1")

PLAIN_SCOPES = [{"scope": "profile.name", "purpose": "Greet you by name"}]
PLAIN_APIS = [{"api": "user.info", "purpose": "Greet you by name"}]
PAYMENT_SCOPE = {"scope": "payments.initiate", "purpose": "Pay your rent"}
PAYMENT_API = {"api": "payment.request", "purpose": "Pay your rent"}


class Clock:
    """A clock that moves one second per reading, so every recorded time differs."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1_700_000_000)

    def __call__(self) -> float:
        return float(next(self._ticks))


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, REGISTRY_DB) as client:
        yield client


@pytest.fixture
def registry(redis_client: aioredis.Redis) -> MiniProgramRegistry:
    return MiniProgramRegistry(redis_client, clock=Clock())


@pytest.fixture
def app_id() -> str:
    return f"com.parks.t{uuid.uuid4().hex[:12]}"


def manifest_document(
    app_id: str,
    version: str,
    *,
    scopes: list[dict[str, str]] | None = None,
    apis: list[dict[str, str]] | None = None,
    domains: list[str] | None = None,
    banks: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "appId": app_id,
        "version": version,
        "names": {"en": "Park services"},
        "icons": {"96": "icons/96.png"},
        "entryPage": "index.html",
        "pages": ["index.html"],
        "bridgeApis": PLAIN_APIS if apis is None else apis,
        "scopes": PLAIN_SCOPES if scopes is None else scopes,
        "networkDomains": ["https://api.parks.example.com"] if domains is None else domains,
        "memberBanks": ["*"] if banks is None else banks,
        "minAppVersion": "5.2.0",
        "bundle": {"sha256": hashlib.sha256(f"{app_id}@{version}".encode()).hexdigest(), "size": 1000},
        "rateLimits": {"perCustomerPerMinute": 60, "perAppPerSecond": 200},
    }


async def add(
    registry: MiniProgramRegistry, app_id: str, version: str, partner: str = PARTNER, **fields: Any
) -> Version:
    """Add a version as its partner publishes it: the manifest's bytes and their signature."""
    data = json.dumps(manifest_document(app_id, version, **fields)).encode()
    jws = sign_manifest(data, PARTNER_KEY, "parks-1")
    return await registry.add_version(app_id, partner, load_manifest(data), data, jws, actor=f"{partner}/ci")


async def approved(registry: MiniProgramRegistry, app_id: str, version: str, **fields: Any) -> Version:
    await add(registry, app_id, version, **fields)
    await registry.submit(app_id, version, PARTNER)
    reviewed = await registry.review(app_id, version, "reviewer-a", approve=True)
    if reviewed.state is ReviewState.SUBMITTED:  # a sensitive scope was added: a second reviewer
        reviewed = await registry.review(app_id, version, "reviewer-b", approve=True)
    assert reviewed.state is ReviewState.APPROVED
    return reviewed


@pytest.fixture
async def app(registry: MiniProgramRegistry, app_id: str) -> str:
    await registry.create_app(app_id, PARTNER, actor="admin-1")
    return app_id


def customers_in(app_id: str, member_bank: str, *, inside: bool, percent_bp: int) -> Iterator[str]:
    """Customer ids whose bucket is inside (or outside) a release of `percent_bp`."""
    for n in itertools.count():
        customer = f"c{n}"
        if (bucket(app_id, customer, member_bank) < percent_bp) is inside:
            yield customer


def one_customer(app_id: str, member_bank: str, *, inside: bool, percent_bp: int) -> str:
    return next(customers_in(app_id, member_bank, inside=inside, percent_bp=percent_bp))


async def refused(code: ErrorCode, call: Any) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        await call
    assert caught.value.code is code, caught.value
    return caught.value


# --- apps -------------------------------------------------------------------


async def test_created_app_is_found_by_id_and_listed(registry: MiniProgramRegistry, app_id: str) -> None:
    created = await registry.create_app(app_id, PARTNER, actor="admin-1")

    assert created.partner_id == PARTNER
    assert created.generation == 1
    assert await registry.get_app(app_id) == created
    assert created in await registry.list_apps()


async def test_creating_an_existing_app_is_refused(registry: MiniProgramRegistry, app: str) -> None:
    error = await refused(ErrorCode.APP_EXISTS, registry.create_app(app, OTHER_PARTNER, actor="admin-2"))

    assert PARTNER in error.message
    assert (await registry.get_app(app)).partner_id == PARTNER


@pytest.mark.parametrize("bad_id", ["parks", "com.{parks}.x", "Com.Parks", "com.parks.\n", ""])
async def test_an_app_id_outside_the_manifest_rule_is_refused(
    registry: MiniProgramRegistry, bad_id: str
) -> None:
    await refused(ErrorCode.INVALID_APP_ID, registry.create_app(bad_id, PARTNER, actor="admin-1"))


async def test_list_apps_skips_an_id_indexed_without_an_app(
    registry: MiniProgramRegistry, redis_client: aioredis.Redis, app: str
) -> None:
    await redis_client.sadd(APPS_KEY, "com.never.created")  # creation failed after indexing

    assert [listed.app_id for listed in await registry.list_apps()] == [app]


async def test_an_unknown_app_is_app_not_found_everywhere(registry: MiniProgramRegistry, app_id: str) -> None:
    await refused(ErrorCode.APP_NOT_FOUND, registry.get_app(app_id))
    await refused(ErrorCode.APP_NOT_FOUND, add(registry, app_id, "1.0.0"))
    await refused(ErrorCode.APP_NOT_FOUND, registry.get_release(app_id))
    await refused(ErrorCode.APP_NOT_FOUND, registry.list_versions(app_id))
    await refused(ErrorCode.APP_NOT_FOUND, registry.halt(app_id, "errors", actor="monitor"))


# --- versions ---------------------------------------------------------------


async def test_added_version_is_a_draft_holding_the_signed_manifest(
    registry: MiniProgramRegistry, app: str
) -> None:
    added = await add(registry, app, "1.0.0")
    stored = await registry.get_version(app, "1.0.0")

    assert stored == added
    assert stored.state is ReviewState.DRAFT
    assert stored.added_by == f"{PARTNER}/ci"
    assert stored.manifest.version == "1.0.0"
    assert stored.bundle_sha256 == stored.manifest.bundle_sha256
    assert stored.manifest_jws.count(".") == 2


async def test_a_version_lower_than_the_highest_is_refused_naming_the_highest(
    registry: MiniProgramRegistry, app: str
) -> None:
    await add(registry, app, "1.1.0")

    error = await refused(ErrorCode.VERSION_NOT_GREATER, add(registry, app, "1.0.9"))
    assert "1.1.0" in error.message


async def test_a_version_of_equal_precedence_is_refused(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.1.0+build.1")

    # Build metadata does not count in SemVer precedence.
    await refused(ErrorCode.VERSION_NOT_GREATER, add(registry, app, "1.1.0+build.2"))


async def test_pre_releases_order_before_their_release(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.0.0-beta.2")
    await add(registry, app, "1.0.0-beta.11")  # numeric identifiers compare as numbers
    await refused(ErrorCode.VERSION_NOT_GREATER, add(registry, app, "1.0.0-alpha"))
    await add(registry, app, "1.0.0")
    await refused(ErrorCode.VERSION_NOT_GREATER, add(registry, app, "1.0.0-rc.1"))

    listed = [version.version for version in await registry.list_versions(app)]
    assert listed == ["1.0.0-beta.2", "1.0.0-beta.11", "1.0.0"]


async def test_a_stored_version_cannot_be_replaced(registry: MiniProgramRegistry, app: str) -> None:
    original = await add(registry, app, "1.0.0")

    await refused(ErrorCode.VERSION_EXISTS, add(registry, app, "1.0.0", domains=["https://evil.example.com"]))
    assert await registry.get_version(app, "1.0.0") == original


async def test_review_changes_the_state_but_never_the_signed_manifest(
    registry: MiniProgramRegistry, app: str
) -> None:
    original = await add(registry, app, "1.0.0")
    reviewed = await approved(registry, app, "1.0.1")
    stored = await registry.get_version(app, "1.0.1")

    assert stored == reviewed
    assert (await registry.get_version(app, "1.0.0")) == original
    assert not any(name.startswith(("update", "edit", "replace", "delete")) for name in dir(registry))


async def test_only_the_owning_partner_adds_and_submits_versions(
    registry: MiniProgramRegistry, app: str
) -> None:
    await refused(ErrorCode.NOT_APP_OWNER, add(registry, app, "1.0.0", partner=OTHER_PARTNER))
    await add(registry, app, "1.0.0")

    await refused(ErrorCode.NOT_APP_OWNER, registry.submit(app, "1.0.0", OTHER_PARTNER))
    assert (await registry.get_version(app, "1.0.0")).state is ReviewState.DRAFT


async def test_a_manifest_of_another_app_is_refused(registry: MiniProgramRegistry, app: str) -> None:
    data = json.dumps(manifest_document("com.other.app", "1.0.0")).encode()
    manifest = load_manifest(data)

    await refused(
        ErrorCode.MANIFEST_MISMATCH, registry.add_version(app, PARTNER, manifest, data, "jws", actor="ci")
    )


async def test_manifest_bytes_must_say_what_the_manifest_says(
    registry: MiniProgramRegistry, app: str
) -> None:
    signed = json.dumps(manifest_document(app, "1.0.0")).encode()
    other = load_manifest(manifest_document(app, "1.0.0", domains=["https://other.example.com"]))

    await refused(
        ErrorCode.MANIFEST_MISMATCH, registry.add_version(app, PARTNER, other, signed, "jws", actor="ci")
    )


async def test_an_unknown_version_is_version_not_found(registry: MiniProgramRegistry, app: str) -> None:
    await refused(ErrorCode.VERSION_NOT_FOUND, registry.get_version(app, "9.9.9"))
    await refused(ErrorCode.VERSION_NOT_FOUND, registry.submit(app, "9.9.9", PARTNER))
    await refused(ErrorCode.VERSION_NOT_FOUND, registry.review(app, "9.9.9", "reviewer-a", approve=True))
    await refused(ErrorCode.VERSION_NOT_FOUND, registry.release(app, "9.9.9", 100, ALL_MEMBER_BANKS, "ops"))


# --- review -----------------------------------------------------------------


async def test_submitting_twice_is_an_invalid_transition_naming_the_allowed_states(
    registry: MiniProgramRegistry, app: str
) -> None:
    await add(registry, app, "1.0.0")
    await registry.submit(app, "1.0.0", PARTNER)

    error = await refused(ErrorCode.INVALID_TRANSITION, registry.submit(app, "1.0.0", PARTNER))
    assert "is submitted" in error.message
    assert "approved, rejected" in error.message


@pytest.mark.parametrize("approve", [True, False])
async def test_a_draft_cannot_be_reviewed(registry: MiniProgramRegistry, app: str, approve: bool) -> None:
    await add(registry, app, "1.0.0")

    error = await refused(
        ErrorCode.INVALID_TRANSITION, registry.review(app, "1.0.0", "reviewer-a", approve, "not ready")
    )
    assert "is draft" in error.message
    assert "allowed next states: submitted" in error.message


@pytest.mark.parametrize("final", [ReviewState.APPROVED, ReviewState.REJECTED])
async def test_approved_and_rejected_versions_are_final(
    registry: MiniProgramRegistry, app: str, final: ReviewState
) -> None:
    await add(registry, app, "1.0.0")
    await registry.submit(app, "1.0.0", PARTNER)
    await registry.review(app, "1.0.0", "reviewer-a", final is ReviewState.APPROVED, "checked")

    for attempt in (
        registry.submit(app, "1.0.0", PARTNER),
        registry.review(app, "1.0.0", "reviewer-b", approve=True),
        registry.review(app, "1.0.0", "reviewer-b", approve=False, reason="changed my mind"),
    ):
        error = await refused(ErrorCode.INVALID_TRANSITION, attempt)
        assert f"is {final}" in error.message
        assert "none" in error.message
    assert (await registry.get_version(app, "1.0.0")).state is final


async def test_rejecting_needs_a_reason(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.0.0")
    await registry.submit(app, "1.0.0", PARTNER)

    await refused(ErrorCode.REASON_REQUIRED, registry.review(app, "1.0.0", "reviewer-a", approve=False))
    await refused(ErrorCode.REASON_REQUIRED, registry.review(app, "1.0.0", "reviewer-a", False, "  "))
    rejected = await registry.review(app, "1.0.0", "reviewer-a", approve=False, reason="icon is misleading")

    assert rejected.state is ReviewState.REJECTED
    assert rejected.reviews[-1].reason == "icon is misleading"


async def test_a_version_without_new_sensitive_scopes_is_approved_by_one_reviewer(
    registry: MiniProgramRegistry, app: str
) -> None:
    await add(registry, app, "1.0.0")
    await registry.submit(app, "1.0.0", PARTNER)

    reviewed = await registry.review(app, "1.0.0", "reviewer-a", approve=True)

    assert reviewed.state is ReviewState.APPROVED
    assert reviewed.approvers == ("reviewer-a",)


async def test_adding_a_sensitive_scope_needs_two_distinct_reviewers(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await add(registry, app, "1.1.0", scopes=[*PLAIN_SCOPES, PAYMENT_SCOPE], apis=[*PLAIN_APIS, PAYMENT_API])
    await registry.submit(app, "1.1.0", PARTNER)

    first = await registry.review(app, "1.1.0", "reviewer-a", approve=True)
    assert first.state is ReviewState.SUBMITTED
    assert first.approvers == ("reviewer-a",)

    error = await refused(
        ErrorCode.SECOND_REVIEWER_REQUIRED, registry.review(app, "1.1.0", "reviewer-a", approve=True)
    )
    assert "payments.initiate" in error.message

    second = await registry.review(app, "1.1.0", "reviewer-b", approve=True)
    assert second.state is ReviewState.APPROVED
    assert second.approvers == ("reviewer-a", "reviewer-b")


async def test_review_records_the_permission_diff_against_the_released_version(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await add(
        registry,
        app,
        "1.1.0",
        scopes=[*PLAIN_SCOPES, {"scope": "location.city", "purpose": "Find parks near you"}],
        apis=[{"api": "location.city", "purpose": "Find parks near you"}],
        domains=["https://api2.parks.example.com"],
    )
    await registry.submit(app, "1.1.0", PARTNER)

    reviewed = await registry.review(app, "1.1.0", "reviewer-a", approve=True, reason="looks fine")

    review = reviewed.reviews[-1]
    assert review.diff_base == "1.0.0"
    assert review.permission_diff.added_scopes == ("location.city",)
    assert review.permission_diff.added_bridge_apis == ("location.city",)
    assert review.permission_diff.removed_bridge_apis == ("user.info",)
    assert review.permission_diff.added_network_domains == ("https://api2.parks.example.com",)
    assert review.permission_diff.removed_network_domains == ("https://api.parks.example.com",)
    assert not review.permission_diff.needs_second_review
    assert (await registry.get_version(app, "1.1.0")).permission_diff == review.permission_diff


async def test_the_first_version_is_diffed_against_nothing(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.0.0", scopes=[*PLAIN_SCOPES, PAYMENT_SCOPE], apis=[*PLAIN_APIS, PAYMENT_API])
    await registry.submit(app, "1.0.0", PARTNER)

    first = await registry.review(app, "1.0.0", "reviewer-a", approve=True)

    assert first.reviews[-1].diff_base is None
    assert first.reviews[-1].permission_diff.added_scopes == ("payments.initiate", "profile.name")
    assert first.state is ReviewState.SUBMITTED  # payments.initiate is sensitive


# --- release ----------------------------------------------------------------


async def test_only_an_approved_version_is_released(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.0.0")

    await refused(ErrorCode.NOT_APPROVED, registry.release(app, "1.0.0", 500, ALL_MEMBER_BANKS, "ops"))
    await registry.submit(app, "1.0.0", PARTNER)
    await refused(ErrorCode.NOT_APPROVED, registry.release(app, "1.0.0", 500, ALL_MEMBER_BANKS, "ops"))
    assert await registry.get_release(app) is None


@pytest.mark.parametrize("percent_bp", [-1, 10_001])
async def test_a_percentage_outside_0_to_10000_basis_points_is_refused(
    registry: MiniProgramRegistry, app: str, percent_bp: int
) -> None:
    await approved(registry, app, "1.0.0")

    await refused(
        ErrorCode.PERCENT_OUT_OF_RANGE, registry.release(app, "1.0.0", percent_bp, ALL_MEMBER_BANKS, "ops")
    )


async def test_release_only_to_member_banks_the_manifest_serves(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0", banks=["RCB001", "RCB002"])

    error = await refused(
        ErrorCode.MEMBER_BANK_NOT_SERVED, registry.release(app, "1.0.0", 100, frozenset({"RCB009"}), "ops")
    )
    assert "RCB009" in error.message
    await refused(
        ErrorCode.MEMBER_BANK_NOT_SERVED, registry.release(app, "1.0.0", 100, ALL_MEMBER_BANKS, "ops")
    )
    await refused(ErrorCode.MEMBER_BANKS_EMPTY, registry.release(app, "1.0.0", 100, frozenset(), "ops"))
    released = await registry.release(app, "1.0.0", 100, frozenset({"RCB002"}), "ops")
    assert released.member_banks == frozenset({"RCB002"})


async def test_first_release_starts_at_the_given_percentage_with_nothing_before(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")

    release = await registry.release(app, "1.0.0", 2_500, ALL_MEMBER_BANKS, actor="ops")

    assert release == await registry.get_release(app)
    assert (release.version, release.percent_bp, release.previous_version) == ("1.0.0", 2_500, None)
    inside = one_customer(app, "RCB001", inside=True, percent_bp=2_500)
    outside = one_customer(app, "RCB001", inside=False, percent_bp=2_500)
    assert release.version_for(inside, "RCB001") == "1.0.0"
    assert release.version_for(outside, "RCB001") is None


async def test_a_new_version_is_released_beside_the_fully_released_one(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await approved(registry, app, "1.2.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    release = await registry.release(app, "1.1.0", 1_000, ALL_MEMBER_BANKS, actor="ops")
    assert (release.version, release.percent_bp, release.previous_version) == ("1.1.0", 1_000, "1.0.0")
    outside = one_customer(app, "RCB002", inside=False, percent_bp=1_000)
    assert release.version_for(outside, "RCB002") == "1.0.0"

    # 1.1.0 never reached everyone, so customers outside 1.2.0's share keep 1.0.0.
    newer = await registry.release(app, "1.2.0", 500, ALL_MEMBER_BANKS, actor="ops")
    assert (newer.version, newer.previous_version) == ("1.2.0", "1.0.0")


async def test_raising_the_percentage_keeps_the_previous_version(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await registry.release(app, "1.1.0", 1_000, ALL_MEMBER_BANKS, actor="ops")
    customer = one_customer(app, "RCB001", inside=False, percent_bp=1_000)
    before = await registry.get_release(app)
    assert before is not None
    assert before.version_for(customer, "RCB001") == "1.0.0"

    raised = await registry.release(app, "1.1.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    assert (raised.percent_bp, raised.previous_version) == (10_000, "1.0.0")
    assert raised.version_for(customer, "RCB001") == "1.1.0"
    last = (await registry.audit(app, limit=1))[0]
    assert last.action is AuditAction.RELEASE_CHANGED
    assert "raised from 10.00 % to 100.00 %" in last.note


async def test_lowering_the_percentage_is_allowed_and_said_in_the_audit(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 5_000, ALL_MEMBER_BANKS, actor="ops")

    lowered = await registry.release(app, "1.0.0", 2_000, ALL_MEMBER_BANKS, actor="ops-2")

    assert lowered.percent_bp == 2_000
    last = (await registry.audit(app, limit=1))[0]
    assert last.actor == "ops-2"
    assert "LOWERED from 50.00 % to 20.00 %" in last.note
    assert (last.before["percent"], last.after["percent"]) == ("50.00 %", "20.00 %")


async def test_releasing_an_older_version_is_refused_in_favour_of_rollback(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.1.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    error = await refused(
        ErrorCode.VERSION_NOT_GREATER, registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, "ops")
    )
    assert "rollback" in error.message


async def test_halt_sends_every_customer_back_to_the_previous_version(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await registry.release(app, "1.1.0", 3_000, ALL_MEMBER_BANKS, actor="ops")
    customer = one_customer(app, "RCB001", inside=True, percent_bp=3_000)

    await refused(ErrorCode.REASON_REQUIRED, registry.halt(app, " ", actor="bridge-monitor"))
    halted = await registry.halt(app, "bridge error rate 7 % > 5 %", actor="bridge-monitor")

    assert halted.halted
    assert halted.halt_reason == "bridge error rate 7 % > 5 %"
    assert (halted.version, halted.percent_bp, halted.previous_version) == ("1.1.0", 3_000, "1.0.0")
    assert halted.version_for(customer, "RCB001") == "1.0.0"
    error = await refused(ErrorCode.INVALID_TRANSITION, registry.halt(app, "again", actor="bridge-monitor"))
    assert "already halted" in error.message

    continued = await registry.release(app, "1.1.0", 3_000, ALL_MEMBER_BANKS, actor="ops")
    assert not continued.halted
    assert continued.version_for(customer, "RCB001") == "1.1.0"


async def test_rollback_in_the_middle_of_a_percentage_release_goes_to_everyone(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await registry.release(app, "1.1.0", 4_000, ALL_MEMBER_BANKS, actor="ops")

    rolled_back = await registry.rollback(app, "1.0.0", actor="ops-lead")

    assert (rolled_back.version, rolled_back.percent_bp, rolled_back.halted) == ("1.0.0", 10_000, False)
    for customer in ("c1", "c2", "c3", "c4"):
        assert rolled_back.version_for(customer, "RCB003") == "1.0.0"
    last = (await registry.audit(app, limit=1))[0]
    assert last.action is AuditAction.RELEASE_ROLLED_BACK
    assert last.before["version"] == "1.1.0"
    assert last.after["version"] == "1.0.0"


async def test_rollback_goes_only_to_an_earlier_approved_version(
    registry: MiniProgramRegistry, app: str
) -> None:
    await add(registry, app, "0.9.0")
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    await refused(ErrorCode.ROLLBACK_NOT_EARLIER, registry.rollback(app, "1.1.0", actor="ops"))
    await refused(ErrorCode.ROLLBACK_NOT_EARLIER, registry.rollback(app, "1.0.0", actor="ops"))
    await refused(ErrorCode.NOT_APPROVED, registry.rollback(app, "0.9.0", actor="ops"))


async def test_release_controls_need_a_release(registry: MiniProgramRegistry, app: str) -> None:
    await approved(registry, app, "1.0.0")

    await refused(ErrorCode.NOT_RELEASED, registry.halt(app, "errors", actor="monitor"))
    await refused(ErrorCode.NOT_RELEASED, registry.suspend(app, None, actor="ops", reason="incident"))
    await refused(ErrorCode.NOT_RELEASED, registry.resume(app, None, actor="ops"))
    await refused(ErrorCode.NOT_RELEASED, registry.rollback(app, "1.0.0", actor="ops"))


async def test_suspending_one_member_bank_leaves_the_others(registry: MiniProgramRegistry, app: str) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    await refused(ErrorCode.REASON_REQUIRED, registry.suspend(app, "RCB002", actor="ops", reason=""))
    suspended = await registry.suspend(app, "RCB002", actor="ops", reason="complaint at RCB002")

    assert suspended.suspended == frozenset({"RCB002"})
    assert suspended.version_for("c1", "RCB002") is None
    assert suspended.version_for("c1", "RCB001") == "1.0.0"

    resumed = await registry.resume(app, "RCB002", actor="ops")
    assert resumed.suspended == frozenset()
    assert resumed.version_for("c1", "RCB002") == "1.0.0"


async def test_the_kill_switch_suspends_every_member_bank_until_resumed(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await registry.suspend(app, "RCB001", actor="ops", reason="complaint")

    killed = await registry.suspend(app, None, actor="security", reason="partner breach")

    assert killed.suspended is ALL_MEMBER_BANKS
    assert all(killed.version_for("c1", bank) is None for bank in ("RCB001", "RCB002", "RCB003"))
    error = await refused(ErrorCode.INVALID_TRANSITION, registry.resume(app, "RCB002", actor="ops"))
    assert "resume all" in error.message

    resumed = await registry.resume(app, None, actor="security")
    assert resumed.suspended == frozenset()
    assert resumed.version_for("c1", "RCB001") == "1.0.0"


async def test_suspending_twice_changes_nothing(registry: MiniProgramRegistry, app: str) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    first = await registry.suspend(app, None, actor="security", reason="breach")

    again = await registry.suspend(app, "RCB001", actor="security", reason="breach")
    not_suspended = await registry.resume(app, None, actor="security")
    resumed_again = await registry.resume(app, None, actor="security")

    assert again == first
    assert not_suspended.generation == first.generation + 1
    assert resumed_again == not_suspended
    actions = [event.action for event in await registry.audit(app, limit=2)]
    assert actions == [AuditAction.RELEASE_SUSPENDED, AuditAction.RELEASE_RESUMED]


async def test_suspensions_survive_a_new_release_and_a_rollback(
    registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await approved(registry, app, "1.1.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    await registry.suspend(app, "RCB003", actor="ops", reason="complaint")

    newer = await registry.release(app, "1.1.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    older = await registry.rollback(app, "1.0.0", actor="ops")

    assert newer.suspended == older.suspended == frozenset({"RCB003"})


# --- audit, generations, notifications ----------------------------------------


async def test_every_change_is_audited_with_actor_time_and_before_after(
    registry: MiniProgramRegistry, app_id: str
) -> None:
    await registry.create_app(app_id, PARTNER, actor="admin-1")
    await add(registry, app_id, "1.0.0")
    await registry.submit(app_id, "1.0.0", PARTNER)
    await registry.review(app_id, "1.0.0", "reviewer-a", approve=True, reason="ok")
    await registry.release(app_id, "1.0.0", 1_000, frozenset({"RCB001"}), actor="ops")
    await registry.release(app_id, "1.0.0", 5_000, frozenset({"RCB001"}), actor="ops")
    await registry.halt(app_id, "errors", actor="bridge-monitor")
    await registry.suspend(app_id, "RCB001", actor="ops", reason="complaint")
    await registry.suspend(app_id, None, actor="security", reason="breach")
    await registry.resume(app_id, None, actor="security")

    events = await registry.audit(app_id)

    assert [(e.action, e.actor) for e in events] == [
        (AuditAction.APP_CREATED, "admin-1"),
        (AuditAction.VERSION_ADDED, f"{PARTNER}/ci"),
        (AuditAction.VERSION_SUBMITTED, PARTNER),
        (AuditAction.VERSION_APPROVED, "reviewer-a"),
        (AuditAction.RELEASE_STARTED, "ops"),
        (AuditAction.RELEASE_CHANGED, "ops"),
        (AuditAction.RELEASE_HALTED, "bridge-monitor"),
        (AuditAction.RELEASE_SUSPENDED, "ops"),
        (AuditAction.RELEASE_SUSPENDED, "security"),
        (AuditAction.RELEASE_RESUMED, "security"),
    ]
    assert [e.generation for e in events] == list(range(1, 11))
    times = [e.at for e in events]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    by_action = {e.action: e for e in events}
    assert by_action[AuditAction.APP_CREATED].after == {"partner_id": PARTNER}
    assert by_action[AuditAction.VERSION_SUBMITTED].before["state"] == "draft"
    assert by_action[AuditAction.VERSION_SUBMITTED].after["state"] == "submitted"
    approval = by_action[AuditAction.VERSION_APPROVED]
    assert (approval.version, approval.after["approvers"], approval.note) == ("1.0.0", "reviewer-a", "ok")
    assert by_action[AuditAction.RELEASE_STARTED].before == {}
    assert by_action[AuditAction.RELEASE_STARTED].after["member_banks"] == "RCB001"
    halt = by_action[AuditAction.RELEASE_HALTED]
    assert (halt.before["halted"], halt.after["halted"]) == ("no", "yes: errors")
    assert events[-2].after["suspended"] == "*"
    assert events[-1].after["suspended"] == ""
    assert [e.action for e in await registry.audit(app_id, limit=2)] == [
        AuditAction.RELEASE_SUSPENDED,
        AuditAction.RELEASE_RESUMED,
    ]


async def test_a_refused_change_writes_nothing(registry: MiniProgramRegistry, app: str) -> None:
    await add(registry, app, "1.0.0")
    before = (await registry.get_app(app)).generation

    await refused(ErrorCode.VERSION_NOT_GREATER, add(registry, app, "0.1.0"))
    await refused(ErrorCode.INVALID_TRANSITION, registry.review(app, "1.0.0", "reviewer-a", approve=True))

    assert (await registry.get_app(app)).generation == before
    assert len(await registry.audit(app)) == before


async def test_every_change_bumps_the_app_and_the_global_generation(
    registry: MiniProgramRegistry, redis_client: aioredis.Redis, app: str
) -> None:
    global_before = int(await redis_client.get(GENERATION_KEY) or 0)
    app_before = (await registry.get_app(app)).generation

    await add(registry, app, "1.0.0")
    await registry.submit(app, "1.0.0", PARTNER)
    await registry.review(app, "1.0.0", "reviewer-a", approve=True)
    release = await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")

    assert release.generation == app_before + 4
    assert (await registry.get_app(app)).generation == app_before + 4
    assert int(await redis_client.get(GENERATION_KEY) or 0) == global_before + 4


async def test_a_subscriber_is_told_the_app_and_its_new_generation(
    registry: MiniProgramRegistry, redis_client: aioredis.Redis, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(CHANGES_CHANNEL)
    try:
        await pubsub.get_message(timeout=1.0)  # the subscribe confirmation

        release = await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
        killed = await registry.suspend(app, None, actor="security", reason="breach")

        seen: list[int] = []
        while len(seen) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0)
            assert message is not None, "no change notification within 2 s"
            change = parse_change(message["data"])
            if change.app_id == app:  # the channel is shared with every other test's apps
                seen.append(change.generation)
        assert seen == [release.generation, killed.generation]
    finally:
        await pubsub.unsubscribe(CHANGES_CHANNEL)
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py


async def test_every_key_of_an_app_shares_its_hash_tag(
    registry: MiniProgramRegistry, redis_client: aioredis.Redis, app: str
) -> None:
    await approved(registry, app, "1.0.0+build.7")
    await registry.release(app, "1.0.0+build.7", 10_000, ALL_MEMBER_BANKS, actor="ops")

    keys = {text(key) for key in await redis_client.keys("*")}

    # One slot per app (Redis Cluster); only the index and the poll counter are shared.
    prefix = f"bff:mp:{{{app}}}:"
    assert keys - {APPS_KEY, GENERATION_KEY} == {
        f"{prefix}app",
        f"{prefix}versions",
        f"{prefix}version:1.0.0%2Bbuild.7",
        f"{prefix}release",
        f"{prefix}audit",
    }


# --- concurrency --------------------------------------------------------------


async def test_concurrent_adds_of_the_same_version_store_it_once(
    redis_client: aioredis.Redis, app: str
) -> None:
    # Separate registries play separate BFF processes; they share nothing but Redis.
    registries = [MiniProgramRegistry(redis_client) for _ in range(8)]

    results = await asyncio.gather(
        *(add(registry, app, "1.0.0") for registry in registries), return_exceptions=True
    )

    stored = [result for result in results if isinstance(result, Version)]
    errors = [result for result in results if isinstance(result, RegistryError)]
    assert len(stored) == 1
    assert len(errors) == 7
    assert {error.code for error in errors} == {ErrorCode.VERSION_EXISTS}
    assert [v.version for v in await registries[0].list_versions(app)] == ["1.0.0"]
    assert len(await registries[0].audit(app)) == 2  # created, added once


async def test_racing_adds_never_store_a_version_below_an_earlier_one(
    redis_client: aioredis.Redis, app: str
) -> None:
    versions = ["1.0.3", "1.0.1", "1.2.0", "1.0.2", "1.1.0", "1.0.0", "2.0.0-rc.1", "1.3.0"]
    registries = [MiniProgramRegistry(redis_client) for _ in versions]

    results = await asyncio.gather(
        *(add(registry, app, version) for registry, version in zip(registries, versions, strict=True)),
        return_exceptions=True,
    )

    assert all(isinstance(r, Version | RegistryError) for r in results), results
    refusals = {r.code for r in results if isinstance(r, RegistryError)}
    assert refusals <= {ErrorCode.VERSION_NOT_GREATER}
    stored = [v.version for v in await registries[0].list_versions(app)]
    assert stored == sorted(stored, key=lambda v: load_manifest(manifest_document(app, v)).version_key)
    assert len(stored) == sum(isinstance(r, Version) for r in results)
    assert stored[-1] == "2.0.0-rc.1"  # nothing outranks it, so it is never refused


async def test_concurrent_release_changes_are_all_applied_in_some_order(
    redis_client: aioredis.Redis, registry: MiniProgramRegistry, app: str
) -> None:
    await approved(registry, app, "1.0.0")
    await registry.release(app, "1.0.0", 10_000, ALL_MEMBER_BANKS, actor="ops")
    banks = [f"RCB00{n}" for n in range(1, 4)]

    await asyncio.gather(
        *(MiniProgramRegistry(redis_client).suspend(app, bank, actor="ops", reason="drill") for bank in banks)
    )

    release = await registry.get_release(app)
    assert isinstance(release, Release)
    assert release.suspended == frozenset(banks)
