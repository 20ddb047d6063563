"""The experience admin API under /admin/v1/experience (docs/experience-admin-api.md), for UX teams.

Every route needs a token with the `admin` role. Reads of the current
experience (GET /admin/v1/experience, /files, /preview, the dry run's base)
answer from this process's `LiveExperience`, so they report the version this
process serves, which may trail a publish elsewhere by up to a second;
changes are decided on Redis and name the version they are based on in
If-Match, so a stale base is refused (412), never silently overwritten.
Every refusal is an RFC 9457 problem with a machine `code`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, Final

import orjson
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.auth.bearer import principal_from_headers
from bff.auth.errors import AuthError
from bff.auth.principal import Principal, Role
from bff.auth.validator import TokenValidator
from bff.experience.admin_requests import (
    AdminRequestError,
    AssignBody,
    FilesBody,
    RollbackBody,
    ScheduleBody,
    etag,
    expected_version,
    query_int,
    read_json,
)
from bff.experience.admin_views import files_view, meta_view, schedule_view, state_view
from bff.experience.assignment import assign_profile
from bff.experience.diff import ExperienceDiff, diff_experience
from bff.experience.files import files_from_documents
from bff.experience.live import ExperienceNotLoaded, LiveExperience
from bff.experience.loading import ExperienceSet
from bff.experience.problems import ExperienceError
from bff.experience.refusals import ExperienceRefused, RefusalCode, version_conflict
from bff.experience.store import ExperienceStore, Published, parse_files
from bff.experience.store_records import Action, ScheduledAssignment, StoredVersion
from bff.miniprograms.partner_problems import PROBLEM_MEDIA_TYPE, problem

PREFIX: Final = "/admin/v1/experience"
MAX_HISTORY: Final = 1000

# (segment rule id, customer id, app version) -> the home screen that customer would see (the preview shape).
PreviewSource = Callable[[str, str | None, str | None], Awaitable[dict[str, Any]]]
Handler = Callable[[Request], Awaitable[Response]]

_STATUS: Final[Mapping[RefusalCode, int]] = {
    RefusalCode.VERSION_CONFLICT: 412,
    RefusalCode.PRECONDITION_REQUIRED: 428,
    RefusalCode.VERSION_NOT_FOUND: 404,
    RefusalCode.ROLLBACK_NOT_EARLIER: 409,
    RefusalCode.SEGMENT_NOT_FOUND: 404,
    RefusalCode.SCHEDULE_NOT_FOUND: 404,
    RefusalCode.SCHEDULE_NOT_PENDING: 409,
    RefusalCode.SCHEDULE_IN_PAST: 422,
    RefusalCode.NO_EXPERIENCE: 503,
    RefusalCode.CONCURRENT_CHANGE: 409,
}


def experience_admin_routes(
    store: ExperienceStore,
    live: LiveExperience,
    validator: TokenValidator,
    preview: PreviewSource,
    *,
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:
    """The routes of the experience admin API over one store and this process's live experience."""
    api = ExperienceAdminApi(store, live, validator, preview, clock)
    table: list[tuple[str, Handler, str]] = [
        (PREFIX, api.get_state, "GET"),
        (PREFIX, api.publish, "PUT"),
        (PREFIX + "/files", api.get_files, "GET"),
        (PREFIX + "/dry-run", api.dry_run, "POST"),
        (PREFIX + "/segments/{rule_id}/profile", api.assign, "POST"),
        (PREFIX + "/rollback", api.rollback, "POST"),
        (PREFIX + "/history", api.history, "GET"),
        (PREFIX + "/versions/{version:int}/files", api.version_files, "GET"),
        (PREFIX + "/schedule", api.schedule, "POST"),
        (PREFIX + "/schedule", api.list_schedule, "GET"),
        (PREFIX + "/schedule/{change_id}", api.cancel_schedule, "DELETE"),
        (PREFIX + "/preview", api.preview, "GET"),
    ]
    return [Route(path, _refusals(handler), methods=[method]) for path, handler, method in table]


