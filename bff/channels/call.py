"""What an adapter asks the client for (`Call`) and what it gets back (`Reply`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson


class MalformedBody(ValueError):
    """A decoder found a body it cannot read; the client turns it into a ChannelFailure."""


@dataclass(frozen=True, slots=True)
class Call:
    """One logical downstream request.

    `idempotent` decides whether the client may retry it (on another data
    centre too): true for reads and for writes made safe by an idempotency key.
    """

    method: str
    path: str
    operation: str
    idempotent: bool
    params: Mapping[str, str] | None = None
    json: Any = None
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] | None = None

    def payload(self) -> tuple[bytes | None, str | None]:
        if self.json is not None:
            return orjson.dumps(self.json), "application/json"
        return self.body, self.content_type


@dataclass(frozen=True, slots=True)
class Reply:
    """A downstream answer that was not a transport failure or a 5xx."""

    service: str
    data_centre: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedBody(f"body is not JSON: {exc}") from exc
