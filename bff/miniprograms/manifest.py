"""A partner mini-program's manifest: parsed, validated and turned into a `Manifest`.

The rules live in schemas/miniprogram-manifest.schema.json (JSON Schema 2020-12),
which partners can run in their own pipelines. A few rules JSON Schema cannot
express are checked here, after the schema:

- no scope requested twice and no bridge API declared twice (unique by key);
- `entryPage` is one of `pages`;
- a bridge API that reads user data needs its scope (`SCOPES_FOR_BRIDGE_API`).

Every rejection is a `ManifestError` listing all the problems at once, each with
the path of the offending field as a JSON Pointer (RFC 6901): `/scopes/2/scope`
is the `scope` of the third entry of `scopes`, `/names/zh-CN` a key of `names`,
and the empty pointer `""` the document as a whole (not JSON, too large).
A missing key is reported at the path it should have had (`/bundle/sha256`),
an unknown key at its own path.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

# No stubs are published with jsonschema; its objects are handled as Any below.
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from bff.schema_patterns import validator_class
from bff.strict_json import load_strict_json

SCHEMA_PATH: Final = Path(__file__).resolve().parents[2] / "schemas" / "miniprogram-manifest.schema.json"
MAX_MANIFEST_BYTES: Final = 64 * 1024

# Scopes whose addition in a new version sends the release to a second reviewer.
SENSITIVE_SCOPES: Final = frozenset({"accounts.summary", "payments.initiate", "phone.masked"})

# A bridge API that hands out user data needs one of these scopes in the same manifest.
SCOPES_FOR_BRIDGE_API: Final[Mapping[str, frozenset[str]]] = {
    "user.info": frozenset({"profile.name", "profile.language", "profile.region"}),
    "user.phoneMasked": frozenset({"phone.masked"}),
    "payment.request": frozenset({"payments.initiate"}),
    "location.city": frozenset({"location.city"}),
}

# Arrays of objects whose uniqueness is by one key, checked here rather than by uniqueItems.
_UNIQUE_BY_KEY: Final = {"bridgeApis": "api", "scopes": "scope"}


@dataclass(frozen=True)
class Problem:
    """One reason a manifest is refused: a JSON Pointer to the field and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(document)'}: {self.message}"


class ManifestError(ValueError):
    """The manifest is refused; `problems` lists every reason, sorted by path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        return f"manifest refused ({count} problem{'s' if count != 1 else ''}):{lines}"


class AllMemberBanks(enum.Enum):
    """Marker for a manifest offered to every member bank (`"memberBanks": ["*"]`)."""

    ALL = "*"


ALL_MEMBER_BANKS: Final = AllMemberBanks.ALL


class VersionKey(NamedTuple):
    """A version's SemVer precedence: compare keys to compare versions (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    is_release: bool  # a pre-release sorts before its release
    prerelease: tuple[tuple[int, int, str], ...]  # (0, n, "") numeric, (1, 0, s) alphanumeric


@dataclass(frozen=True)
class RateLimits:
    per_customer_per_minute: int
    per_app_per_second: int


@dataclass(frozen=True)
class Manifest:
    """A validated manifest. Language-keyed and size-keyed maps are sorted tuples of pairs."""

    app_id: str
    version: str
    version_key: VersionKey
    names: tuple[tuple[str, str], ...]
    descriptions: tuple[tuple[str, str], ...]
    icons: tuple[tuple[int, str], ...]
    entry_page: str
    pages: tuple[str, ...]
    bridge_apis: tuple[tuple[str, str], ...]  # (api, purpose)
    scopes: tuple[tuple[str, str], ...]  # (scope, purpose)
    network_domains: tuple[str, ...]
    member_banks: frozenset[str] | Literal[AllMemberBanks.ALL]
    segments: tuple[str, ...]
    min_app_version: tuple[int, int, int]
    bundle_sha256: str
    bundle_size: int
    rate_limits: RateLimits

    @property
    def scope_names(self) -> frozenset[str]:
        return frozenset(scope for scope, _ in self.scopes)

    @property
    def bridge_api_names(self) -> frozenset[str]:
        return frozenset(api for api, _ in self.bridge_apis)

    def serves_member_bank(self, code: str) -> bool:
        return self.member_banks is ALL_MEMBER_BANKS or code in self.member_banks


