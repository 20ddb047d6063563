"""What the CLIs that talk to a BFF API share: one exit status for refusals, the client, and problem printing.

`bff miniprogram` (partner API) and `bff experience` (admin API) both answer
refusals with RFC 9457 problems; this prints them the same way.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


class CommandFailed(Exception):
    """A refusal already explained to the user; the command exits with status 2."""


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def run_command(
    commands: Mapping[str, Callable[[argparse.Namespace], None]], name: str, parsed: argparse.Namespace
) -> int:
    """Run one subcommand; 0 on success, 2 on any refusal (already explained)."""
    try:
        commands[name](parsed)
    except CommandFailed:
        return 2
    except OSError as exc:
        error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 2
    return 0


def api_client(parsed: argparse.Namespace, token_env: str, who: str, base_path: str = "") -> httpx.Client:
    """A client for `parsed.api` + `base_path` with the token of --token or `token_env`."""
    token = parsed.token or os.environ.get(token_env)
    if not token:
        error(f"no {who} token: pass --token or set {token_env}")
        raise CommandFailed
    return httpx.Client(
        base_url=parsed.api.rstrip("/") + base_path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, connect=5.0),
    )


def call(client: httpx.Client, method: str, path: str, api_name: str, **options: Any) -> httpx.Response:
    try:
        return client.request(method, path, **options)
    except httpx.TransportError as exc:
        error(f"cannot reach the {api_name} at {client.base_url}: {exc}")
        raise CommandFailed from exc


@dataclass(frozen=True)
class ProblemPrinter:
    """Prints an API's problem: title, code, detail, each listed problem; `hints` add a line per code."""

    empty_path: str = "(document)"
    hints: Mapping[str, str] = field(default_factory=dict)

    def expect(self, response: httpx.Response, *statuses: int) -> Any:
        if response.status_code not in statuses:
            raise self.refused(response)
        return response.json()

    def refused(self, response: httpx.Response) -> CommandFailed:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            error(f"HTTP {response.status_code}: {response.text[:500]}")
            return CommandFailed()
        title = problem.get("title", "Request refused")
        print(f"error: {title} ({response.status_code}) {problem.get('code', '')}", file=sys.stderr)
        print(f"  {problem.get('detail', '')}", file=sys.stderr)
        for item in problem.get("problems", []):
            where = " ".join(part for part in (item.get("file"), item.get("path") or "(document)") if part)
            print(f"  {where}: {item.get('message')}", file=sys.stderr)
        for item in problem.get("errors", []):
            print(f"  {item.get('path') or self.empty_path}: {item.get('message')}", file=sys.stderr)
        hint = self.hints.get(str(problem.get("code")))
        if hint:
            print(f"  {hint}", file=sys.stderr)
        return CommandFailed()
