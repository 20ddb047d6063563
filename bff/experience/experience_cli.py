"""`bff experience ...`: the UX team's tools to check, compare, publish and roll back the experience files.

`validate` works offline on a directory laid out like experience/ and prints
every problem as `file path: message`. The other commands call the
experience admin API (docs/experience-admin-api.md) with an admin token:
`diff` and `publish` read the current version (its ETag) first, so a publish
never overwrites a version its author has not seen. Every refusal is printed
with its code and, for invalid files, each problem's file and path; the
command then ends with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

import httpx

from bff.api_cli import CommandFailed, ProblemPrinter, api_client, call, error, run_command
from bff.experience.files import documents_from_files
from bff.experience.loading import ExperienceSet, load_experience_set
from bff.experience.problems import ExperienceError

_PROBLEMS: Final = ProblemPrinter(
    empty_path="(body)",
    hints={"VERSION_CONFLICT": "run `bff experience diff` to see the current version, then try again"},
)
TOKEN_ENV: Final = "BFF_ADMIN_TOKEN"
API_PREFIX: Final = "/admin/v1/experience"


def run(parsed: argparse.Namespace) -> int:
    """Run one `bff experience` subcommand; 0 on success, 2 on any refusal."""
    commands = {
        "validate": _validate_command,
        "diff": _diff_command,
        "publish": _publish_command,
        "rollback": _rollback_command,
        "preview": _preview_command,
    }
    return run_command(commands, parsed.experience_command, parsed)


# --- validate (offline) ---------------------------------------------------------


def load_directory(directory: Path) -> ExperienceSet:
    """The checked experience set of `directory`; prints every problem and fails otherwise."""
    if not directory.is_dir():
        error(f"{directory} is not a directory (expected segments.json, profiles/ and overrides/ in it)")
        raise CommandFailed
    try:
        return load_experience_set(directory)
    except ExperienceError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        count = len(exc.problems)
        error(f"{count} problem{'s' if count != 1 else ''} found in {directory}")
        raise CommandFailed from exc


def _validate_command(parsed: argparse.Namespace) -> None:
    directory = Path(parsed.dir)
    experience = load_directory(directory)
    rules = experience.segments.all_rules
    print(
        f"ok: {directory}: {len(experience.profiles)} profiles ({', '.join(sorted(experience.profiles))}), "
        f"{len(rules)} segment rules, {len(experience.overrides)} member-bank overrides; "
        f"digest {experience.digest}"
    )


# --- the admin API ----------------------------------------------------------------


def _client(parsed: argparse.Namespace) -> httpx.Client:
    return api_client(parsed, TOKEN_ENV, "admin")


def _call(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    return call(client, method, API_PREFIX + path, "experience admin API", **options)


def _current(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """The ETag and state of the version the API serves."""
    print(f"reading the current version from {client.base_url}{API_PREFIX} ...")
    response = _call(client, "GET", "")
    state = _PROBLEMS.expect(response, 200)
    print(f"current: version {state['version']} (digest {state['digest'][:12]})")
    return response.headers["ETag"], state


def _print_changes(changes: list[str]) -> None:
    for line in changes or ["(no changes)"]:
        print(f"  {line}")


def _dry_run(client: httpx.Client, documents: dict[str, Any]) -> dict[str, Any]:
    print("checking the files on the server (dry run) ...")
    answer: dict[str, Any] = _PROBLEMS.expect(
        _call(client, "POST", "/dry-run", json={"files": documents}), 200
    )
    print(f"changes against version {answer['against']}:")
    _print_changes(answer["changes"])
    return answer


def _diff_command(parsed: argparse.Namespace) -> None:
    experience = load_directory(Path(parsed.dir))
    with _client(parsed) as client:
        _current(client)
        _dry_run(client, documents_from_files(experience.files))


def _publish_command(parsed: argparse.Namespace) -> None:
    directory = Path(parsed.dir)
    experience = load_directory(directory)
    with _client(parsed) as client:
        current_etag, state = _current(client)
        if state["digest"] == experience.digest:
            print(f"nothing to publish: {directory} has the content of version {state['version']}")
            return
        documents = documents_from_files(experience.files)
        _dry_run(client, documents)
        print(f"publishing on top of version {state['version']} ...")
        body = {"files": documents, "note": parsed.note}
        response = _call(client, "PUT", "", json=body, headers={"If-Match": current_etag})
        published = _PROBLEMS.expect(response, 200)
    print(f"published version {published['version']} (digest {published['digest'][:12]})")


def _rollback_command(parsed: argparse.Namespace) -> None:
    with _client(parsed) as client:
        current_etag, _ = _current(client)
        print(f"rolling back to version {parsed.version} ...")
        body = {"toVersion": parsed.version, "note": parsed.note}
        response = _call(client, "POST", "/rollback", json=body, headers={"If-Match": current_etag})
        published = _PROBLEMS.expect(response, 200)
    print(f"version {published['version']} has the files of version {parsed.version}; changes:")
    _print_changes(published["changes"])


def _preview_command(parsed: argparse.Namespace) -> None:
    query = {"segment": parsed.segment}
    if parsed.customer:
        query["customer"] = parsed.customer
    if parsed.app_version:
        query["appVersion"] = parsed.app_version
    with _client(parsed) as client:
        screen = _PROBLEMS.expect(_call(client, "GET", "/preview", params=query), 200)
    print(json.dumps(screen, indent=2, ensure_ascii=False))