@dataclass(frozen=True)
class PermissionDiff:
    """What a new version asks for beyond (or no longer needs from) the previous one; sorted tuples."""

    added_scopes: tuple[str, ...]
    removed_scopes: tuple[str, ...]
    added_bridge_apis: tuple[str, ...]
    removed_bridge_apis: tuple[str, ...]
    added_network_domains: tuple[str, ...]
    removed_network_domains: tuple[str, ...]
    needs_second_review: bool

    @property
    def needs_new_consent(self) -> bool:
        """A version that asks for a scope the customer has not consented to needs consent again."""
        return bool(self.added_scopes)


def load_manifest(raw: bytes | str | Mapping[str, Any]) -> Manifest:
    """Parse and validate a manifest; raise ManifestError listing every problem."""
    document = _parse(raw)
    problems = _schema_problems(document)
    # A field the schema already refused is not also reported by a rule about the same path.
    refused = {problem.path for problem in problems}
    problems += [problem for problem in _rule_problems(document) if problem.path not in refused]
    if problems:
        raise ManifestError(sorted(set(problems), key=_problem_order))
    return _build(document)


@functools.lru_cache(maxsize=512)
def load_stored_manifest(raw: bytes) -> Manifest:
    """`load_manifest` for bytes the registry accepted: parsed once per distinct text.

    Every catalogue, launch and bridge read meets the same few manifests, and
    JSON Schema validation was most of their CPU; the same bytes always give
    the same Manifest (frozen), so sharing it is safe.
    """
    return load_manifest(raw)


def permission_diff(old: Manifest | None, new: Manifest) -> PermissionDiff:
    """Compare what `new` asks for with `old` (None for a mini-program's first version)."""
    old_scopes = old.scope_names if old else frozenset[str]()
    old_apis = old.bridge_api_names if old else frozenset[str]()
    old_domains = frozenset(old.network_domains) if old else frozenset[str]()
    added_scopes = new.scope_names - old_scopes
    new_domains = frozenset(new.network_domains)
    return PermissionDiff(
        added_scopes=tuple(sorted(added_scopes)),
        removed_scopes=tuple(sorted(old_scopes - new.scope_names)),
        added_bridge_apis=tuple(sorted(new.bridge_api_names - old_apis)),
        removed_bridge_apis=tuple(sorted(old_apis - new.bridge_api_names)),
        added_network_domains=tuple(sorted(new_domains - old_domains)),
        removed_network_domains=tuple(sorted(old_domains - new_domains)),
        needs_second_review=bool(added_scopes & SENSITIVE_SCOPES),
    )


# --- SemVer 2.0.0 -----------------------------------------------------------

# The regex suggested by semver.org, with [0-9] for \d and \Z for $ (see the schema's note).
_SEMVER: Final = re.compile(
    r"^(?P<major>0|[1-9][0-9]*)\.(?P<minor>0|[1-9][0-9]*)\.(?P<patch>0|[1-9][0-9]*)"
    r"(?:-(?P<prerelease>(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z"
)


