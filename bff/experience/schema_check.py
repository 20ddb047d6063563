"""JSON Schema 2020-12 checks of experience documents, each failure a `Problem` with its JSON Pointer.

The three schemas live in schemas/ so that UX teams can run them in their own
editors and pipelines. Messages and pointers are worded as for mini-program
manifests: the manifest module's explaining helpers are reused as they are,
so both audiences read the same sentences.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final, Literal

# No stubs are published with jsonschema; its objects are handled as Any below.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry, Resource

from bff.experience.problems import Problem

# Private to the manifest module, but exactly the wording wanted here (see the module docstring).
from bff.miniprograms.manifest import explain_schema_error
from bff.schema_patterns import validator_class

SCHEMA_DIRECTORY: Final = Path(__file__).resolve().parents[2] / "schemas"

DocumentKind = Literal["profile", "segments", "override"]

SCHEMA_FILES: Final[dict[DocumentKind, str]] = {
    "profile": "experience-profile.schema.json",
    "segments": "segment.schema.json",
    "override": "experience-override.schema.json",
}


def schema_problems(kind: DocumentKind, document: object) -> list[Problem]:
    """Every way `document` breaks the schema of its kind; problems carry no file name."""
    return [
        Problem("", problem.path, problem.message)
        for error in _validator(kind).iter_errors(document)
        for problem in explain_schema_error(error)
    ]


def schema_path(kind: DocumentKind) -> Path:
    """The schema file for a kind of document."""
    return SCHEMA_DIRECTORY / SCHEMA_FILES[kind]


@functools.cache
def _schemas() -> dict[DocumentKind, dict[str, Any]]:
    schemas: dict[DocumentKind, dict[str, Any]] = {}
    for kind in SCHEMA_FILES:
        schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        schemas[kind] = schema
    return schemas


@functools.cache
def _validator(kind: DocumentKind) -> Any:
    # The override schema refers to the profile schema's $defs by URI; the registry
    # resolves those references to the local files, never to the network.
    schemas = _schemas()
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    return validator_class()(schemas[kind], registry=registry)
