"""Why a journey definition or a step's payload is refused: each problem names a JSON path.

Paths are JSONPath expressions as jsonschema writes them (`$.transitions['add-income'].roles[0]`,
`$.employment.kind`); `$` is the document as a whole. A missing key is reported at
the path it should have had, an unknown key at its own path, so that a form can put
the message next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a document is refused; `file` is empty for a payload."""

    path: str
    message: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file} {self.path}" if self.file else self.path
        return f"{where}: {self.message}"


def json_path(parts: Sequence[str | int]) -> str:
    """The JSONPath of the value reached by `parts` from the document root."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return text


def explain(error: Any) -> list[Problem]:
    """Turn one jsonschema ValidationError into problems placed at the field they concern."""
    path = list(error.absolute_path)
    keyword = error.validator
    if "propertyNames" in error.relative_schema_path:  # the key itself is wrong, not its value
        return [Problem(json_path([*path, error.instance]), f"key {error.message}")]
    if keyword == "additionalProperties" and error.validator_value is False:
        allowed = list(error.schema.get("properties", {}))
        return [
            Problem(json_path([*path, key]), f"unknown key {key!r} (allowed: {', '.join(allowed)})")
            for key in error.instance
            if key not in allowed
        ]
    if keyword == "required":
        return [
            Problem(json_path([*path, key]), f"required key {key!r} is missing")
            for key in error.validator_value
            if key not in error.instance
        ]
    return [Problem(json_path(path), str(error.message))]