# Versions repeat (app versions, sections' minimum versions), and every home screen compares them.
@functools.lru_cache(maxsize=4096)
def parse_version(text: str) -> VersionKey:
    """The SemVer precedence key of `text`; ValueError if it is not a semantic version."""
    match = _SEMVER.match(text)
    if match is None:
        raise ValueError(f"not a semantic version: {text!r}")
    prerelease = match["prerelease"]
    identifiers = prerelease.split(".") if prerelease else []
    return VersionKey(
        major=int(match["major"]),
        minor=int(match["minor"]),
        patch=int(match["patch"]),
        is_release=prerelease is None,
        # SemVer 11.4: numeric identifiers compare as numbers and sort before alphanumeric ones.
        prerelease=tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in identifiers),
    )


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as `a` has lower, equal or higher SemVer precedence than `b`."""
    key_a, key_b = parse_version(a), parse_version(b)
    return (key_a > key_b) - (key_a < key_b)


# --- parsing ----------------------------------------------------------------


def _parse(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        raw = _dump(raw)
    if isinstance(raw, str):
        if len(raw) > MAX_MANIFEST_BYTES:  # cheap refusal before encoding a huge string
            raise _document_error(f"the manifest is larger than the limit of {MAX_MANIFEST_BYTES} bytes")
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _document_error(f"the manifest is not valid Unicode: {exc.reason}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _document_error(f"the manifest is {len(raw)} bytes; the limit is {MAX_MANIFEST_BYTES} bytes")
    document = _load_json(raw)
    if not isinstance(document, dict):
        raise _document_error(f"a manifest must be a JSON object, not {_json_type(document)}")
    return document


def _dump(mapping: Mapping[str, Any]) -> bytes:
    def plain(value: object) -> object:
        if isinstance(value, Mapping):
            return dict(value)
        raise TypeError(f"{type(value).__name__} is not a JSON value")

    try:
        return json.dumps(mapping, default=plain, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise _document_error(f"the manifest is not representable as JSON: {exc}") from None


def _load_json(raw: bytes) -> object:
    try:
        return load_strict_json(raw, "the manifest")
    except ValueError as exc:
        raise _document_error(str(exc)) from None


def _document_error(message: str) -> ManifestError:
    return ManifestError([Problem("", message)])


# --- schema -----------------------------------------------------------------


@functools.cache
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return validator_class()(schema)


def _schema_problems(document: dict[str, Any]) -> list[Problem]:
    return [
        problem for error in _validator().iter_errors(document) for problem in explain_schema_error(error)
    ]


def explain_schema_error(error: Any) -> list[Problem]:
    """Turn one jsonschema error into problems a partner can act on."""
    path = list(error.absolute_path)
    keyword = error.validator
    schema_path = list(error.relative_schema_path)
    if "propertyNames" in schema_path:  # a key is wrong, not its value
        return [Problem(_pointer([*path, error.instance]), f"key {_message(error)}")]
    if keyword == "additionalProperties" and error.validator_value is False:
        allowed = ", ".join(error.schema.get("properties", {}))
        return [
            Problem(_pointer([*path, key]), f"unknown key {key!r} (allowed: {allowed})")
            for key in error.instance
            if key not in error.schema.get("properties", {})
        ]
    if keyword == "required":
        return [
            Problem(_pointer([*path, key]), f"required key {key!r} is missing")
            for key in error.validator_value
            if key not in error.instance
        ]
    if keyword == "uniqueItems":
        if len(path) == 1 and path[0] in _UNIQUE_BY_KEY:
            return []  # reported by _unique_by_key with the key's path
        return [
            Problem(_pointer([*path, index]), f"duplicate of {_pointer([*path, first])}")
            for index, first in _duplicates(error.instance)
        ]
    if len(schema_path) >= 2 and schema_path[-2] == "then" and "description" in error.schema:
        return [Problem(_pointer(path), error.schema["description"])]
    return [Problem(_pointer(path), _message(error))]


def _message(error: Any) -> str:
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    size = len(instance) if isinstance(instance, str | list | dict) else 0
    match keyword:
        case "type":
            wanted = " or ".join(expected) if isinstance(expected, list) else expected
            return f"must be {_article(wanted)}, not {_json_type(instance)}"
        case "enum":
            return f"{_show(instance)} is not one of: {', '.join(map(str, expected))}"
        case "const":
            return f"must be {_show(expected)}"
        case "pattern":
            described = error.schema.get("description", f"matching {expected!r}")
            return f"{_show(instance)} is not {described}"
        case "minLength":
            return f"must be at least {expected} character{'' if expected == 1 else 's'} long (it has {size})"
        case "maxLength":
            return f"must be at most {expected} characters long (it has {size})"
        case "minItems":
            return f"must have at least {expected} entr{'y' if expected == 1 else 'ies'} (it has {size})"
        case "maxItems":
            return f"must have at most {expected} entries (it has {size})"
        case "minProperties":
            return f"must have at least {expected} key{'' if expected == 1 else 's'} (it has {size})"
        case "maxProperties":
            return f"must have at most {expected} keys (it has {size})"
        case "minimum":
            return f"must be at least {expected} (it is {_show(instance)})"
        case "maximum":
            return f"must be at most {expected} (it is {_show(instance)})"
        case "anyOf" if all(sub.validator == "required" for sub in error.context):
            keys = [key for sub in error.context for key in sub.validator_value]
            return f"must include at least one of the keys {', '.join(map(repr, keys))}"
    return str(error.message)


def _duplicates(items: list[Any]) -> list[tuple[int, int]]:
    """(index, index of its first occurrence) for every repeated item."""
    first_seen: dict[str, int] = {}
    repeats = []
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True)
        if key in first_seen:
            repeats.append((index, first_seen[key]))
        else:
            first_seen[key] = index
    return repeats


# --- rules beyond the schema ------------------------------------------------
# These run even when the schema has failed, so that a partner sees every problem at
# once; they therefore look only at the parts of the document that have the right shape.


def _rule_problems(document: dict[str, Any]) -> list[Problem]:
    return [
        *(
            problem
            for field, key in _UNIQUE_BY_KEY.items()
            for problem in _unique_by_key(document, field, key)
        ),
        *_entry_page_listed(document),
        *_bridge_apis_have_scopes(document),
    ]


def _entries(document: dict[str, Any], field: str, key: str) -> Iterator[tuple[int, str]]:
    """(index, value of `key`) for each well-formed entry of the array `field`."""
    entries = document.get(field)
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                yield index, entry[key]


def _unique_by_key(document: dict[str, Any], field: str, key: str) -> Iterator[Problem]:
    first_seen: dict[str, int] = {}
    for index, value in _entries(document, field, key):
        if value in first_seen:
            first = _pointer([field, first_seen[value], key])
            yield Problem(_pointer([field, index, key]), f"{value!r} is declared twice (first at {first})")
        else:
            first_seen[value] = index


def _entry_page_listed(document: dict[str, Any]) -> Iterator[Problem]:
    entry_page, pages = document.get("entryPage"), document.get("pages")
    if isinstance(entry_page, str) and isinstance(pages, list) and entry_page not in pages:
        yield Problem("/entryPage", f"{_show(entry_page)} is not one of pages; add it to pages")


def _bridge_apis_have_scopes(document: dict[str, Any]) -> Iterator[Problem]:
    if not isinstance(document.get("scopes"), list):
        return  # nothing to check against; the schema reports the missing scopes
    requested = {scope for _, scope in _entries(document, "scopes", "scope")}
    for index, api in _entries(document, "bridgeApis", "api"):
        needed = SCOPES_FOR_BRIDGE_API.get(api)
        if needed and not needed & requested:
            choices = " or ".join(sorted(needed))
            yield Problem(
                _pointer(["bridgeApis", index, "api"]),
                f"bridge API {api!r} needs the scope {choices}: request it in scopes",
            )


# --- building ---------------------------------------------------------------


def _build(document: dict[str, Any]) -> Manifest:
    bundle, limits = document["bundle"], document["rateLimits"]
    banks = document["memberBanks"]
    major, minor, patch = (int(part) for part in document["minAppVersion"].split("."))
    return Manifest(
        app_id=document["appId"],
        version=document["version"],
        version_key=parse_version(document["version"]),
        names=tuple(sorted(document["names"].items())),
        descriptions=tuple(sorted(document.get("description", {}).items())),
        icons=tuple(sorted((int(size), path) for size, path in document["icons"].items())),
        entry_page=document["entryPage"],
        pages=tuple(document["pages"]),
        bridge_apis=tuple((entry["api"], entry["purpose"]) for entry in document["bridgeApis"]),
        scopes=tuple((entry["scope"], entry["purpose"]) for entry in document["scopes"]),
        network_domains=tuple(document["networkDomains"]),
        member_banks=ALL_MEMBER_BANKS if banks == ["*"] else frozenset(banks),
        segments=tuple(document.get("segments", ())),
        min_app_version=(major, minor, patch),
        bundle_sha256=bundle["sha256"],
        # JSON Schema counts 5.0 as an integer; the dataclass promises int.
        bundle_size=int(bundle["size"]),
        rate_limits=RateLimits(
            per_customer_per_minute=int(limits["perCustomerPerMinute"]),
            per_app_per_second=int(limits["perAppPerSecond"]),
        ),
    )


# --- small helpers ----------------------------------------------------------


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _problem_order(problem: Problem) -> tuple[tuple[tuple[int, int, str], ...], str]:
    parts = problem.path.split("/")[1:]
    return tuple(
        (0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p) for p in parts
    ), problem.message


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int():
            return "an integer"
        case float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__


def _article(json_type: str) -> str:
    return {"integer": "an integer", "array": "an array", "object": "an object", "null": "null"}.get(
        json_type, f"a {json_type}"
    )


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
