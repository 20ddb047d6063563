"""Why a change to the published experience is refused, by code; the admin API maps each code to a status.

Invalid experience data is not here: that is `problems.ExperienceError`, which
lists every problem with its file and JSON Pointer.
"""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    VERSION_CONFLICT = "VERSION_CONFLICT"
    PRECONDITION_REQUIRED = "PRECONDITION_REQUIRED"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    ROLLBACK_NOT_EARLIER = "ROLLBACK_NOT_EARLIER"
    SEGMENT_NOT_FOUND = "SEGMENT_NOT_FOUND"
    SCHEDULE_NOT_FOUND = "SCHEDULE_NOT_FOUND"
    SCHEDULE_NOT_PENDING = "SCHEDULE_NOT_PENDING"
    SCHEDULE_IN_PAST = "SCHEDULE_IN_PAST"
    NO_EXPERIENCE = "NO_EXPERIENCE"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"


class ExperienceRefused(Exception):
    """A refused change; `current_version` is set when the refusal is about it (VERSION_CONFLICT)."""

    def __init__(self, code: RefusalCode, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.current_version = current_version


def version_conflict(expected: int, current: int) -> ExperienceRefused:
    return ExperienceRefused(
        RefusalCode.VERSION_CONFLICT,
        f"the current version is {current}, not {expected}: another change was published meanwhile; "
        f'read version {current} (its ETag is "{current}"), review the difference and send it again',
        current_version=current,
    )
