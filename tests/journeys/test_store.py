"""The journey store's promises, each on a standalone Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.errors import (
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    InvalidPayload,
    JourneyNotFound,
    TransitionForbidden,
    TransitionNotAvailable,
    UnknownJourneyDefinition,
    UnknownTransition,
    VersionConflict,
)
from bff.journeys.keys import journey_keys
from bff.journeys.problems import Problem
from bff.journeys.records import JourneyEvent
from bff.journeys.store import JourneyStore
from bff.journeys.waiting import WaitingIndex
from tests.journeys.backends import Backend
from tests.journeys.scenario import APP, APPROVER, CUSTOMER, INCOME, LOAN, WEB, new_key

CALL_CENTRE_CUSTOMER = Actor(Channel.CALL_CENTRE, JourneyRole.CUSTOMER, CUSTOMER)


async def start_loan(store: JourneyStore, member_bank: str) -> JourneyEvent:
    return await store.start(
        "loan-application",
        member_bank=member_bank,
        customer=CUSTOMER,
        actor=APP,
        payload=LOAN,
        idempotency_key=new_key(),
    )


async def advance(
    store: JourneyStore, event: JourneyEvent, transition: str, payload: Any, **options: Any
) -> JourneyEvent:
    options = {"expected_version": event.version, "actor": APP, "idempotency_key": new_key(), **options}
    return await store.advance(event.journey_id, transition, payload=payload, **options)


async def test_fifty_concurrent_advances_on_one_version_have_exactly_one_winner(
    backend: Backend, member_bank: str
) -> None:
    started = await start_loan(backend.store, member_bank)
    outcomes = await asyncio.gather(
        *(advance(backend.store, started, "update-details", {"termMonths": 12 + n}) for n in range(50)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, JourneyEvent)]
    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    assert (len(winners), len(conflicts)) == (1, 49)
    assert {(c.code, c.expected_version, c.current_version) for c in conflicts} == {
        ("VERSION_CONFLICT", 1, 2)
    }
    assert "at version 2, not 1" in str(conflicts[0])
    journey = await backend.store.get(started.journey_id)
    assert journey.version == 2
    assert journey.data["update-details"] == winners[0].payload


async def test_repeated_idempotency_key_returns_first_result(backend: Backend, member_bank: str) -> None:
    started = await start_loan(backend.store, member_bank)
    key = new_key()
    concurrent = await asyncio.gather(
        *(advance(backend.store, started, "provide-income", INCOME, idempotency_key=key) for _ in range(10))
    )
    # The journey moves on; a late retry of the same request still gets its first answer.
    await advance(backend.store, concurrent[0], "submit", {"consentToCreditCheck": True})
    later = [
        await advance(backend.store, started, "provide-income", INCOME, idempotency_key=key)
        for _ in range(10)
    ]
    answers = [*concurrent, *later]
    assert len(answers) == 20
    assert all(answer == answers[0] for answer in answers)
    events = await backend.store.events_after(started.journey_id, 0)
    assert Counter(event.idempotency_key for event in events)[key] == 1
    assert [event.transition for event in events] == ["start", "provide-income", "submit"]


async def test_repeated_start_returns_the_same_journey(backend: Backend, member_bank: str) -> None:
    key = new_key()
    options: dict[str, Any] = {
        "member_bank": member_bank,
        "customer": CUSTOMER,
        "actor": APP,
        "idempotency_key": key,
    }
    answers = await asyncio.gather(
        *(backend.store.start("loan-application", payload=LOAN, **options) for _ in range(20))
    )
    assert all(answer == answers[0] for answer in answers)
    assert len(await backend.store.events_after(answers[0].journey_id, 0)) == 1
    with pytest.raises(IdempotencyKeyReused):
        await backend.store.start("loan-application", payload={**LOAN, "termMonths": 36}, **options)


async def test_idempotency_key_reused_with_another_payload_or_transition_is_refused(
    backend: Backend, member_bank: str
) -> None:
    started = await start_loan(backend.store, member_bank)
    key = new_key()
    first = await advance(backend.store, started, "update-details", {"termMonths": 12}, idempotency_key=key)
    with pytest.raises(IdempotencyKeyReused) as refused:
        await advance(backend.store, started, "update-details", {"termMonths": 13}, idempotency_key=key)
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    with pytest.raises(IdempotencyKeyReused):
        await advance(backend.store, first, "provide-income", INCOME, idempotency_key=key)
    # Key order does not matter: the payload is compared in canonical form.
    same = {"employment": {"since": "2015-03-01", "kind": "farmer"}, "monthlyIncome": "6500.00"}
    again = await advance(backend.store, first, "provide-income", INCOME, idempotency_key="k-canonical")
    assert await advance(backend.store, first, "provide-income", same, idempotency_key="k-canonical") == again


async def test_channel_or_role_not_allowed_is_refused(backend: Backend, member_bank: str) -> None:
    started = await start_loan(backend.store, member_bank)
    ready = await advance(backend.store, started, "provide-income", INCOME)
    with pytest.raises(TransitionForbidden) as by_phone:
        await advance(
            backend.store, ready, "submit", {"consentToCreditCheck": True}, actor=CALL_CENTRE_CUSTOMER
        )
    assert (by_phone.value.code, by_phone.value.channel, by_phone.value.role) == (
        "TRANSITION_FORBIDDEN",
        "call_centre",
        "customer",
    )
    assert "allowed channels: app, branch, mini_program, web" in str(by_phone.value)
    submitted = await advance(backend.store, ready, "submit", {"consentToCreditCheck": True})
    with pytest.raises(TransitionForbidden, match="a customer on the app channel may not take 'approve'"):
        await advance(backend.store, submitted, "approve", {"annualRatePercent": "4.35"}, actor=APP)
    with pytest.raises(TransitionForbidden):
        await backend.store.start(
            "account-opening",
            member_bank=member_bank,
            customer=CUSTOMER,
            actor=CALL_CENTRE_CUSTOMER,
            payload={"accountType": "savings", "currency": "CNY"},
            idempotency_key=new_key(),
        )
    assert (await backend.store.get(started.journey_id)).version == 3


async def test_unknown_transition_journey_or_definition_is_refused(
    backend: Backend, member_bank: str
) -> None:
    started = await start_loan(backend.store, member_bank)
    with pytest.raises(UnknownTransition, match="loan-application has no transition 'fly'") as unknown:
        await advance(backend.store, started, "fly", {})
    assert unknown.value.code == "UNKNOWN_TRANSITION"
    with pytest.raises(JourneyNotFound) as missing:
        await backend.store.advance(
            "no-such-journey", "submit", expected_version=1, actor=APP, payload={}, idempotency_key=new_key()
        )
    assert missing.value.code == "JOURNEY_NOT_FOUND"
    with pytest.raises(JourneyNotFound):
        await backend.store.get("no-such-journey")
    with pytest.raises(JourneyNotFound):
        await backend.store.events_after("no-such-journey", 0)
    with pytest.raises(UnknownJourneyDefinition) as no_definition:
        await backend.store.start(
            "mortgage",
            member_bank=member_bank,
            customer=CUSTOMER,
            actor=APP,
            payload={},
            idempotency_key=new_key(),
        )
    assert no_definition.value.code == "UNKNOWN_JOURNEY_DEFINITION"


async def test_payload_errors_name_each_field_by_json_path(backend: Backend, member_bank: str) -> None:
    started = await start_loan(backend.store, member_bank)
    payload = {"employment": {"kind": "astronaut", "since": "2015-13-01", "shoeSize": 44}}
    with pytest.raises(InvalidPayload) as refused:
        await advance(backend.store, started, "provide-income", payload)
    assert refused.value.code == "INVALID_PAYLOAD"
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("$.employment.kind", "'astronaut' is not one of ['employed', 'self-employed', 'farmer', 'retired']"),
        ("$.employment.shoeSize", "unknown key 'shoeSize' (allowed: kind, employer, since)"),
        ("$.employment.since", "'2015-13-01' is not a 'date'"),
        ("$.monthlyIncome", "required key 'monthlyIncome' is missing"),
    ]
    with pytest.raises(InvalidPayload) as in_a_list:
        await backend.store.start(
            "loan-application",
            member_bank=member_bank,
            customer=CUSTOMER,
            actor=APP,
            payload={**LOAN, "amount": "80000"},
            idempotency_key=new_key(),
        )
    assert [p.path for p in in_a_list.value.problems] == ["$.amount"]
    # A pattern's final $ is the end of the string, as in ECMA-262: no trailing newline slips through.
    with pytest.raises(InvalidPayload, match=r"\$\.amount: .80000\.00\\n. does not match"):
        await backend.store.start(
            "loan-application",
            member_bank=member_bank,
            customer=CUSTOMER,
            actor=APP,
            payload={**LOAN, "amount": "80000.00\n"},
            idempotency_key=new_key(),
        )
    with pytest.raises(InvalidPayload) as not_json:
        await advance(backend.store, started, "update-details", {"termMonths": float("nan")})
    assert not_json.value.problems[0].path == "$"
    assert (await backend.store.get(started.journey_id)).version == 1


async def test_transition_not_leaving_from_the_current_state_is_refused(
    backend: Backend, member_bank: str
) -> None:
    started = await start_loan(backend.store, member_bank)
    with pytest.raises(TransitionNotAvailable) as refused:
        await advance(backend.store, started, "submit", {"consentToCreditCheck": True})
    assert (refused.value.code, refused.value.state) == ("TRANSITION_NOT_AVAILABLE", "draft")
    assert "only from: income-provided" in str(refused.value)


async def test_invalid_idempotency_key_is_refused(backend: Backend, member_bank: str) -> None:
    started = await start_loan(backend.store, member_bank)
    for key in ("", "has space", "x" * 129):
        with pytest.raises(InvalidIdempotencyKey):
            await advance(backend.store, started, "update-details", {"termMonths": 12}, idempotency_key=key)


async def test_events_after_a_version_come_back_in_order(backend: Backend, member_bank: str) -> None:
    event = await start_loan(backend.store, member_bank)
    made = [event]
    for months in range(12, 32):
        event = await advance(backend.store, event, "update-details", {"termMonths": months})
        made.append(event)
    replay = await backend.store.events_after(event.journey_id, 5)
    assert replay == made[5:]
    assert [e.version for e in replay] == list(range(6, 22))
    assert await backend.store.events_after(event.journey_id, 5, limit=3) == made[5:8]
    assert await backend.store.events_after(event.journey_id, 21) == []


async def test_each_transition_refreshes_expiry_and_an_ended_journey_is_kept_for_retention(
    backend: Backend, member_bank: str
) -> None:
    definition = backend.store.definitions["loan-application"]
    started = await start_loan(backend.store, member_bank)
    keys = journey_keys(started.journey_id)
    for key in keys.script_keys:
        assert definition.time_to_live_s - 5 < await backend.redis.ttl(key) <= definition.time_to_live_s
        await backend.redis.expire(key, 100)  # as if the journey had been idle almost all its time
    draft = await advance(backend.store, started, "update-details", {"termMonths": 12})
    for key in keys.script_keys:
        assert await backend.redis.ttl(key) > definition.time_to_live_s - 5
    await advance(backend.store, draft, "withdraw", {"reason": "found a cheaper loan"})
    for key in keys.script_keys:
        assert (
            definition.terminal_retention_s - 5
            < await backend.redis.ttl(key)
            <= definition.terminal_retention_s
        )


async def test_work_queue_lists_only_journeys_really_waiting(backend: Backend, member_bank: str) -> None:
    store, queues = backend.store, WaitingIndex(backend.redis)
    ready = await advance(store, await start_loan(store, member_bank), "provide-income", INCOME)
    await advance(store, ready, "provide-income", INCOME, actor=WEB)
    # The submit that lost the race had already put the journey in the approvers' queue (step 1).
    with pytest.raises(VersionConflict):
        await advance(store, ready, "submit", {"consentToCreditCheck": True})
    assert await queues.entries(member_bank, JourneyRole.APPROVER, 0, 10) == [(ready.journey_id, 3)]
    assert await store.waiting(member_bank, JourneyRole.APPROVER) == []
    assert await queues.entries(member_bank, JourneyRole.APPROVER, 0, 10) == []

    other = await advance(store, await start_loan(store, member_bank), "provide-income", INCOME)
    submitted = await advance(store, other, "submit", {"consentToCreditCheck": True})
    assert [j.id for j in await store.waiting(member_bank, JourneyRole.APPROVER)] == [submitted.journey_id]
    await advance(store, submitted, "approve", {"annualRatePercent": "4.35"}, actor=APPROVER)
    assert await store.waiting(member_bank, JourneyRole.APPROVER) == []


async def test_work_queue_entry_left_behind_by_a_crash_is_dropped_and_repairable(
    backend: Backend, member_bank: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, queues = backend.store, WaitingIndex(backend.redis)
    ready = await advance(store, await start_loan(store, member_bank), "provide-income", INCOME)
    submitted = await advance(store, ready, "submit", {"consentToCreditCheck": True})

    async def crash(*args: Any) -> int:
        raise ConnectionError("Redis went away before step 2")

    with monkeypatch.context() as patched:
        patched.setattr(WaitingIndex, "leave", crash)
        # The transition is applied and acknowledged; only the queue is left behind.
        approved = await advance(store, submitted, "approve", {"annualRatePercent": "4.35"}, actor=APPROVER)
    assert approved.to_state == "approved"
    assert await queues.entries(member_bank, JourneyRole.APPROVER, 0, 10) == [(submitted.journey_id, 3)]
    assert await store.waiting(member_bank, JourneyRole.APPROVER) == []  # never listed, and dropped
    assert await queues.entries(member_bank, JourneyRole.APPROVER, 0, 10) == []

    # A queue entry lost altogether (say, the bank's queue restored from an older backup) is rebuilt.
    again = await advance(store, await start_loan(store, member_bank), "provide-income", INCOME)
    waiting = await advance(store, again, "submit", {"consentToCreditCheck": True})
    await queues.leave(member_bank, [JourneyRole.APPROVER], waiting.journey_id, 10**6)
    assert await store.waiting(member_bank, JourneyRole.APPROVER) == []
    await store.repair_waiting(waiting.journey_id)
    assert [j.id for j in await store.waiting(member_bank, JourneyRole.APPROVER)] == [waiting.journey_id]


def test_problem_reads_as_path_and_message() -> None:
    assert str(Problem("$.amount", "must be a string")) == "$.amount: must be a string"
