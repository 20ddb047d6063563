"""The JSON Schema 2020-12 check of a journey definition document (schemas/journey-definition.schema.json)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final

# No stubs are published with jsonschema; its objects are handled as Any below.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from bff.journeys.problems import Problem, explain
from bff.schema_patterns import validator_class

SCHEMA_PATH: Final = Path(__file__).resolve().parents[2] / "schemas" / "journey-definition.schema.json"


def schema_problems(document: object) -> list[Problem]:
    """Every way `document` breaks the definition schema, each at its JSON path."""
    return [problem for error in _validator().iter_errors(document) for problem in explain(error)]


@functools.cache
def _validator() -> Any:
    # The payload fragments are checked against the 2020-12 meta-schema by $ref; jsonschema
    # resolves that URI from its bundled copy, never from the network.
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return validator_class()(schema)
