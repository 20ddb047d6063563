"""Experience files as the admin API carries them (JSON documents) and as they are stored (exact bytes).

A version is stored as the bytes of its files, so a rollback republishes
exactly what was published; documents sent over the API are written out the
way the shipped files are (two-space indent, UTF-8, final newline).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def encode_document(document: Any) -> bytes:
    """One file's bytes for a JSON document."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def files_from_documents(documents: Mapping[str, Any]) -> dict[str, bytes]:
    """{path: document} -> {path: bytes}, sorted by path."""
    return {name: encode_document(documents[name]) for name in sorted(documents)}


def documents_from_files(files: Mapping[str, bytes]) -> dict[str, Any]:
    """{path: bytes} -> {path: document}; the files must be JSON (every stored version's are)."""
    return {name: json.loads(raw) for name, raw in sorted(files.items())}
