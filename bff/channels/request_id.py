"""The request id of the inbound request, carried to every downstream call."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def request_id() -> str:
    """The inbound request's id, or a fresh one for work outside a request."""
    found = current_request_id.get()
    return found if found is not None else uuid.uuid4().hex
