"""The shipped experience files, and small edits of them for tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bff.experience.loading import ExperienceSet, parse_experience_set
from bff.experience.problems import ExperienceError, Problem

EXPERIENCE = Path(__file__).resolve().parents[2] / "experience"


def shipped_files() -> dict[str, bytes]:
    """Every shipped experience file, by path relative to experience/."""
    return {
        path.relative_to(EXPERIENCE).as_posix(): path.read_bytes()
        for path in sorted(EXPERIENCE.rglob("*.json"))
    }


def shipped(name: str) -> dict[str, Any]:
    """One shipped document, parsed (a fresh copy each time)."""
    document: dict[str, Any] = json.loads((EXPERIENCE / name).read_bytes())
    return document


def files_with(**documents: Any) -> dict[str, bytes]:
    """The shipped files with some documents replaced or added (None removes one).

    Keyword names are file paths with '/' written as '__' and '.json' left out:
    `profiles__elder=...` is profiles/elder.json, `segments=...` is segments.json.
    """
    files = shipped_files()
    for key, document in documents.items():
        name = key.replace("__", "/") + ".json"
        if document is None:
            del files[name]
        else:
            files[name] = json.dumps(document, ensure_ascii=False).encode()
    return files


def load_with(**documents: Any) -> ExperienceSet:
    return parse_experience_set(files_with(**documents))


def problems_of(files: dict[str, bytes]) -> list[Problem]:
    with pytest.raises(ExperienceError) as caught:
        parse_experience_set(files)
    return list(caught.value.problems)


def _walk(document: Any, pointer: str) -> tuple[Any, str | int]:
    """The container of the value at `pointer` and its key there."""
    *parents, last = pointer.split("/")[1:]
    for part in parents:
        document = document[int(part) if isinstance(document, list) else part]
    return document, int(last) if isinstance(document, list) and last != "-" else last


def replaced(document: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A copy of `document` with `value` at `pointer` ('-' appends to an array)."""
    document = copy.deepcopy(document)
    container, key = _walk(document, pointer)
    if key == "-":
        container.append(value)
    else:
        container[key] = value
    return document


def removed(document: dict[str, Any], pointer: str) -> dict[str, Any]:
    """A copy of `document` without the value at `pointer`."""
    document = copy.deepcopy(document)
    container, key = _walk(document, pointer)
    del container[key]
    return document
