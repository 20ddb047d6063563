"""The journey test flow, run unchanged against a standalone Redis and a Redis Cluster.

A loan application started in the app, continued in a mini-program and on the
web, sent back for documents by an approver in the call centre, completed by a
teller and approved at the branch; a second device follows every version live.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.errors import JourneyTerminal
from bff.journeys.keys import journey_keys, updates_channel
from bff.journeys.records import JourneyEvent, JourneyUpdate, parse_update
from bff.journeys.store import JourneyStore
from bff.store.client import RedisClient

CUSTOMER = "RCB001-00042"
APP = Actor(Channel.APP, JourneyRole.CUSTOMER, CUSTOMER)
MINI_PROGRAM = Actor(Channel.MINI_PROGRAM, JourneyRole.CUSTOMER, CUSTOMER)
WEB = Actor(Channel.WEB, JourneyRole.CUSTOMER, CUSTOMER)
TELLER = Actor(Channel.BRANCH, JourneyRole.TELLER, "E-1001")
APPROVER_BY_PHONE = Actor(Channel.CALL_CENTRE, JourneyRole.APPROVER, "E-2001")
APPROVER = Actor(Channel.BRANCH, JourneyRole.APPROVER, "E-2001")

LOAN = {"product": "agricultural", "amount": "80000.00", "termMonths": 24}
INCOME = {"employment": {"kind": "farmer", "since": "2015-03-01"}, "monthlyIncome": "6500.00"}


def new_key() -> str:
    return str(uuid.uuid4())


async def loan_application_flow(store: JourneyStore, redis: RedisClient, member_bank: str) -> None:
    started = await store.start(
        "loan-application",
        member_bank=member_bank,
        customer=CUSTOMER,
        actor=APP,
        payload=LOAN,
        idempotency_key=new_key(),
    )
    journey_id = started.journey_id
    assert (started.version, started.transition, started.from_state, started.to_state) == (
        1,
        "start",
        None,
        "draft",
    )

    follower = redis.pubsub()
    await follower.ssubscribe(updates_channel(journey_id))
    steps: list[tuple[str, Actor, dict[str, Any], str]] = [
        ("update-details", MINI_PROGRAM, {"purpose": "a greenhouse"}, "draft"),
        ("provide-income", WEB, INCOME, "income-provided"),
        ("submit", APP, {"consentToCreditCheck": True}, "submitted"),
        ("request-documents", APPROVER_BY_PHONE, {"documents": ["land-contract"]}, "documents-requested"),
        (
            "upload-documents",
            TELLER,
            {"documents": [{"kind": "land-contract", "documentId": "D-77"}]},
            "submitted",
        ),
        ("approve", APPROVER, {"annualRatePercent": "4.35"}, "approved"),
    ]
    events = [started]
    for transition, actor, payload, state in steps:
        event = await store.advance(
            journey_id,
            transition,
            expected_version=events[-1].version,
            actor=actor,
            payload=payload,
            idempotency_key=new_key(),
        )
        assert (event.version, event.to_state, event.actor, event.payload) == (
            events[-1].version + 1,
            state,
            actor,
            payload,
        )
        events.append(event)
        await _check_work_queues(store, member_bank, journey_id, state)

    await _check_journey(store, journey_id, events)
    assert await store.events_after(journey_id, 0) == events
    assert await store.events_after(journey_id, 4) == events[4:]
    updates = [await _next_update(follower) for _ in steps]
    assert [(u.version, u.state, u.transition) for u in updates] == [
        (e.version, e.to_state, e.transition) for e in events[1:]
    ]
    await follower.aclose()

    with pytest.raises(JourneyTerminal) as ended:
        await store.advance(
            journey_id, "withdraw", expected_version=7, actor=APP, payload={}, idempotency_key=new_key()
        )
    assert (ended.value.code, ended.value.state) == ("JOURNEY_TERMINAL", "approved")
    # Ended: kept for the retention period (five years), no longer the 30-day time to live.
    assert await redis.ttl(journey_keys(journey_id).events) > 30 * 86400


async def _check_work_queues(store: JourneyStore, member_bank: str, journey_id: str, state: str) -> None:
    approvers = [journey.id for journey in await store.waiting(member_bank, JourneyRole.APPROVER)]
    assert approvers == ([journey_id] if state == "submitted" else [])
    assert await store.waiting(member_bank, JourneyRole.TELLER) == []


async def _check_journey(store: JourneyStore, journey_id: str, events: list[JourneyEvent]) -> None:
    journey = await store.get(journey_id)
    assert (journey.state, journey.version, journey.terminal) == ("approved", 7, True)
    assert (journey.definition, journey.definition_version, journey.customer) == (
        "loan-application",
        1,
        CUSTOMER,
    )
    assert journey.data == {event.transition: event.payload for event in events}
    assert journey.created_at == events[0].at
    assert journey.updated_at == events[-1].at


async def _next_update(follower: Any) -> JourneyUpdate:
    # A cluster's pubsub reads shard channels with get_sharded_message; a standalone one with get_message.
    read = getattr(follower, "get_sharded_message", None) or follower.get_message
    async with asyncio.timeout(5):
        while True:
            message = await read(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and message["type"] == "smessage":
                return parse_update(message["data"])
