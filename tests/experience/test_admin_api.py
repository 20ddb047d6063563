"""The experience admin API in process over a real Redis: reads, guarded changes, refusals, schedule, preview."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from bff.auth.dev_issuer import DevIssuer
from bff.auth.validator import TokenValidator
from bff.experience.admin_api import experience_admin_routes
from bff.experience.live import LiveExperience
from bff.experience.loading import ExperienceSet
from bff.experience.resolution import resolve
from bff.experience.segments import AppContext, CustomerAttributes
from bff.experience.store import ExperienceStore
from tests.experience.documents import load_with, replaced, shipped, shipped_files
from tests.support.processes import RedisServer
from tests.support.redis_db import redis_db

DB = 6
BASE = "/admin/v1/experience"
JSON = {"Content-Type": "application/json"}


@dataclass
class PreviewCalls:
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    async def __call__(self, rule_id: str, customer: str | None, app_version: str | None) -> dict[str, Any]:
        self.calls.append((rule_id, customer, app_version))
        return {"rule": rule_id, "profile": "elder", "sections": []}


@dataclass
class Api:
    http: httpx.AsyncClient
    admin: dict[str, str]
    store: ExperienceStore
    previews: PreviewCalls

    async def get(self, path: str = "", **options: Any) -> httpx.Response:
        return await self.http.get(BASE + path, headers=self.admin, **options)

    async def send(
        self, method: str, path: str, body: Any = None, if_match: str | None = None
    ) -> httpx.Response:
        headers = {**self.admin, **JSON, **({"If-Match": if_match} if if_match is not None else {})}
        return await self.http.request(method, BASE + path, content=json.dumps(body), headers=headers)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer"))


def bearer(issuer: DevIssuer, subject: str, roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.mint(subject=subject, member_bank='*', roles=roles)}"}


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    async with redis_db(redis_server, DB) as client:
        yield client


@pytest.fixture(scope="module")
def shipped_set() -> ExperienceSet:
    return load_with()


@pytest.fixture
async def api(
    redis_client: aioredis.Redis, issuer: DevIssuer, shipped_set: ExperienceSet
) -> AsyncIterator[Api]:
    store = ExperienceStore(redis_client)
    live = LiveExperience(store, redis_client, shipped=lambda: shipped_set)
    validator = TokenValidator(lambda: issuer.keys, issuer.issuer, issuer.audience)
    previews = PreviewCalls()
    app = Starlette(routes=experience_admin_routes(store, live, validator, previews))
    await live.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff") as http:
            yield Api(http, bearer(issuer, "ux-admin", ["admin"]), store, previews)
    finally:
        await live.stop()


def documents() -> dict[str, Any]:
    return {name: json.loads(raw) for name, raw in shipped_files().items()}


def with_rule_profile(rule_index: int, profile: str) -> dict[str, Any]:
    files = documents()
    files["segments.json"] = replaced(shipped("segments.json"), f"/rules/{rule_index}/profile", profile)
    return files


# --- reading ----------------------------------------------------------------------


async def test_get_answers_the_version_this_process_serves_with_its_etag(api: Api) -> None:
    answer = await api.get()
    assert answer.status_code == 200
    assert answer.headers["ETag"] == '"1"'
    state = answer.json()
    assert (state["version"], state["publishedBy"], state["action"]) == (
        1,
        "bff (shipped experience/)",
        "seed",
    )
    assert state["publishedAt"].endswith("Z")
    elder = next(segment for segment in state["segments"] if segment["rule"] == "elder-60-plus")
    assert elder == {
        "id": "elder",
        "rule": "elder-60-plus",
        "description": "Customers aged 60 or over in the mobile app.",
        "elder": True,
        "profile": "elder",
        "rollout": None,
    }
    trial = next(segment for segment in state["segments"] if segment["rule"] == "urban-31-40-trial")
    assert trial["rollout"] == {"percent": 10, "profile": "youth"}
    assert {"id": "elder", "name": "长辈版", "elderFriendly": True}.items() <= state["profiles"][0].items()


async def test_files_are_the_served_documents(api: Api) -> None:
    answer = await api.get("/files")
    assert (answer.status_code, answer.headers["ETag"]) == (200, '"1"')
    assert answer.json() == {"version": 1, "files": documents()}


# --- who may call -------------------------------------------------------------------


async def test_a_token_without_the_admin_role_is_refused_with_403(api: Api, issuer: DevIssuer) -> None:
    customer = bearer(issuer, "RCB001-00042", ["customer"])
    for method, path in [
        ("GET", ""),
        ("PUT", ""),
        ("POST", "/rollback"),
        ("GET", "/preview?segment=everyone"),
    ]:
        answer = await api.http.request(method, BASE + path, headers={**customer, **JSON}, content="{}")
        assert (answer.status_code, answer.json()["code"]) == (403, "ROLE_REQUIRED"), (method, path)
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_request_without_a_token_is_refused_with_401_and_a_challenge(api: Api) -> None:
    answer = await api.http.get(BASE)
    assert (answer.status_code, answer.json()["code"]) == (401, "TOKEN_MISSING")
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="admin"'


# --- publishing -----------------------------------------------------------------------


async def test_publish_without_if_match_is_refused_with_428(api: Api) -> None:
    answer = await api.send("PUT", "", {"files": with_rule_profile(1, "standard")})
    assert (answer.status_code, answer.json()["code"]) == (428, "PRECONDITION_REQUIRED")
    assert await api.store.current_version() == 1


async def test_publish_with_the_current_version_answers_the_new_state(api: Api) -> None:
    answer = await api.send("PUT", "", {"files": with_rule_profile(1, "standard"), "note": "trial"}, '"1"')
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"] == '"2"'
    state = answer.json()
    assert (state["version"], state["publishedBy"], state["note"]) == (2, "ux-admin", "trial")
    assert state["changes"] == ["rule 'rural-app': profile rural -> profile standard"]
    # The process that took the change serves it at once.
    assert (await api.get()).json()["version"] == 2


async def test_publish_against_a_stale_version_is_refused_with_412_naming_the_current_version(
    api: Api,
) -> None:
    assert (await api.send("PUT", "", {"files": with_rule_profile(1, "standard")}, '"1"')).status_code == 200
    answer = await api.send("PUT", "", {"files": with_rule_profile(1, "youth")}, '"1"')
    assert answer.status_code == 412
    problem = answer.json()
    assert (problem["code"], problem["currentVersion"]) == ("VERSION_CONFLICT", 2)
    assert "the current version is 2" in problem["detail"]
    assert answer.headers["ETag"] == '"2"'
    assert await api.store.current_version() == 2


async def test_if_match_naming_no_version_is_refused(api: Api) -> None:
    answer = await api.send("PUT", "", {"files": documents()}, "*")
    assert (answer.status_code, answer.json()["code"]) == (400, "IF_MATCH_INVALID")


async def test_dry_run_validates_and_diffs_without_storing(api: Api) -> None:
    history = await api.store.history()
    answer = await api.send("POST", "/dry-run", {"files": with_rule_profile(0, "elder")})
    assert answer.json() == {
        "valid": True,
        "against": 1,
        "diff": {
            "profiles": {"added": [], "removed": [], "changed": []},
            "segments": [],
            "overrides": {"added": [], "removed": [], "changed": []},
        },
        "changes": [],
    }
    answer = await api.send("POST", "/dry-run", {"files": with_rule_profile(2, "standard")})
    assert answer.json()["diff"]["segments"] == [
        {
            "rule": "youth-video",
            "before": {"profile": "youth", "rollout": None},
            "after": {"profile": "standard", "rollout": None},
            "changes": ["profile"],
        }
    ]
    assert await api.store.history() == history


async def test_a_bad_file_is_refused_with_its_file_and_field_path(api: Api) -> None:
    files = documents()
    files["profiles/elder.json"] = replaced(
        shipped("profiles/elder.json"), "/presentation/typography/bodySize", 16
    )
    files["segments.json"] = replaced(shipped("segments.json"), "/rules/1/profile", "yuoth")
    for method, path, if_match in [("PUT", "", '"1"'), ("POST", "/dry-run", None)]:
        answer = await api.send(method, path, {"files": files}, if_match)
        assert answer.status_code == 422
        problem = answer.json()
        assert problem["code"] == "EXPERIENCE_INVALID"
        assert [(p["file"], p["path"]) for p in problem["problems"]] == [
            ("profiles/elder.json", "/presentation/typography/bodySize"),
            ("segments.json", "/rules/1/profile"),
        ]
        assert "there is no profile 'yuoth'" in problem["problems"][1]["message"]
    assert await api.store.current_version() == 1


async def test_a_body_of_the_wrong_shape_is_refused_with_the_field_path(api: Api) -> None:
    answer = await api.send("PUT", "", {"files": documents(), "notes": "typo"}, '"1"')
    problem = answer.json()
    assert (answer.status_code, problem["code"]) == (422, "BODY_INVALID")
    assert [error["path"] for error in problem["errors"]] == ["/notes"]


# --- assigning a profile to a segment ------------------------------------------------


async def test_assign_profile_to_a_segment(api: Api) -> None:
    answer = await api.send("POST", "/segments/rural-app/profile", {"profile": "standard"}, '"1"')
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert (state["version"], state["action"]) == (2, "assign")
    assert state["note"] == "assign profile standard to rule rural-app"
    rural = next(segment for segment in state["segments"] if segment["rule"] == "rural-app")
    assert (rural["profile"], rural["rollout"]) == ("standard", None)


async def test_assign_dry_run_diffs_without_storing(api: Api) -> None:
    body = {"profile": "youth", "rolloutPercent": 25, "dryRun": True}
    answer = await api.send("POST", "/segments/rural-app/profile", body)
    assert answer.json()["diff"]["segments"] == [
        {
            "rule": "rural-app",
            "before": {"profile": "rural", "rollout": None},
            "after": {"profile": "rural", "rollout": {"percent": 25, "profile": "youth"}},
            "changes": ["rollout"],
        }
    ]
    assert await api.store.current_version() == 1


async def test_assign_refusals(api: Api) -> None:
    unknown_rule = await api.send("POST", "/segments/nope/profile", {"profile": "standard"}, '"1"')
    assert (unknown_rule.status_code, unknown_rule.json()["code"]) == (404, "SEGMENT_NOT_FOUND")
    unknown_profile = await api.send("POST", "/segments/rural-app/profile", {"profile": "nope"}, '"1"')
    assert (unknown_profile.status_code, unknown_profile.json()["code"]) == (422, "EXPERIENCE_INVALID")
    assert unknown_profile.json()["problems"][0]["path"] == "/rules/1/profile"
    # Youth autoplays and shows banners: it must not reach an elder segment, not even as a rollout.
    for body in ({"profile": "youth"}, {"profile": "youth", "rolloutPercent": 5}):
        elder = await api.send("POST", "/segments/elder-60-plus/profile", body, '"1"')
        assert (elder.status_code, elder.json()["code"]) == (422, "EXPERIENCE_INVALID")
        youth = [p for p in elder.json()["problems"] if p["file"] == "profiles/youth.json"]
        assert youth
        assert all("segment rule 'elder-60-plus' is marked elder" in p["message"] for p in youth)
    stale = await api.send("POST", "/segments/rural-app/profile", {"profile": "standard"}, '"0"')
    assert (stale.status_code, stale.json()["currentVersion"]) == (412, 1)
    missing = await api.send("POST", "/segments/rural-app/profile", {"profile": "standard"})
    assert missing.status_code == 428
    assert await api.store.current_version() == 1


async def test_raising_a_rollout_keeps_everyone_who_had_the_new_profile(api: Api) -> None:
    customers = [CustomerAttributes(f"RCB002-{n:05d}", "RCB002", 35, "urban", "mass") for n in range(2000)]
    app = AppContext("app", "5.9.0")

    async def youth_at(percent: int, version: int) -> set[str]:
        body = {"profile": "youth", "rolloutPercent": percent}
        answer = await api.send("POST", "/segments/urban-31-40-trial/profile", body, f'"{version}"')
        assert answer.status_code == 200, answer.text
        experience = (await api.store.version(version + 1)).experience
        return {c.customer_id for c in customers if resolve(experience, c, app).profile_id == "youth"}

    at_30, at_50, at_80 = await youth_at(30, 1), await youth_at(50, 2), await youth_at(80, 3)
    assert at_30 <= at_50 <= at_80
    assert 0.25 < len(at_30) / 2000 < 0.35
    assert 0.45 < len(at_50) / 2000 < 0.55
    assert 0.75 < len(at_80) / 2000 < 0.85


# --- rollback and history -------------------------------------------------------------


async def test_rollback_through_the_api_republishes_the_earlier_files_and_digest(api: Api) -> None:
    first = (await api.get("/versions/1/files")).json()["files"]
    await api.send("POST", "/segments/rural-app/profile", {"profile": "standard"}, '"1"')
    answer = await api.send("POST", "/rollback", {"toVersion": 1, "note": "back"}, '"2"')
    assert answer.status_code == 200, answer.text
    assert answer.json()["digest"] == (await api.store.version(1)).experience.digest
    assert answer.json()["changes"] == ["rule 'rural-app': profile standard -> profile rural"]
    assert (await api.get("/versions/3/files")).json() == {"version": 3, "files": first}
    not_found = await api.get("/versions/9/files")
    assert (not_found.status_code, not_found.json()["code"]) == (404, "VERSION_NOT_FOUND")
    not_earlier = await api.send("POST", "/rollback", {"toVersion": 3}, '"3"')
    assert (not_earlier.status_code, not_earlier.json()["code"]) == (409, "ROLLBACK_NOT_EARLIER")


async def test_history_lists_every_version_newest_first(api: Api) -> None:
    await api.send("POST", "/segments/rural-app/profile", {"profile": "standard"}, '"1"')
    await api.send("POST", "/rollback", {"toVersion": 1}, '"2"')
    versions = (await api.get("/history")).json()["versions"]
    assert [(v["version"], v["action"], v["actor"]) for v in versions] == [
        (3, "rollback", "ux-admin"),
        (2, "assign", "ux-admin"),
        (1, "seed", "bff (shipped experience/)"),
    ]
    assert versions[0]["summary"] == {
        "fromVersion": 2,
        "fromDigest": versions[1]["digest"],
        "changes": ["rule 'rural-app': profile standard -> profile rural"],
    }
    assert [v["version"] for v in (await api.get("/history", params={"limit": 1})).json()["versions"]] == [3]
    assert (await api.get("/history", params={"limit": 0})).status_code == 422


# --- scheduled changes ----------------------------------------------------------------


def later(seconds: float = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_schedule_a_change_list_it_and_cancel_it(api: Api) -> None:
    body = {"at": later(), "assign": {"ruleId": "rural-app", "profile": "standard"}, "note": "at nine"}
    created = await api.send("POST", "/schedule", body)
    assert created.status_code == 201, created.text
    change = created.json()
    assert (change["state"], change["kind"], change["createdBy"], change["note"]) == (
        "pending",
        "assign",
        "ux-admin",
        "at nine",
    )
    assert change["assign"] == {"ruleId": "rural-app", "profile": "standard", "rolloutPercent": None}
    listed = (await api.get("/schedule")).json()["scheduled"]
    assert [item["id"] for item in listed] == [change["id"]]
    cancelled = await api.http.delete(f"{BASE}/schedule/{change['id']}", headers=api.admin)
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    again = await api.http.delete(f"{BASE}/schedule/{change['id']}", headers=api.admin)
    assert (again.status_code, again.json()["code"]) == (409, "SCHEDULE_NOT_PENDING")


async def test_schedule_refusals(api: Api) -> None:
    past = await api.send("POST", "/schedule", {"at": later(-60), "files": documents()})
    assert (past.status_code, past.json()["code"]) == (422, "SCHEDULE_IN_PAST")
    both = await api.send(
        "POST", "/schedule", {"at": later(), "files": documents(), "assign": {"ruleId": "x", "profile": "y"}}
    )
    assert (both.status_code, both.json()["code"]) == (422, "BODY_INVALID")
    bad = await api.send("POST", "/schedule", {"at": later(), "files": with_rule_profile(1, "yuoth")})
    assert (bad.status_code, bad.json()["code"]) == (422, "EXPERIENCE_INVALID")
    unknown = await api.send(
        "POST", "/schedule", {"at": later(), "assign": {"ruleId": "x", "profile": "youth"}}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "SEGMENT_NOT_FOUND")
    naive = await api.send("POST", "/schedule", {"at": "2031-01-01T09:00:00", "files": documents()})
    assert naive.status_code == 422
    assert (await api.get("/schedule")).json() == {"scheduled": []}


# --- preview ------------------------------------------------------------------------------


async def test_preview_answers_what_the_source_renders_for_the_rule(api: Api) -> None:
    answer = await api.get(
        "/preview", params={"segment": "elder-60-plus", "customer": "RCB001-00042", "appVersion": "5.8.0"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"rule": "elder-60-plus", "profile": "elder", "sections": []}
    assert api.previews.calls == [("elder-60-plus", "RCB001-00042", "5.8.0")]


async def test_preview_of_an_unknown_rule_is_404_without_asking_the_source(api: Api) -> None:
    answer = await api.get("/preview", params={"segment": "nope"})
    assert (answer.status_code, answer.json()["code"]) == (404, "SEGMENT_NOT_FOUND")
    missing = await api.get("/preview")
    assert (missing.status_code, missing.json()["code"]) == (422, "QUERY_INVALID")
    assert api.previews.calls == []


async def test_an_oversized_body_is_refused_with_413_not_a_server_error(api: Api) -> None:
    oversized = {"files": {"segments.json": {"description": "x" * (4 * 1024 * 1024)}}}
    answer = await api.send("PUT", "", oversized, '"1"')
    assert (answer.status_code, answer.json()["code"]) == (413, "REQUEST_TOO_LARGE")