class ExperienceAdminApi:
    def __init__(
        self,
        store: ExperienceStore,
        live: LiveExperience,
        validator: TokenValidator,
        preview: PreviewSource,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._live = live
        self._validator = validator
        self._preview = preview
        self._clock = clock

    def _admin(self, request: Request) -> Principal:
        principal = principal_from_headers(request.headers, self._validator)
        if not principal.has(Role.ADMIN):
            raise AdminRequestError(
                403, "ROLE_REQUIRED", "the experience admin API needs a token with the role admin"
            )
        return principal

    # --- reading what this process serves ---

    async def get_state(self, request: Request) -> Response:
        self._admin(request)
        served = self._live.snapshot()
        return _json(state_view(served.version, served.experience, served.meta), headers=etag(served.version))

    async def get_files(self, request: Request) -> Response:
        self._admin(request)
        served = self._live.snapshot()
        return _json(files_view(served.version, served.experience), headers=etag(served.version))

    async def dry_run(self, request: Request) -> Response:
        self._admin(request)
        body = await read_json(request, FilesBody)
        experience = await parse_files(files_from_documents(body.files))
        version, current = self._live.current()
        return _json(_dry_run_view(version, diff_experience(current, experience)))

    # --- changes ---

    async def publish(self, request: Request) -> Response:
        principal = self._admin(request)
        expected = expected_version(request)
        body = await read_json(request, FilesBody)
        experience = await parse_files(files_from_documents(body.files))
        published = await self._store.publish(expected, experience, principal.subject, note=body.note)
        return self._published(published)

    async def assign(self, request: Request) -> Response:
        principal = self._admin(request)
        body = await read_json(request, AssignBody)
        expected = None if body.dry_run else expected_version(request)
        rule_id = request.path_params["rule_id"]
        current = await self._store.current()
        if expected is not None and expected != current.version:
            raise version_conflict(expected, current.version)
        files = assign_profile(current.experience.files, rule_id, body.profile, body.rollout_percent)
        experience = await parse_files(files)
        if body.dry_run:
            return _json(_dry_run_view(current.version, diff_experience(current.experience, experience)))
        note = body.note or _assign_note(rule_id, body.profile, body.rollout_percent)
        published = await self._store.publish(
            current.version, experience, principal.subject, action=Action.ASSIGN, note=note
        )
        return self._published(published)

    async def rollback(self, request: Request) -> Response:
        principal = self._admin(request)
        expected = expected_version(request)
        body = await read_json(request, RollbackBody)
        published = await self._store.rollback(expected, body.to_version, principal.subject, body.note)
        return self._published(published)

    def _published(self, published: Published) -> Response:
        stored = published.stored
        self._live.offer(stored)  # this process serves its own change at once
        return _json(_published_view(stored, published.diff), headers=etag(stored.version))

    # --- versions and history ---

    async def history(self, request: Request) -> Response:
        self._admin(request)
        limit = query_int(request, "limit", 50, 1, MAX_HISTORY)
        return _json({"versions": [meta_view(meta) for meta in await self._store.history(limit)]})

    async def version_files(self, request: Request) -> Response:
        self._admin(request)
        stored = await self._store.version(request.path_params["version"])
        return _json(files_view(stored.version, stored.experience))

    # --- scheduled changes ---

    async def schedule(self, request: Request) -> Response:
        principal = self._admin(request)
        body = await read_json(request, ScheduleBody)
        at = body.at.timestamp()
        if at <= self._clock():
            raise ExperienceRefused(
                RefusalCode.SCHEDULE_IN_PAST,
                f"{body.at.isoformat()} has passed; publish now instead (PUT or the assign route)",
            )
        files, assign = await self._checked_schedule(body)
        change = await self._store.schedule(at, principal.subject, files=files, assign=assign, note=body.note)
        return _json(schedule_view(change), 201)

    async def _checked_schedule(
        self, body: ScheduleBody
    ) -> tuple[dict[str, bytes] | None, ScheduledAssignment | None]:
        """The change in stored form, once it passes against the current version (it is checked again when due)."""
        if body.files is not None:
            files = files_from_documents(body.files)
            await parse_files(files)
            return files, None
        assert body.assign is not None  # ScheduleBody asks for one of the two
        spec = body.assign
        current = await self._store.current()
        await parse_files(
            assign_profile(current.experience.files, spec.rule_id, spec.profile, spec.rollout_percent)
        )
        return None, ScheduledAssignment(spec.rule_id, spec.profile, spec.rollout_percent)

    async def list_schedule(self, request: Request) -> Response:
        self._admin(request)
        return _json({"scheduled": [schedule_view(change) for change in await self._store.scheduled()]})

    async def cancel_schedule(self, request: Request) -> Response:
        principal = self._admin(request)
        change = await self._store.cancel(request.path_params["change_id"], principal.subject)
        return _json(schedule_view(change))

    # --- preview ---

    async def preview(self, request: Request) -> Response:
        self._admin(request)
        query = request.query_params
        rule_id = query.get("segment")
        if not rule_id:
            raise AdminRequestError(
                422,
                "QUERY_INVALID",
                "name the segment rule to preview: ?segment=<rule id>",
                [{"path": "/segment", "message": "required"}],
            )
        _require_rule(self._live.current()[1], rule_id)
        return _json(await self._preview(rule_id, query.get("customer"), query.get("appVersion")))


def _require_rule(experience: ExperienceSet, rule_id: str) -> None:
    known = [rule.id for rule in experience.segments.all_rules]
    if rule_id not in known:
        raise ExperienceRefused(
            RefusalCode.SEGMENT_NOT_FOUND, f"there is no segment rule {rule_id!r} (rules: {', '.join(known)})"
        )


def _assign_note(rule_id: str, profile: str, percent: Decimal | None) -> str:
    if percent is None:
        return f"assign profile {profile} to rule {rule_id}"
    return f"roll out profile {profile} to {percent}% of rule {rule_id}"


def _dry_run_view(against: int, diff: ExperienceDiff) -> dict[str, Any]:
    return {"valid": True, "against": against, "diff": diff.to_json(), "changes": diff.lines()}


def _published_view(stored: StoredVersion, diff: ExperienceDiff) -> dict[str, Any]:
    view = state_view(stored.version, stored.experience, stored.meta)
    return {**view, "diff": diff.to_json(), "changes": diff.lines()}


# --- answers and refusals ---------------------------------------------------------


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers=headers, media_type="application/json")


