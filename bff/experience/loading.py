"""Loading experience data: a directory (or the same files from elsewhere) checked and turned into an `ExperienceSet`.

The layout, relative to the directory (see experience/README.md):

    segments.json              the segment set
    profiles/<profile id>.json one profile each
    overrides/<member bank>.json  one member-bank override each

Other .json files are refused; other files (README.md) are ignored. Every
document is checked against its schema, then against the rules the schema
cannot express, then against the others (profiles named exist, overrides
apply cleanly, elder profiles pass the elder guideline, also with each
member bank's override applied). A document that fails its schema is not
checked further. All problems are raised together as one `ExperienceError`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Final

from bff.experience.elder_guideline import check_elder_guideline
from bff.experience.overrides import MemberBankOverride, apply_override, override_problems, read_override
from bff.experience.problems import ExperienceError, Problem
from bff.experience.profile import Profile, profile_problems, read_profile
from bff.experience.schema_check import DocumentKind, schema_problems
from bff.experience.segments import SegmentSet, read_segment_set, segment_problems
from bff.strict_json import load_strict_json

EXPERIENCE_DIRECTORY: Final = Path(__file__).resolve().parents[2] / "experience"
SEGMENTS_FILE: Final = "segments.json"
MAX_FILE_BYTES: Final = 256 * 1024


@dataclass(frozen=True, eq=False)
class ExperienceSet:
    """Checked experience data: profiles, segment rules and member-bank overrides, with a content digest.

    `digest` is a SHA-256 over the documents' content (not their formatting): two sets
    with the same digest resolve every customer the same way. `files` are the sources
    as loaded, by path relative to the directory, for publishing a changed set.
    """

    profiles: Mapping[str, Profile]
    segments: SegmentSet
    overrides: Mapping[str, MemberBankOverride]
    digest: str
    files: Mapping[str, bytes] = field(repr=False)
    # Every profile with each member bank's override applied, by (profile id, member bank).
    overridden: Mapping[tuple[str, str], Profile] = field(repr=False)

    def profile_for(self, profile_id: str, member_bank: str) -> Profile:
        """The profile as `member_bank`'s customers see it; KeyError for an unknown profile."""
        overridden = self.overridden.get((profile_id, member_bank))
        return overridden if overridden is not None else self.profiles[profile_id]


def load_experience_set(directory: Path = EXPERIENCE_DIRECTORY) -> ExperienceSet:
    """Read and check every experience file under `directory`; raise ExperienceError listing every problem."""
    files = {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*.json"))
        if path.is_file()
    }
    return parse_experience_set(files)


def parse_experience_set(files: Mapping[str, bytes | str]) -> ExperienceSet:
    """Check experience files given as {relative path: content}; raise ExperienceError listing every problem."""
    return _Loader(files).experience_set()


# --- the loader -----------------------------------------------------------------


