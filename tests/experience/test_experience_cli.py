"""`bff experience ...`: offline validation, and diff, publish, rollback and preview against a served admin API."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
import uvicorn
from starlette.applications import Starlette

from bff.auth.dev_issuer import DevIssuer
from bff.auth.validator import TokenValidator
from bff.cli import main
from bff.experience.admin_api import experience_admin_routes
from bff.experience.live import LiveExperience
from bff.experience.loading import load_experience_set
from bff.experience.store import ExperienceStore
from bff.store.private_server import free_port
from tests.experience.documents import EXPERIENCE, replaced, shipped
from tests.support.processes import RedisServer

DB = 6


async def preview(rule_id: str, customer: str | None, app_version: str | None) -> dict[str, Any]:
    return {"rule": rule_id, "customer": customer, "appVersion": app_version, "sections": []}


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture
def admin(issuer: DevIssuer) -> str:
    return issuer.mint(subject="ux-admin", member_bank="*", roles=["admin"])


@pytest.fixture
def api_url(redis_server: RedisServer, issuer: DevIssuer) -> Iterator[str]:
    """The admin API served over HTTP on a fresh database, as a BFF process serves it."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{DB}"
    redis.Redis.from_url(url).flushdb()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = aioredis.from_url(url)
        store = ExperienceStore(client)
        live = LiveExperience(store, client, shipped=load_experience_set)
        validator = TokenValidator(lambda: issuer.keys, issuer.issuer, issuer.audience)
        app.router.routes.extend(experience_admin_routes(store, live, validator, preview))
        await live.start()
        yield
        await live.stop()
        await client.aclose()

    port = free_port()
    config = uvicorn.Config(Starlette(lifespan=lifespan), port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the admin API did not start within 10 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the shipped experience directory to edit."""
    return Path(shutil.copytree(EXPERIENCE, tmp_path / "experience"))


def write(directory: Path, name: str, document: Any) -> None:
    (directory / name).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["experience", *args])
    out, err = capsys.readouterr()
    return status, out, err


# --- validate (offline) ---------------------------------------------------------------


def test_validate_accepts_the_shipped_directory(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", str(EXPERIENCE))
    assert status == 0
    assert out.startswith(f"ok: {EXPERIENCE}: 4 profiles (elder, rural, standard, youth), 5 segment rules")


def test_validate_prints_each_problem_as_file_path_message_and_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elder = replaced(shipped("profiles/elder.json"), "/presentation/typography/bodySize", 16)
    write(workdir, "profiles/elder.json", elder)
    write(workdir, "segments.json", replaced(shipped("segments.json"), "/rules/1/profile", "yuoth"))
    status, _, err = run(capsys, "validate", str(workdir))
    assert status == 2
    lines = err.splitlines()
    assert lines[0].startswith("profiles/elder.json /presentation/typography/bodySize: main text must be")
    assert lines[1].startswith("segments.json /rules/1/profile: there is no profile 'yuoth'")
    assert lines[2] == f"error: 2 problems found in {workdir}"


def test_validate_of_a_missing_directory_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "validate", str(tmp_path / "nope"))
    assert status == 2
    assert "is not a directory" in err


# --- against the admin API ----------------------------------------------------------------


def test_diff_reads_the_current_version_then_prints_the_changes(
    api_url: str, admin: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "segments.json", replaced(shipped("segments.json"), "/rules/1/profile", "standard"))
    status, out, _ = run(capsys, "diff", str(workdir), "--api", api_url, "--token", admin)
    assert status == 0
    assert "current: version 1" in out
    assert "changes against version 1:\n  rule 'rural-app': profile rural -> profile standard\n" in out


def test_publish_prints_the_diff_then_the_new_version(
    api_url: str, admin: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "segments.json", replaced(shipped("segments.json"), "/rules/1/profile", "standard"))
    status, out, _ = run(
        capsys, "publish", str(workdir), "--api", api_url, "--token", admin, "--note", "trial"
    )
    assert status == 0
    diff_at = out.index("rule 'rural-app': profile rural -> profile standard")
    assert out.index("published version 2") > diff_at
    again, out, _ = run(capsys, "publish", str(workdir), "--api", api_url, "--token", admin)
    assert again == 0
    assert "nothing to publish" in out


def test_publish_of_invalid_files_stops_before_calling_the_api(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "segments.json", replaced(shipped("segments.json"), "/rules/1/profile", "yuoth"))
    unreachable = f"http://127.0.0.1:{free_port()}"
    status, _, err = run(capsys, "publish", str(workdir), "--api", unreachable, "--token", "t")
    assert status == 2
    assert "segments.json /rules/1/profile: there is no profile 'yuoth'" in err
    assert "cannot reach" not in err


def test_rollback_prints_the_new_version_and_what_it_changed(
    api_url: str, admin: str, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(workdir, "segments.json", replaced(shipped("segments.json"), "/rules/1/profile", "standard"))
    assert run(capsys, "publish", str(workdir), "--api", api_url, "--token", admin)[0] == 0
    status, out, _ = run(capsys, "rollback", "1", "--api", api_url, "--token", admin)
    assert status == 0
    assert "version 3 has the files of version 1" in out
    assert "rule 'rural-app': profile standard -> profile rural" in out


def test_preview_prints_the_home_screen(api_url: str, admin: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["elder-60-plus", "--customer", "RCB001-00042", "--app-version", "5.8.0"]
    status, out, _ = run(capsys, "preview", *args, "--api", api_url, "--token", admin)
    assert status == 0
    assert json.loads(out) == {
        "rule": "elder-60-plus",
        "customer": "RCB001-00042",
        "appVersion": "5.8.0",
        "sections": [],
    }


def test_a_refusal_is_printed_with_its_code_and_exits_2(
    api_url: str, issuer: DevIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = issuer.mint(subject="RCB001-00042", member_bank="RCB001", roles=["customer"])
    status, _, err = run(capsys, "rollback", "1", "--api", api_url, "--token", customer)
    assert status == 2
    assert "error: Forbidden (403) ROLE_REQUIRED" in err
    status, _, err = run(
        capsys,
        "preview",
        "nope",
        "--api",
        api_url,
        "--token",
        issuer.mint(subject="ux-admin", member_bank="*", roles=["admin"]),
    )
    assert status == 2
    assert "SEGMENT_NOT_FOUND" in err
    assert "there is no segment rule 'nope'" in err


def test_commands_without_a_token_or_a_reachable_api_say_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BFF_ADMIN_TOKEN", raising=False)
    status, _, err = run(capsys, "rollback", "1")
    assert (status, err.strip()) == (2, "error: no admin token: pass --token or set BFF_ADMIN_TOKEN")
    status, _, err = run(capsys, "rollback", "1", "--api", f"http://127.0.0.1:{free_port()}", "--token", "t")
    assert status == 2
    assert "cannot reach the experience admin API" in err
