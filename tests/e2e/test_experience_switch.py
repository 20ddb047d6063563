"""Two production `bff serve` processes on one Redis: a profile switch through one is served by the other within a second.

GET /admin/v1/experience answers from the process's live, in-memory
experience (not from Redis), so the version it reports is the one that
process serves its home screens from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import Mint
from tests.support.bff_process import BffServer, start_bff
from tests.support.processes import RedisServer

DB = 4
BASE = "/admin/v1/experience"


@dataclass
class Pair:
    first: BffServer
    second: BffServer
    admin: dict[str, str]

    def state(self, server: BffServer) -> dict[str, Any]:
        answer = httpx.get(server.url + BASE, headers=self.admin, timeout=5)
        assert answer.status_code != 404, (
            f"bff serve does not serve {BASE}: is build_experience wired into bff/app.py?"
        )
        assert answer.status_code == 200, answer.text
        state: dict[str, Any] = answer.json()
        return state

    def change(self, server: BffServer, path: str, body: Any, version: int) -> dict[str, Any]:
        headers = {**self.admin, "If-Match": f'"{version}"'}
        answer = httpx.post(server.url + BASE + path, json=body, headers=headers, timeout=15)
        assert answer.status_code == 200, answer.text
        state: dict[str, Any] = answer.json()
        return state

    def served_within_a_second(self, server: BffServer, version: int, since: float) -> dict[str, Any]:
        """The state `server` serves once it is `version`, polled every 20 ms for at most a second."""
        while True:
            state = self.state(server)
            waited = time.monotonic() - since
            if state["version"] == version:
                assert waited < 1.0
                return state
            assert waited < 1.0, f"{server.url} still serves version {state['version']} after {waited:.2f}s"
            time.sleep(0.02)


@pytest.fixture
def pair(tmp_path: Path, bff_env: dict[str, str], redis_server: RedisServer, mint: Mint) -> Iterator[Pair]:
    redis_url = redis_server.url.rsplit("/", 1)[0] + f"/{DB}"
    redis.Redis.from_url(redis_url).flushdb()
    env = {**bff_env, "REDIS_URL": redis_url, "BFF_MINIPROGRAM_BUNDLE_DIR": str(tmp_path / "bundles")}
    servers: list[BffServer] = []
    try:
        for name in ("first", "second"):
            servers.append(start_bff(tmp_path / name, env))
        admin = {"Authorization": f"Bearer {mint('ux-admin', member_bank='*', roles=['admin'])}"}
        yield Pair(servers[0], servers[1], admin)
    finally:
        for server in servers:
            server.stop()
        redis.Redis.from_url(redis_url).flushdb()


@pytest.mark.slow
def test_a_switch_through_one_process_is_served_by_the_other_within_a_second(pair: Pair) -> None:
    assert pair.state(pair.first)["version"] == pair.state(pair.second)["version"] == 1
    history = httpx.get(pair.first.url + BASE + "/history", headers=pair.admin, timeout=5).json()
    assert [entry["action"] for entry in history["versions"]] == ["seed"], "both processes seeded once"

    switched = pair.change(pair.first, "/segments/rural-app/profile", {"profile": "standard"}, 1)
    switched_at = time.monotonic()
    assert switched["version"] == 2
    state = pair.served_within_a_second(pair.second, 2, switched_at)
    rural = next(segment for segment in state["segments"] if segment["rule"] == "rural-app")
    assert rural["profile"] == "standard"

    rolled_back = pair.change(pair.second, "/rollback", {"toVersion": 1}, 2)
    rolled_back_at = time.monotonic()
    state = pair.served_within_a_second(pair.first, 3, rolled_back_at)
    assert state["digest"] == rolled_back["digest"]
    rural = next(segment for segment in state["segments"] if segment["rule"] == "rural-app")
    assert rural["profile"] == "rural"
