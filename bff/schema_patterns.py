"""JSON Schema `pattern` read as ECMA-262 reads it: manifests, experience files, journey definitions and payloads.

jsonschema applies `pattern` with Python's re.search, where `$` also matches
before a final newline: "80000.00\\n" would pass `^[0-9]+\\.[0-9]{2}$`. JSON
Schema patterns are ECMA-262 regular expressions, whose `$` does not, so a
final `$` is read as `\\Z`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

# No stubs are published with jsonschema; its objects are handled as Any below.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped, unused-ignore]
from jsonschema.validators import extend  # type: ignore[import-untyped, unused-ignore]


@functools.cache
def validator_class() -> Any:
    """Draft 2020-12 with the ECMA-262 reading of `pattern`."""
    return extend(Draft202012Validator, validators={"pattern": _pattern_to_the_end})


def _pattern_to_the_end(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)
