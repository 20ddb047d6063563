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
import os
import sys
from pathlib import Path
from typing import Any, Final

import httpx

from bff.experience.files import documents_from_files
from bff.experience.loading import ExperienceSet, load_experience_set
from bff.experience.problems import ExperienceError

TOKEN_ENV: Final = "BFF_ADMIN_TOKEN"
API_PREFIX: Final = "/admin/v1/experience"


class CommandFailed(Exception):
    """A refusal already explained to the user; the command exits with status 2."""


def run(parsed: argparse.Namespace) -> int:
    """Run one `bff experience` subcommand; 0 on success, 2 on any refusal."""
    commands = {
        "validate": _validate_command,
        "diff": _diff_command,
        "publish": _publish_command,
        "rollback": _rollback_command,
        "preview": _preview_command,
    }
    try:
        commands[parsed.experience_command](parsed)
    except CommandFailed:
        return 2
    except OSError as exc:
        _error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 2
    return 0


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


# --- validate (offline) ---------------------------------------------------------


def load_directory(directory: Path) -> ExperienceSet:
    """The checked experience set of `directory`; prints every problem and fails otherwise."""
    if not directory.is_dir():
        _error(f"{directory} is not a directory (expected segments.json, profiles/ and overrides/ in it)")
        raise CommandFailed
    try:
        return load_experience_set(directory)
    except ExperienceError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        count = len(exc.problems)
        _error(f"{count} problem{'s' if count != 1 else ''} found in {directory}")
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
    token = parsed.token or os.environ.get(TOKEN_ENV)
    if not token:
        _error(f"no admin token: pass --token or set {TOKEN_ENV}")
        raise CommandFailed
    return httpx.Client(
        base_url=parsed.api.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, connect=5.0),
    )


def _call(client: httpx.Client, method: str, path: str, **options: Any) -> httpx.Response:
    """A call to `path` under /admin/v1/experience ("" for the experience itself)."""
    try:
        return client.request(method, API_PREFIX + path, **options)
    except httpx.TransportError as exc:
        _error(f"cannot reach the experience admin API at {client.base_url}: {exc}")
        raise CommandFailed from exc


def _expect(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise _refused(response)
    return response.json()


def _refused(response: httpx.Response) -> CommandFailed:
    """Print the API's problem (RFC 9457): title, code, detail, and each problem's file and path."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        _error(f"HTTP {response.status_code}: {response.text[:500]}")
        return CommandFailed()
    title = problem.get("title", "Request refused")
    print(f"error: {title} ({response.status_code}) {problem.get('code', '')}", file=sys.stderr)
    print(f"  {problem.get('detail', '')}", file=sys.stderr)
    for item in problem.get("problems", []):
        where = " ".join(part for part in (item.get("file"), item.get("path") or "(document)") if part)
        print(f"  {where}: {item.get('message')}", file=sys.stderr)
    for item in problem.get("errors", []):
        print(f"  {item.get('path') or '(body)'}: {item.get('message')}", file=sys.stderr)
    if problem.get("code") == "VERSION_CONFLICT":
        print("  run `bff experience diff` to see the current version, then try again", file=sys.stderr)
    return CommandFailed()


def _current(client: httpx.Client) -> tuple[str, dict[str, Any]]:
    """The ETag and state of the version the API serves."""
    print(f"reading the current version from {client.base_url}{API_PREFIX} ...")
    response = _call(client, "GET", "")
    state = _expect(response, 200)
    print(f"current: version {state['version']} (digest {state['digest'][:12]})")
    return response.headers["ETag"], state


def _print_changes(changes: list[str]) -> None:
    for line in changes or ["(no changes)"]:
        print(f"  {line}")


def _dry_run(client: httpx.Client, documents: dict[str, Any]) -> dict[str, Any]:
    print("checking the files on the server (dry run) ...")
    answer: dict[str, Any] = _expect(_call(client, "POST", "/dry-run", json={"files": documents}), 200)
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
        published = _expect(response, 200)
    print(f"published version {published['version']} (digest {published['digest'][:12]})")


def _rollback_command(parsed: argparse.Namespace) -> None:
    with _client(parsed) as client:
        current_etag, _ = _current(client)
        print(f"rolling back to version {parsed.version} ...")
        body = {"toVersion": parsed.version, "note": parsed.note}
        response = _call(client, "POST", "/rollback", json=body, headers={"If-Match": current_etag})
        published = _expect(response, 200)
    print(f"version {published['version']} has the files of version {parsed.version}; changes:")
    _print_changes(published["changes"])


def _preview_command(parsed: argparse.Namespace) -> None:
    query = {"segment": parsed.segment}
    if parsed.customer:
        query["customer"] = parsed.customer
    if parsed.app_version:
        query["appVersion"] = parsed.app_version
    with _client(parsed) as client:
        screen = _expect(_call(client, "GET", "/preview", params=query), 200)
    print(json.dumps(screen, indent=2, ensure_ascii=False))
