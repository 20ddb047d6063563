"""The channel layer's errors: one failure type for every way a call can break.

`ChannelFailure` means "the service could not answer" (timeout, 5xx, reset,
malformed body, breaker open, ...); the GraphQL layer maps it to
DOWNSTREAM_UNAVAILABLE. `ChannelRejected` means the service answered and said
no for a business reason (not found, insufficient funds); it is data, not an
outage, and never trips a breaker.
"""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    TIMEOUT = "timeout"
    CONNECT = "connect_failed"
    RESET = "connection_reset"
    SERVER_ERROR = "server_error"
    MALFORMED = "malformed_body"
    BREAKER_OPEN = "breaker_open"
    BULKHEAD_FULL = "bulkhead_full"
    UNAUTHORIZED = "unauthorized"
    UNEXPECTED_STATUS = "unexpected_status"


class ChannelError(Exception):
    """Base of everything the channel layer raises."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service


class ChannelFailure(ChannelError):
    """The service (in `data_centre`, or "*" when none was tried) did not answer usably."""

    def __init__(
        self,
        service: str,
        data_centre: str,
        reason: FailureReason,
        detail: str = "",
        status: int | None = None,
    ) -> None:
        text = f"{service} ({data_centre}) unavailable: {reason.value}"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(service, text)
        self.data_centre = data_centre
        self.reason = reason
        self.detail = detail
        self.status = status


class ChannelRejected(ChannelError):
    """The service refused the request for a business reason, with its own code."""

    def __init__(self, service: str, code: str, message: str, status: int | None = None) -> None:
        super().__init__(service, f"{service} rejected the request: {code}: {message}")
        self.code = code
        self.reason_text = message
        self.status = status


class NotFound(ChannelRejected):
    """The object does not exist, or does not belong to the customer asking."""
