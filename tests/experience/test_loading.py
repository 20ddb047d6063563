"""Loading: the shipped folder loads; a bad file is refused with its name and field; the digest follows content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bff.experience.loading import MAX_FILE_BYTES, load_experience_set, parse_experience_set
from bff.experience.problems import ExperienceError, Problem, pointer
from bff.experience.schema_check import SCHEMA_FILES, schema_path
from tests.experience.documents import EXPERIENCE, files_with, problems_of, replaced, shipped, shipped_files


def test_shipped_experience_folder_loads() -> None:
    experience = load_experience_set()
    assert set(experience.profiles) == {"standard", "elder", "youth", "rural"}
    assert set(experience.overrides) == {"RCB001", "RCB002", "RCB003"}
    assert experience.segments.default.profile_id == "standard"
    assert len(experience.digest) == 64
    assert set(experience.files) == set(shipped_files())


def test_shipped_member_banks_are_the_simulators_member_banks() -> None:
    from sim.population import MEMBER_BANKS

    assert set(load_experience_set().overrides) == {bank.code for bank in MEMBER_BANKS}


def test_a_copied_folder_loads_the_same_and_ignores_other_files(tmp_path: Path) -> None:
    shutil.copytree(EXPERIENCE, tmp_path / "experience")
    (tmp_path / "experience" / "notes.txt").write_text("not JSON, not read")
    copied = load_experience_set(tmp_path / "experience")
    assert copied.digest == load_experience_set().digest
    assert copied.profiles == load_experience_set().profiles


def test_digest_ignores_formatting_but_follows_content() -> None:
    files = shipped_files()
    reformatted = {name: json.dumps(json.loads(raw), indent=None).encode() for name, raw in files.items()}
    assert parse_experience_set(reformatted).digest == parse_experience_set(files).digest
    changed = files_with(
        profiles__standard=replaced(shipped("profiles/standard.json"), "/presentation/gridColumns", 3)
    )
    assert parse_experience_set(changed).digest != parse_experience_set(files).digest


def test_files_may_be_given_as_text() -> None:
    files = {name: raw.decode() for name, raw in shipped_files().items()}
    assert parse_experience_set(files).digest == load_experience_set().digest


# --- the layout ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["profile.json", "profiles/elder/elder.json", "segments/segments.json", "extra.json"]
)
def test_json_file_outside_the_layout_is_refused(name: str) -> None:
    files = shipped_files() | {name: b"{}"}
    [problem] = problems_of(files)
    assert (problem.file, problem.path) == (name, "")
    assert problem.message.startswith("unexpected file: the segment set is segments.json")


def test_folder_without_profiles_is_refused() -> None:
    files = {name: raw for name, raw in shipped_files().items() if name == "segments.json"}
    problems = problems_of(files)
    assert Problem("profiles/", "", "there is no profile") in problems


def test_removing_a_profile_refuses_the_rules_and_overrides_that_name_it() -> None:
    problems = problems_of(files_with(profiles__youth=None))
    assert {(p.file, p.path) for p in problems} == {
        ("segments.json", "/rules/2/profile"),
        ("segments.json", "/rules/3/rollout/profile"),
        ("overrides/RCB002.json", "/profiles/youth"),
    }


def test_profile_failing_its_schema_is_not_reported_again_as_missing() -> None:
    broken = replaced(shipped("profiles/youth.json"), "/presentation/gridColumns", 0)
    problems = problems_of(files_with(profiles__youth=broken))
    assert [(p.file, p.path) for p in problems] == [("profiles/youth.json", "/presentation/gridColumns")]


# --- strict JSON --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"id": "standard",}', "invalid JSON at line 1 column"),
        (b'{"id": "standard", "id": "elder"}', "duplicate key 'id' in an object"),
        (b'{"gridColumns": NaN}', "NaN is not a JSON value"),
        (b'{"id": "\xff"}', "not valid UTF-8 at byte 8"),
        (b'{"id": "\\ud800"}', "unpaired surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
        (b'"standard"', "must be an object, not a string"),
    ],
)
def test_file_that_is_not_a_json_object_is_refused_as_a_whole(raw: bytes, fragment: str) -> None:
    problems = problems_of(shipped_files() | {"profiles/standard.json": raw})
    [problem] = [p for p in problems if p.file == "profiles/standard.json"]
    assert problem.path == ""
    assert fragment in problem.message


def test_oversize_file_is_refused_before_parsing() -> None:
    raw = b" " * (MAX_FILE_BYTES + 1)
    [problem] = [p for p in problems_of(shipped_files() | {"profiles/standard.json": raw})]
    assert problem == Problem(
        "profiles/standard.json",
        "",
        f"the file is {MAX_FILE_BYTES + 1} bytes; the limit is {MAX_FILE_BYTES} bytes",
    )


# --- problems -----------------------------------------------------------------------


def test_problems_of_every_file_are_reported_at_once_sorted_by_file_and_path() -> None:
    standard = replaced(shipped("profiles/standard.json"), "/presentation/gridColumns", 9)
    standard = replaced(standard, "/sections/2/component", "stockTicker")
    segments = replaced(shipped("segments.json"), "/default/id", "Everyone")
    problems = problems_of(files_with(profiles__standard=standard, segments=segments))
    assert [(p.file, p.path) for p in problems] == [
        ("profiles/standard.json", "/presentation/gridColumns"),
        ("profiles/standard.json", "/sections/2/component"),
        ("segments.json", "/default/id"),
    ]


def test_paths_sort_array_indices_as_numbers() -> None:
    error = ExperienceError(
        [Problem("a.json", "/sections/10/id", "x"), Problem("a.json", "/sections/9/id", "x")]
    )
    assert [p.path for p in error.problems] == ["/sections/9/id", "/sections/10/id"]


def test_error_text_lists_every_problem_with_file_and_path() -> None:
    error = ExperienceError(
        [Problem("segments.json", "/rules/0/id", "bad"), Problem("profiles/", "", "none")]
    )
    assert str(error) == (
        "experience data refused (2 problems):\n  profiles/ (document): none\n  segments.json /rules/0/id: bad"
    )


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer("profiles", "a/b~c", 0) == "/profiles/a~1b~0c/0"


# --- the schema files ------------------------------------------------------------------


def _subschemas(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        found.append(schema)
        for value in schema.values():
            found += _subschemas(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _subschemas(value)
    return found


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schemas_are_draft_2020_12_with_an_id(kind: Any) -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

    schema = json.loads(schema_path(kind).read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://bankapp.example/schemas/{SCHEMA_FILES[kind]}"


# Objects left open on purpose: options are closed per component by the section's if/then rules,
# and an override's options are checked once merged into the section.
OPEN_OBJECTS = {"Component-specific options; which keys are allowed depends on the component.",
                "Options to change; checked against the section's component once merged."}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schemas_close_every_object(kind: Any) -> None:
    schema = json.loads(schema_path(kind).read_text())
    objects = [sub for sub in _subschemas(schema) if sub.get("type") == "object"]
    assert objects
    for sub in objects:
        if sub.get("description") in OPEN_OBJECTS:
            continue
        # Records refuse unknown keys; maps (names, profiles, update) constrain their keys with propertyNames.
        assert sub.get("additionalProperties") is False or "propertyNames" in sub, sub


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_schemas_describe_every_pattern_so_messages_read_well(kind: Any) -> None:
    schema = json.loads(schema_path(kind).read_text())
    for sub in _subschemas(schema):
        if "pattern" in sub:
            assert sub.get("description", "").startswith(("a ", "an ")), sub["pattern"]


def test_every_shipped_file_names_its_schema_for_editors() -> None:
    expected = {"profiles": "profile", "overrides": "override"}
    for name, raw in shipped_files().items():
        kind: Any = expected.get(name.split("/")[0], "segments")
        named = (EXPERIENCE / name).parent / json.loads(raw)["$schema"]
        assert named.resolve() == schema_path(kind), name
