"""Who takes a transition and from where: channels, journey roles and the actor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """Where a transition comes from; the same words as experience segments use for channels."""

    APP = "app"
    WEB = "web"
    MINI_PROGRAM = "mini_program"
    BRANCH = "branch"
    CALL_CENTRE = "call_centre"


class JourneyRole(StrEnum):
    """The part someone plays in a journey (not an access-token role: tellers and approvers are employees)."""

    CUSTOMER = "customer"
    TELLER = "teller"
    APPROVER = "approver"


EMPLOYEE_ROLES = frozenset({JourneyRole.TELLER, JourneyRole.APPROVER})


@dataclass(frozen=True, slots=True)
class Actor:
    """The person taking a transition: a customer id or an employee id, with channel and role."""

    channel: Channel
    role: JourneyRole
    id: str

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > 200:
            raise ValueError("an actor id must have 1 to 200 characters")
