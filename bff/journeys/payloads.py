"""A step's data: checked against the step's JSON Schema, and hashed in canonical form for idempotency."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from bff.journeys.problems import Problem, explain
from bff.schema_patterns import validator_class

# A journey is kept whole in one Redis hash and its events in one stream: a step carries
# form data and document references, never the documents themselves.
MAX_PAYLOAD_BYTES: Final = 64 * 1024


def compile_payload_schema(schema: Mapping[str, Any]) -> Any:
    """A validator for one step's payload schema (formats such as `date` are checked too)."""
    cls = validator_class()
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def payload_problems(validator: Any, payload: object) -> list[Problem]:
    """Every way `payload` breaks its step's schema, each at its JSON path; [] when it is valid."""
    try:
        size = len(canonical_json(payload))
    except ValueError as exc:
        return [Problem("$", f"is not JSON data: {exc}")]
    if size > MAX_PAYLOAD_BYTES:
        return [Problem("$", f"must be at most {MAX_PAYLOAD_BYTES} bytes of JSON (it has {size})")]
    return [problem for error in validator.iter_errors(payload) for problem in explain(error)]


def canonical_json(value: object) -> str:
    """`value` as JSON with sorted keys and no spaces, so equal data gives equal text."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def request_hash(transition: str, payload: object) -> str:
    """What an idempotency key is bound to: the transition and its canonical payload."""
    text = canonical_json({"transition": transition, "payload": payload})
    return hashlib.sha256(text.encode()).hexdigest()


def outside_references(schema: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Paths of `$ref`s that leave the schema: a payload is checked offline, against itself only."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str) and not value.startswith("#"):
                yield (*path, key)
            else:
                yield from outside_references(value, (*path, key))
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from outside_references(item, (*path, index))