def _refusals(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except (AuthError, AdminRequestError, ExperienceError, ExperienceRefused) as exc:
            return problem_for(exc)
        except ExperienceNotLoaded as exc:
            return problem(503, "EXPERIENCE_NOT_LOADED", str(exc))
        except RedisError as exc:
            return problem(503, "STORE_UNAVAILABLE", f"the experience store (Redis) cannot be reached: {exc}")

    return answered


def problem_for(exc: AuthError | AdminRequestError | ExperienceError | ExperienceRefused) -> Response:
    """The problem response for a refused request."""
    if isinstance(exc, AuthError):
        # RFC 6750 section 3: a refused token is answered with the Bearer challenge.
        challenge = 'Bearer realm="admin"' + (
            "" if exc.code == "TOKEN_MISSING" else ', error="invalid_token"'
        )
        return problem(401, exc.code, exc.message, headers={"WWW-Authenticate": challenge})
    if isinstance(exc, AdminRequestError):
        return problem(exc.status, exc.code, exc.detail, errors=exc.errors)
    if isinstance(exc, ExperienceError):
        problems = [{"file": p.file, "path": p.path, "message": p.message} for p in exc.problems]
        return _extended(problem(422, "EXPERIENCE_INVALID", str(exc)), problems=problems)
    if exc.current_version is None:
        return problem(_STATUS[exc.code], exc.code, exc.message)
    # The current version as a member and as the ETag: what to read before trying again.
    response = problem(_STATUS[exc.code], exc.code, exc.message, headers=etag(exc.current_version))
    return _extended(response, currentVersion=exc.current_version)


def _extended(response: Response, **members: Any) -> Response:
    """`response` (a problem) with more members, as RFC 9457 allows, keeping its status and headers."""
    body = orjson.loads(response.body) | members
    headers = {key: value for key, value in response.headers.items() if key.lower() != "content-length"}
    return Response(orjson.dumps(body), response.status_code, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
