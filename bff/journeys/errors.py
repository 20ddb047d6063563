"""The journeys domain's errors: one hierarchy, each class with the stable code clients see.

The GraphQL layer maps `JourneyError.code` to its error extensions in one place;
messages are for people and may change, codes may not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from bff.journeys.problems import Problem


class JourneyError(Exception):
    """A journey operation was refused or could not be done."""

    code: ClassVar[str] = "JOURNEY_ERROR"


class JourneyStoreUnavailable(JourneyError):
    """Redis did not answer in time; a mutation's outcome is unknown, so retry it with the same key."""

    code = "JOURNEY_STORE_UNAVAILABLE"


class JourneyStoreNotDurable(JourneyError):
    """The Redis behind the store would lose acknowledged transitions on a crash."""

    code = "JOURNEY_STORE_NOT_DURABLE"


class JourneyDefinitionError(JourneyError):
    """Journey definitions are refused; `problems` lists every reason with its file and JSON path."""

    code = "INVALID_JOURNEY_DEFINITION"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(set(problems), key=lambda p: (p.file, p.path, p.message)))
        count = len(self.problems)
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        super().__init__(f"journey definitions refused ({count} problem{'s' if count != 1 else ''}):{lines}")


class UnknownJourneyDefinition(JourneyError):
    code = "UNKNOWN_JOURNEY_DEFINITION"

    def __init__(self, definition: str) -> None:
        self.definition = definition
        super().__init__(f"there is no journey definition {definition!r}")


class JourneyNotFound(JourneyError):
    """No such journey: it never existed, or it expired (abandoned, or terminal and past retention)."""

    code = "JOURNEY_NOT_FOUND"

    def __init__(self, journey_id: str) -> None:
        self.journey_id = journey_id
        super().__init__(f"journey {journey_id!r} does not exist or has expired")


class UnknownTransition(JourneyError):
    code = "UNKNOWN_TRANSITION"

    def __init__(self, definition: str, transition: str, known: Iterable[str]) -> None:
        self.definition = definition
        self.transition = transition
        super().__init__(
            f"{definition} has no transition {transition!r} (it has: {', '.join(sorted(known))})"
        )


class TransitionForbidden(JourneyError):
    """The transition exists, but not for this channel or role."""

    code = "TRANSITION_FORBIDDEN"

    def __init__(
        self, transition: str, channel: str, role: str, channels: Iterable[str], roles: Iterable[str]
    ) -> None:
        self.transition = transition
        self.channel = channel
        self.role = role
        super().__init__(
            f"a {role} on the {channel} channel may not take {transition!r} "
            f"(allowed channels: {', '.join(sorted(channels))}; roles: {', '.join(sorted(roles))})"
        )


class TransitionNotAvailable(JourneyError):
    """The journey's current state is not one the transition leaves from."""

    code = "TRANSITION_NOT_AVAILABLE"

    def __init__(self, transition: str, state: str, from_states: Iterable[str]) -> None:
        self.transition = transition
        self.state = state
        super().__init__(
            f"{transition!r} cannot be taken in state {state!r} (only from: {', '.join(sorted(from_states))})"
        )


class JourneyTerminal(JourneyError):
    """The journey has ended; nothing more can happen to it."""

    code = "JOURNEY_TERMINAL"

    def __init__(self, journey_id: str, state: str) -> None:
        self.journey_id = journey_id
        self.state = state
        super().__init__(f"journey {journey_id!r} has ended in state {state!r}")


class VersionConflict(JourneyError):
    """Another transition landed first: reload the journey (at `current_version`) and decide again."""

    code = "VERSION_CONFLICT"

    def __init__(self, journey_id: str, expected_version: int, current_version: int) -> None:
        self.journey_id = journey_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"journey {journey_id!r} is at version {current_version}, not {expected_version}; "
            "reload it and try again"
        )


class IdempotencyKeyReused(JourneyError):
    """The idempotency key was already used for a different transition or payload."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, idempotency_key: str) -> None:
        self.idempotency_key = idempotency_key
        super().__init__(
            f"idempotency key {idempotency_key!r} was already used for another transition or payload; "
            "use a new key for a new request"
        )


class InvalidIdempotencyKey(JourneyError):
    code = "INVALID_IDEMPOTENCY_KEY"


class InvalidPayload(JourneyError):
    """The step's data breaks its schema; `problems` carry the JSON path of each field."""

    code = "INVALID_PAYLOAD"

    def __init__(self, transition: str, problems: Iterable[Problem]) -> None:
        self.transition = transition
        self.problems = tuple(sorted(set(problems)))
        details = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"the data for {transition!r} is refused: {details}")