class _Loader:
    """One pass over a set of files, collecting problems as it goes."""

    def __init__(self, files: Mapping[str, bytes | str]) -> None:
        self.files = {
            name: raw.encode("utf-8") if isinstance(raw, str) else raw for name, raw in files.items()
        }
        self.problems: list[Problem] = []
        self.documents: dict[str, Any] = {}
        # The ids that exist (a file is there) and the documents that passed every own check.
        self.profile_ids: set[str] = set()
        self.profiles: dict[str, dict[str, Any]] = {}
        self.overrides: dict[str, dict[str, Any]] = {}
        self.segments: dict[str, Any] | None = None

    def experience_set(self) -> ExperienceSet:
        self._read_files()
        self._check_segments()
        self._check_overrides()
        overridden = self._check_elder_profiles_and_apply_overrides()
        if self.problems:
            raise ExperienceError(self.problems)
        assert self.segments is not None  # a missing segments.json is a problem
        profiles = {profile_id: read_profile(document) for profile_id, document in self.profiles.items()}
        return ExperienceSet(
            profiles=MappingProxyType(profiles),
            segments=read_segment_set(self.segments),
            overrides=MappingProxyType({bank: read_override(doc) for bank, doc in self.overrides.items()}),
            digest=_digest(self.documents),
            files=MappingProxyType(dict(self.files)),
            overridden=MappingProxyType(overridden),
        )

    def _add(self, file: str, problems: list[Problem]) -> bool:
        """Record `problems` as found in `file`; True when there were none."""
        self.problems += [replace(problem, file=file) for problem in problems]
        return not problems

    # files and their own checks

    def _read_files(self) -> None:
        for name in sorted(self.files):
            kind, stem = _kind_of(name)
            if kind is None:
                self._add(name, [Problem("", "", _UNEXPECTED_FILE)])
                continue
            if kind == "profile":
                self.profile_ids.add(stem)
            document = self._parse(name)
            if document is _UNREADABLE or not self._add(name, schema_problems(kind, document)):
                continue
            if not isinstance(document, dict):  # every schema asks for an object, so this never holds
                continue
            self.documents[name] = document
            if kind == "profile":
                self._check_profile(name, stem, document)
            elif kind == "override":
                self.overrides[stem] = document
            else:
                self.segments = document
        if SEGMENTS_FILE not in self.files:
            self._add(SEGMENTS_FILE, [Problem("", "", "the segment set is missing")])
        if not self.profile_ids:
            self._add("profiles/", [Problem("", "", "there is no profile")])

    def _parse(self, name: str) -> object:
        """The file's JSON value, or _UNREADABLE (with the problem recorded)."""
        raw = self.files[name]
        if len(raw) > MAX_FILE_BYTES:
            self._add(
                name, [Problem("", "", f"the file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES} bytes")]
            )
            return _UNREADABLE
        try:
            return _parse_json(raw)
        except ValueError as exc:
            self._add(name, [Problem("", "", str(exc))])
            return _UNREADABLE

    def _check_profile(self, name: str, stem: str, document: dict[str, Any]) -> None:
        problems = profile_problems(document)
        if document["id"] != stem:
            problems.append(
                Problem("", "/id", f"{document['id']!r} is not the profile id its file name gives ({stem})")
            )
        if self._add(name, problems):
            self.profiles[stem] = document

    # checks across files

    def _check_segments(self) -> None:
        if self.segments is not None:
            self._add(SEGMENTS_FILE, segment_problems(self.segments, self.profile_ids))

    def _check_overrides(self) -> None:
        for bank, document in list(self.overrides.items()):
            if not self._add(
                _override_file(bank), override_problems(document, bank, self.profiles, self.profile_ids)
            ):
                del self.overrides[bank]

    def _check_elder_profiles_and_apply_overrides(self) -> dict[tuple[str, str], Profile]:
        elder_reasons = self._elder_reasons()
        overridden: dict[tuple[str, str], Profile] = {}
        for profile_id, document in self.profiles.items():
            reason = elder_reasons.get(profile_id)
            own_problems = _elder_problems(read_profile(document), reason) if reason else []
            self._add(_profile_file(profile_id), own_problems)
            for bank, override in self.overrides.items():
                merged = self._overridden_profile(document, bank, override, reason, set(own_problems))
                if merged is not None:
                    overridden[profile_id, bank] = merged
        return overridden

    def _elder_reasons(self) -> dict[str, str]:
        """Why each profile that must pass the elder guideline must, by profile id."""
        reasons = {
            profile_id: "the profile is marked elderFriendly"
            for profile_id, document in self.profiles.items()
            if document.get("elderFriendly")
        }
        if self.segments is not None:
            for rule in read_segment_set(self.segments).all_rules:
                for profile_id in sorted(rule.profile_ids) if rule.elder else ():
                    reasons.setdefault(profile_id, f"segment rule {rule.id!r} is marked elder")
        return reasons

    def _overridden_profile(
        self,
        document: dict[str, Any],
        bank: str,
        override: dict[str, Any],
        elder_reason: str | None,
        known_problems: set[Problem],
    ) -> Profile | None:
        """The profile with `bank`'s override applied, None if it does not change it or is refused."""
        profile_id = document["id"]
        if "presentation" not in override and profile_id not in override.get("profiles", {}):
            return None
        merged = apply_override(document, override)
        problems = schema_problems("profile", merged) or profile_problems(merged)
        profile = read_profile(merged) if not problems else None
        if profile is not None and elder_reason:
            problems = _elder_problems(profile, elder_reason)
        where = f"/profiles/{profile_id}" if profile_id in override.get("profiles", {}) else "/presentation"
        self._add(
            _override_file(bank),
            [
                Problem(
                    "",
                    where,
                    f"with this override, profile {profile_id!r} is refused at {p.path or '/'}: {p.message}",
                )
                for p in problems
                if p not in known_problems  # already reported against the profile itself
            ],
        )
        return None if problems else profile


_FOLDERS: Final[dict[str, DocumentKind]] = {"profiles": "profile", "overrides": "override"}
_UNREADABLE: Final = object()
_UNEXPECTED_FILE: Final = (
    "unexpected file: the segment set is segments.json, profiles go in profiles/<profile id>.json "
    "and member-bank overrides in overrides/<member bank>.json"
)


def _kind_of(name: str) -> tuple[DocumentKind | None, str]:
    """What a file holds, from its place in the layout, and its name without .json."""
    path = PurePosixPath(name)
    if name == SEGMENTS_FILE:
        return "segments", ""
    in_a_folder = len(path.parts) == 2 and path.suffix == ".json"
    return (_FOLDERS.get(path.parts[0]) if in_a_folder else None), path.stem


def _profile_file(profile_id: str) -> str:
    return f"profiles/{profile_id}.json"


def _override_file(member_bank: str) -> str:
    return f"overrides/{member_bank}.json"


def _elder_problems(profile: Profile, reason: str) -> list[Problem]:
    return [
        replace(problem, message=f"{problem.message} (elder guideline: {reason})")
        for problem in check_elder_guideline(profile)
    ]


def _digest(documents: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        documents, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- strict JSON ------------------------------------------------------------------


def _parse_json(raw: bytes) -> object:
    """The JSON value of `raw`; ValueError with a readable reason otherwise."""
    return load_strict_json(raw)
