"""JSON documents people review and sign (manifests, experience files): one meaning or a clear refusal.

Stricter than `json.loads`: a duplicated key, NaN/Infinity and lone surrogate
escapes are refused, because another parser could read such a document
differently from what was reviewed.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any


class _NotJson(ValueError):
    pass


def load_strict_json(raw: bytes, subject: str | None = None) -> object:
    """The JSON value of `raw`; ValueError with a readable reason (naming `subject` when given) otherwise."""
    prefix = f"{subject} " if subject else ""
    try:
        document = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_without_duplicate_keys, parse_constant=_no_constant
        )
        # Lone surrogates (\ud800) parse but cannot be stored, hashed or signed as UTF-8.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{prefix}{'is ' if subject else ''}not valid UTF-8 at byte {exc.start}: {exc.reason}"
        ) from None
    except UnicodeEncodeError:
        raise ValueError(f"{prefix}contains an unpaired surrogate escape such as \\ud800") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # _NotJson, or an integer too long to convert
        raise ValueError(f"invalid JSON: {exc}") from None
    return document


def _without_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a duplicated key; a reviewed document must mean one thing.
    document = dict(pairs)
    if len(document) != len(pairs):
        duplicate = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise _NotJson(f"duplicate key {duplicate!r} in an object")
    return document


def _no_constant(name: str) -> object:
    raise _NotJson(f"{name} is not a JSON value")
