"""README command 1 (`bff demo`) as a user runs it: real processes, real ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port

BFF = [sys.executable, "-m", "bff.cli"]


def test_demo_serves_readiness_with_every_downstream_service(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "BFF_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    env.pop("BFF_REDIS_URL", None)
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [*BFF, "demo", "--workdir", str(tmp_path)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        body = _wait_ready(f"http://127.0.0.1:{port}/readyz", demo, limit_s=60)
        assert body["ready"] is True
        assert body["redis"] == "ok"
        assert set(body["breakers"]) == {
            "core_banking",
            "cards",
            "loans",
            "wealth",
            "payments",
            "content",
            "messages",
            "crm",
        }
        home = _home_screen(port, tmp_path)
        assert home.get("errors") is None
        me = home["data"]["me"]
        fed_by = {
            "crm": me["profile"]["name"],
            "core_banking": me["accounts"][0]["balance"]["amount"],
            "cards": me["cards"][0]["maskedNumber"],
            "loans": me["loans"]["totalCount"] is not None,
            "wealth": me["wealth"]["total"]["amount"],
            "messages": me["unreadMessageCount"] is not None,
            "content": home["data"]["contentFeed"]["nodes"][0]["title"],
        }
        assert all(fed_by.values()), fed_by
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'bff_downstream_requests_total{data_centre="dc-' in metrics
        assert "bff_graphql_requests_total" in metrics
        assert _released_samples(port, tmp_path) == {"com.parkservices.tenant", "com.utilitybills.pay"}
        assert httpx.get(f"http://127.0.0.1:{port}/miniprogram/simulator").status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=20)
    output = (tmp_path / "demo.log").read_text()
    assert "private Redis on redis://127.0.0.1:" in output
    assert "simulator control API" in output
    assert "/miniprogram/simulator#token=" in output


def test_demo_without_redis_says_how_to_get_one(tmp_path: Path) -> None:
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    # Keep python reachable but hide redis-server.
    (bare_path / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bare_path), "BFF_PORT": str(free_port())}
    env.pop("REDIS_URL", None)
    env.pop("BFF_REDIS_URL", None)
    assert shutil.which("redis-server", path=str(bare_path)) is None
    done = subprocess.run(
        [*BFF, "demo", "--workdir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "REDIS_URL" in done.stderr
    assert "apt-get install redis-server" in done.stderr


HOME_QUERY = """
query HomeScreen {
  me {
    profile { name }
    accounts { name balance { amount currency } }
    cards { maskedNumber }
    loans(first: 2) { totalCount }
    wealth { total { amount currency } }
    unreadMessageCount
  }
  contentFeed(first: 3) { nodes { title kind } }
}
"""


def _home_screen(port: int, workdir: Path) -> dict[str, Any]:
    token = subprocess.run(
        [*BFF, "token", "--issuer-dir", str(workdir / "issuer")], capture_output=True, text=True, check=True
    ).stdout.strip()
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": HOME_QUERY, "operationName": "HomeScreen"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"},
        timeout=10,
    )
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _wait_ready(url: str, process: subprocess.Popen[bytes], limit_s: float) -> dict[str, object]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bff demo exited early with {process.returncode}")
        try:
            answer = httpx.get(url, timeout=1)
            if answer.status_code == 200:
                body: dict[str, object] = answer.json()
                return body
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready within {limit_s}s")


def _released_samples(port: int, workdir: Path, limit_s: float = 30) -> set[str]:
    """The mini-programs in the demo customer's catalog, once the demo has released its samples."""
    token = subprocess.run(
        [*BFF, "token", "--issuer-dir", str(workdir / "issuer")], capture_output=True, text=True, check=True
    ).stdout.strip()
    deadline = time.monotonic() + limit_s
    found: set[str] = set()
    while time.monotonic() < deadline and len(found) < 2:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ miniPrograms { appId } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        found = {p["appId"] for p in answer.json()["data"]["miniPrograms"]}
        time.sleep(0.2)
    return found
