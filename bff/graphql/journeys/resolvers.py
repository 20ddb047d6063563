"""Journey queries, mutations and the `journeyUpdated` subscription.

Who may do what: a customer reads and advances their own journeys (as the
customer role); an employee (token role `employee`) reads journeys of their
own member bank and advances them as teller or approver when their token
carries the scope `journeys:teller` / `journeys:approver`. The journey
definition then decides which channels and roles may take each transition.
Refusals of the journey domain come back as `JourneyProblem` in data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from bff.auth.principal import Principal, Role
from bff.graphql.context import RequestContext
from bff.graphql.exceptions import Forbidden, ObjectNotFound
from bff.graphql.journeys.types import (
    EmployeeRole,
    Handoff,
    HandoffResult,
    Journey,
    JourneyChannel,
    JourneyEvent,
    JourneyMessage,
    JourneyProblem,
    JourneyResult,
    MessageResult,
)
from bff.journeys.actors import Actor, Channel, JourneyRole
from bff.journeys.errors import JourneyError, JourneyNotFound
from bff.journeys.records import Journey as JourneyRecord
from bff.journeys.services import JourneyServices
from bff.journeys.updates import follow

Info = strawberry.Info[RequestContext, Any]


def _services(info: Info) -> JourneyServices:
    services = info.context.journeys
    if services is None:
        raise Forbidden("journeys are not enabled on this server")
    return services


def _actor(principal: Principal, channel: JourneyChannel, role: EmployeeRole | None) -> Actor:
    if role is None:
        if principal.customer_scope is None:
            raise Forbidden("employees say which role they act in (role: TELLER or APPROVER)")
        return Actor(Channel(channel.value), JourneyRole.CUSTOMER, principal.subject)
    if not principal.has(Role.EMPLOYEE) or f"journeys:{role.value}" not in principal.scopes:
        raise Forbidden(
            f"acting as {role.value} needs an employee token with the scope journeys:{role.value}"
        )
    return Actor(Channel(channel.value), JourneyRole(role.value), principal.subject)


def _may_read(principal: Principal, journey: JourneyRecord) -> bool:
    customer = principal.customer_scope
    if customer is not None and (customer.customer_id, customer.member_bank) == (
        journey.customer,
        journey.member_bank,
    ):
        return True
    return principal.has(Role.EMPLOYEE) and principal.member_bank == journey.member_bank


async def _readable(services: JourneyServices, principal: Principal, journey_id: str) -> JourneyRecord:
    try:
        journey = await services.store.get(journey_id)
    except JourneyNotFound:
        journey = None
    if journey is None or not _may_read(principal, journey):
        # The same answer for someone else's journey: ids are not a way to probe.
        raise ObjectNotFound(f"no journey {journey_id!r} of yours")
    return journey


async def _view(services: JourneyServices, journey: JourneyRecord) -> Journey:
    events, messages = await asyncio.gather(
        services.store.events_after(journey.id, 0), services.customers.messages(journey.id)
    )
    return Journey.of(journey, events, messages)


async def journey(info: Info, id: strawberry.ID) -> Journey:
    services = _services(info)
    return await _view(services, await _readable(services, info.context.principal, str(id)))


async def journeys(info: Info, waiting_for: EmployeeRole | None = None, first: int = 20) -> list[Journey]:
    services, principal = _services(info), info.context.principal
    first = max(1, min(first, 50))
    if waiting_for is not None:
        if not principal.has(Role.EMPLOYEE):
            raise Forbidden("work queues are for employees")
        found = await services.store.waiting(
            principal.member_bank, JourneyRole(waiting_for.value), limit=first
        )
    else:
        customer = info.context.customer()
        found = await services.customers.of_customer(customer.member_bank, customer.customer_id, first)
    return list(await asyncio.gather(*(_view(services, j) for j in found)))


async def start_journey(
    info: Info,
    definition: str,
    payload: strawberry.scalars.JSON,
    idempotency_key: str,
    channel: JourneyChannel = JourneyChannel.APP,
) -> JourneyResult:
    services, principal = _services(info), info.context.principal
    customer = info.context.customer()
    try:
        event = await services.store.start(
            definition,
            member_bank=customer.member_bank,
            customer=customer.customer_id,
            actor=_actor(principal, channel, None),
            payload=_object(payload),
            idempotency_key=idempotency_key,
        )
        started = await services.store.get(event.journey_id)
        await services.customers.remember(started)
        return await _view(services, started)
    except JourneyError as error:
        return JourneyProblem.of(error)


async def advance_journey(
    info: Info,
    id: strawberry.ID,
    transition: str,
    payload: strawberry.scalars.JSON,
    expected_version: int,
    idempotency_key: str,
    channel: JourneyChannel = JourneyChannel.APP,
    role: EmployeeRole | None = None,
) -> JourneyResult:
    services, principal = _services(info), info.context.principal
    actor = _actor(principal, channel, role)
    try:
        await _readable(services, principal, str(id))
        event = await services.store.advance(
            str(id),
            transition,
            expected_version=expected_version,
            actor=actor,
            payload=_object(payload),
            idempotency_key=idempotency_key,
        )
        return await _view(services, await services.store.get(event.journey_id))
    except JourneyError as error:
        return JourneyProblem.of(error)


async def create_handoff(info: Info, journey_id: strawberry.ID, channel: JourneyChannel) -> HandoffResult:
    services, principal = _services(info), info.context.principal
    try:
        journey = await _readable(services, principal, str(journey_id))
        made = await services.handoffs.create(
            journey.id, Channel(channel.value), journey.member_bank, principal.subject
        )
        return Handoff.of(made)
    except JourneyError as error:
        return JourneyProblem.of(error)


async def redeem_handoff(info: Info, code: str, channel: JourneyChannel) -> JourneyResult:
    services, principal = _services(info), info.context.principal
    try:
        redeemed = await services.handoffs.redeem(
            code, Channel(channel.value), principal.member_bank, principal.subject
        )
        return await _view(services, await _readable(services, principal, redeemed.journey_id))
    except JourneyError as error:
        return JourneyProblem.of(error)


async def send_journey_message(info: Info, journey_id: strawberry.ID, body: str) -> MessageResult:
    services, principal = _services(info), info.context.principal
    try:
        journey = await _readable(services, principal, str(journey_id))
        role = "customer" if principal.customer_scope is not None else "employee"
        return JourneyMessage.of(await services.customers.send(journey.id, role, principal.subject, body))
    except JourneyError as error:
        return JourneyProblem.of(error)


async def journey_updated(
    info: Info, id: strawberry.ID, since_version: int = 0
) -> AsyncGenerator[JourneyEvent, None]:
    services = _services(info)
    await _readable(services, info.context.principal, str(id))
    async for event in follow(services.redis, services.store, str(id), since_version):
        yield JourneyEvent.of(event)


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise JourneyPayloadNotObject()
    return payload


class JourneyPayloadNotObject(JourneyError):
    code = "INVALID_PAYLOAD"

    def __init__(self) -> None:
        super().__init__("send the step's data as a JSON object")
