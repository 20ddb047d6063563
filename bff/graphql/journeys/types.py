"""Journeys for the app and for employees: state, history, messages, problems as data, handoff codes."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from bff.journeys.customer_journeys import JourneyMessage as MessageRecord
from bff.journeys.errors import InvalidPayload, JourneyError, VersionConflict
from bff.journeys.handoff import Handoff as HandoffRecord
from bff.journeys.records import Journey as JourneyRecord
from bff.journeys.records import JourneyEvent as EventRecord


@strawberry.enum(description="Where a journey step is taken.")
class JourneyChannel(enum.Enum):
    APP = "app"
    WEB = "web"
    MINI_PROGRAM = "mini_program"
    BRANCH = "branch"
    CALL_CENTRE = "call_centre"


@strawberry.enum(description="The part an employee plays (their token must carry the scope journeys:<role>).")
class EmployeeRole(enum.Enum):
    TELLER = "teller"
    APPROVER = "approver"


@strawberry.type(description="One step taken: the audit log of the journey.")
class JourneyEvent:
    journey_id: str
    version: int
    transition: str
    from_state: str | None
    to_state: str
    channel: str
    role: str
    payload: JSON
    at: datetime

    @classmethod
    def of(cls, event: EventRecord) -> JourneyEvent:
        return cls(
            journey_id=event.journey_id,
            version=event.version,
            transition=event.transition,
            from_state=event.from_state,
            to_state=event.to_state,
            channel=event.actor.channel.value,
            role=event.actor.role.value,
            payload=dict(event.payload),  # type: ignore[arg-type]  # JSON is a NewType over object
            at=event.at,
        )


@strawberry.type
class JourneyMessage:
    id: str
    sender_role: str
    body: str
    at: datetime

    @classmethod
    def of(cls, message: MessageRecord) -> JourneyMessage:
        return cls(id=message.id, sender_role=message.sender_role, body=message.body, at=message.at)


@strawberry.type(description="A customer journey as it is now.")
class Journey:
    id: str
    definition: str
    state: str
    version: int
    terminal: bool
    member_bank: str
    customer: str
    data: JSON
    created_at: datetime
    updated_at: datetime
    history: list[JourneyEvent] = strawberry.field(description="Every step, oldest first.")
    messages: list[JourneyMessage]

    @classmethod
    def of(cls, journey: JourneyRecord, events: list[EventRecord], messages: list[MessageRecord]) -> Journey:
        return cls(
            id=journey.id,
            definition=journey.definition,
            state=journey.state,
            version=journey.version,
            terminal=journey.terminal,
            member_bank=journey.member_bank,
            customer=journey.customer,
            data=dict(journey.data),  # type: ignore[arg-type]
            created_at=journey.created_at,
            updated_at=journey.updated_at,
            history=[JourneyEvent.of(e) for e in events],
            messages=[JourneyMessage.of(m) for m in messages],
        )


@strawberry.type
class PayloadProblem:
    path: str = strawberry.field(description="JSONPath of the field, e.g. $.employment.kind")
    message: str


@strawberry.type(description="Why the step was refused; `code` is stable, the message is for people.")
class JourneyProblem:
    code: str
    message: str
    current_version: int | None
    problems: list[PayloadProblem]

    @classmethod
    def of(cls, error: JourneyError) -> JourneyProblem:
        problems = [PayloadProblem(path=p.path, message=p.message) for p in getattr(error, "problems", ())]
        current = error.current_version if isinstance(error, VersionConflict) else None
        if isinstance(error, InvalidPayload) and not problems:
            problems = [PayloadProblem(path="$", message=str(error))]
        return cls(code=error.code, message=str(error), current_version=current, problems=problems)


@strawberry.type(
    description="A one-time code carrying the journey to another channel (show it as a QR code)."
)
class Handoff:
    code: str
    qr_payload: str
    channel: str
    expires_at: datetime

    @classmethod
    def of(cls, handoff: HandoffRecord) -> Handoff:
        return cls(
            code=handoff.code,
            qr_payload=handoff.qr_payload,
            channel=handoff.channel.value,
            expires_at=datetime.fromtimestamp(handoff.expires_at, UTC),
        )


JourneyResult = Annotated[Journey | JourneyProblem, strawberry.union("JourneyResult")]
HandoffResult = Annotated[Handoff | JourneyProblem, strawberry.union("HandoffResult")]
MessageResult = Annotated[JourneyMessage | JourneyProblem, strawberry.union("MessageResult")]
