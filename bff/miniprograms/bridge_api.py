"""The bridge API under /miniprogram/bridge/v1/{appId}/: what a running mini-program may ask the host.

Every call passes the same gate (`BridgeApi._admit`), in this order:

1. the bridge token (`Authorization: Bearer`): signature, expiry, audience =
   the app in the path, record still live -> 401 with the token's code;
2. the app is not suspended for the customer's member bank and is released
   to the customer (read through `ReleaseCache`, at most a poll interval
   stale) -> 403 APP_SUSPENDED / APP_NOT_AVAILABLE; this resolves the
   customer's version;
3. that version declares the API and the token carries its scope -> 403
   BRIDGE_API_NOT_DECLARED / BRIDGE_SCOPE_MISSING;
4. the manifest's rate limits, per app per second and per app and customer
   per minute -> 429 with Retry-After;

then the call runs and is written to the customer's access log. Refusals are
RFC 9457 problems with a machine code, as on the partner API; the customer's
profile source unavailable is 503 BRIDGE_UPSTREAM_UNAVAILABLE (Retry-After),
anything unexpected 500 BRIDGE_INTERNAL_ERROR (logged).

Every call that got as far as resolving the customer's version is reported,
with its outcome, to the `ReleaseGuard`, which halts a release whose new
version fails too often (`release_guard.py` says what counts as a failure).

`journeys` records a journey open request and answers 202 with its id:
journeys themselves arrive in a later issue, which consumes these records.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.channels.errors import ChannelFailure
from bff.channels.models import CustomerProfile, CustomerScope
from bff.miniprograms.access_log import AccessLog
from bff.miniprograms.bridge_errors import BridgeAuthError, BridgeErrorCode
from bff.miniprograms.bridge_requests import BridgeRequests, InvalidRequest, parse_amount
from bff.miniprograms.bridge_scopes import check_call, granted_for_api
from bff.miniprograms.bridge_storage import BridgeStorage, StorageErrorCode, StorageRefused
from bff.miniprograms.bridge_tokens import BridgeSession, BridgeTokenVerifier
from bff.miniprograms.manifest import Manifest
from bff.miniprograms.partner_problems import problem
from bff.miniprograms.rate_limit import RateLimiter, app_key, customer_key
from bff.miniprograms.release_cache import ReleaseCache
from bff.miniprograms.release_guard import ReleaseGuard, counts_as_failure
from bff.store.client import RedisClient

logger = logging.getLogger("bff.miniprograms.bridge_api")

PREFIX: Final = "/miniprogram/bridge/v1"
MAX_BODY_BYTES: Final = 16 * 1024
NO_SCOPE: Final = "none"  # the access log's scope for an API that reads no user data
UPSTREAM_RETRY_AFTER_S: Final = 5

ProfileSource = Callable[[CustomerScope], Awaitable[CustomerProfile]]
Handler = Callable[[Request], Awaitable[Response]]

_STORAGE_STATUS: Final = {
    StorageErrorCode.STORAGE_KEY_INVALID: 400,
    StorageErrorCode.STORAGE_VALUE_TOO_LARGE: 413,
    StorageErrorCode.STORAGE_QUOTA_KEYS: 409,
    StorageErrorCode.STORAGE_QUOTA_BYTES: 409,
}


class BridgeCallRefused(Exception):
    """A refusal decided by the bridge's HTTP layer (suspension, rate limit, undeclared API, bad input)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


@dataclass(frozen=True, slots=True)
class Call:
    """A call whose version is resolved: the verified session and the manifest of the customer's version."""

    session: BridgeSession
    manifest: Manifest

    @property
    def customer(self) -> CustomerScope:
        return self.session.customer

    @property
    def app_id(self) -> str:
        return self.session.app_id

    @property
    def version(self) -> str:
        return self.manifest.version


def bridge_routes(
    verifier: BridgeTokenVerifier,
    releases: ReleaseCache,
    access_log: AccessLog,
    redis: RedisClient,
    profile_source: ProfileSource,
    *,
    limiter: RateLimiter | None = None,
    storage: BridgeStorage | None = None,
    requests: BridgeRequests | None = None,
    guard: ReleaseGuard | None = None,
) -> list[BaseRoute]:
    """The bridge's routes; `profile_source` reads the customer's profile (the CRM channel in the app).

    With a `guard`, every call that resolved a version is counted towards that version's health.
    """
    api = BridgeApi(
        verifier,
        releases,
        access_log,
        limiter or RateLimiter(redis),
        storage or BridgeStorage(redis),
        requests or BridgeRequests(redis),
        profile_source,
    )
    app = PREFIX + "/{app_id}"
    table: list[tuple[str, Handler, list[str]]] = [
        (app + "/user/info", api.user_info, ["GET"]),
        (app + "/user/phone-masked", api.phone_masked, ["GET"]),
        (app + "/payment/intents", api.payment_intent, ["POST"]),
        (app + "/storage/{key}", api.storage, ["GET", "PUT", "DELETE"]),
        (app + "/journeys", api.journey, ["POST"]),
    ]
    return [Route(path, _refusals(handler, guard), methods=methods) for path, handler, methods in table]


class BridgeApi:
    def __init__(
        self,
        verifier: BridgeTokenVerifier,
        releases: ReleaseCache,
        access_log: AccessLog,
        limiter: RateLimiter,
        storage: BridgeStorage,
        requests: BridgeRequests,
        profile_source: ProfileSource,
    ) -> None:
        self._verifier = verifier
        self._releases = releases
        self._access_log = access_log
        self._limiter = limiter
        self._storage = storage
        self._requests = requests
        self._profile_source = profile_source

    async def user_info(self, request: Request) -> Response:
        call = await self._admit(request, "user.info")
        granted = granted_for_api(call.session, "user.info")
        profile = await self._profile_source(call.customer)
        info: dict[str, str] = {}
        if "profile.name" in granted:
            info["name"] = profile.name
        if "profile.language" in granted:
            info["language"] = profile.preferred_language
        if "profile.region" in granted:
            info["region"] = profile.region_type
        await self._record(call, "user.info", " ".join(sorted(granted)))
        return _json(info)

    async def phone_masked(self, request: Request) -> Response:
        call = await self._admit(request, "user.phoneMasked")
        profile = await self._profile_source(call.customer)
        await self._record(call, "user.phoneMasked", "phone.masked")
        return _json({"phoneMasked": mask_phone(profile.phone)})

    async def payment_intent(self, request: Request) -> Response:
        call = await self._admit(request, "payment.request")
        body = await _json_body(request)
        amount = body.get("amount")
        if not isinstance(amount, dict):
            raise InvalidRequest("send amount as {value, currency}")
        value, currency = parse_amount(amount.get("value"), amount.get("currency"))
        description = body.get("description")
        if not isinstance(description, str):
            raise InvalidRequest("send a description the customer will see when asked to confirm")
        intent = await self._requests.create_payment_intent(
            call.customer, call.app_id, value, currency, description
        )
        await self._record(call, "payment.request", "payments.initiate")
        view = {
            "intentId": intent.intent_id,
            "status": intent.status,
            "amount": {"value": str(intent.amount), "currency": intent.currency},
            "description": intent.description,
        }
        return _json(view, 201)

    async def storage(self, request: Request) -> Response:
        api = {"GET": "storage.get", "PUT": "storage.set", "DELETE": "storage.remove"}[request.method]
        call = await self._admit(request, api)
        key = request.path_params["key"]
        if request.method == "GET":
            value = await self._storage.get(call.app_id, call.customer, key)
            if value is None:
                raise BridgeCallRefused(404, "STORAGE_KEY_NOT_FOUND", f"nothing is stored under {key!r}")
            response = _json({"key": key, "value": value})
        elif request.method == "PUT":
            body = await _json_body(request)
            value = body.get("value")
            if not isinstance(value, str):
                raise InvalidRequest('send the value to store as {"value": "..."} (a string)')
            await self._storage.put(call.app_id, call.customer, key, value)
            response = Response(status_code=204)
        else:
            await self._storage.delete(call.app_id, call.customer, key)
            response = Response(status_code=204)
        await self._record(call, api, NO_SCOPE)
        return response

    async def journey(self, request: Request) -> Response:
        call = await self._admit(request, "journey.open")
        journey_type = (await _json_body(request)).get("journeyType")
        if not isinstance(journey_type, str):
            raise InvalidRequest('send the journey to open as {"journeyType": "..."}')
        opened = await self._requests.request_journey(call.customer, call.app_id, journey_type)
        await self._record(call, "journey.open", NO_SCOPE)
        return _json({"requestId": opened.request_id, "status": opened.status}, 202)

    async def _admit(self, request: Request, api: str) -> Call:
        app_id = request.path_params["app_id"]
        session = await self._verifier.verify(_bearer(request), app_id)
        call = Call(session, await self._manifest(session))
        # From here on the outcome, refusals included, counts towards this version's health.
        request.state.bridge_call = call
        if api not in call.manifest.bridge_api_names:
            raise BridgeCallRefused(
                403,
                "BRIDGE_API_NOT_DECLARED",
                f"{app_id} {call.version} does not declare {api} in its manifest's bridgeApis",
            )
        check_call(session, api)
        await self._limit(session, call.manifest)
        return call

    async def _manifest(self, session: BridgeSession) -> Manifest:
        customer = session.customer
        release = await self._releases.release(session.app_id)
        if release is not None and release.is_suspended(customer.member_bank):
            raise BridgeCallRefused(
                403, "APP_SUSPENDED", f"{session.app_id} is suspended; the mini-program must stop"
            )
        version = release.version_for(customer.customer_id, customer.member_bank) if release else None
        if version is None:
            raise BridgeCallRefused(
                403, "APP_NOT_AVAILABLE", f"{session.app_id} is not released to this customer"
            )
        return await self._releases.manifest(session.app_id, version)

    async def _limit(self, session: BridgeSession, manifest: Manifest) -> None:
        limits = manifest.rate_limits
        checks = [
            (app_key(session.app_id), limits.per_app_per_second, 1.0, "per second for the mini-program"),
            (
                customer_key(session.app_id, session.customer),
                limits.per_customer_per_minute,
                60.0,
                "per minute for this customer",
            ),
        ]
        for key, limit, window_s, what in checks:
            decision = await self._limiter.hit(key, limit, window_s)
            if not decision.allowed:
                retry_after = max(1, math.ceil(decision.retry_after_s))
                raise BridgeCallRefused(
                    429,
                    "BRIDGE_RATE_LIMITED",
                    f"{session.app_id} may make {limit} bridge calls {what}; retry in {retry_after} s",
                    headers={"Retry-After": str(retry_after)},
                )

    async def _record(self, call: Call, api: str, scope: str) -> None:
        await self._access_log.record(call.customer, call.app_id, scope or NO_SCOPE, api)


def mask_phone(phone: str) -> str:
    """The first three and last four digits, the rest hidden."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BridgeCallRefused(
            413, "BRIDGE_BODY_TOO_LARGE", f"a bridge request body is at most {MAX_BODY_BYTES} bytes"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    return data


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def _refusals(handler: Handler, guard: ReleaseGuard | None) -> Handler:
    """`handler` with its exceptions answered as problems, and its outcome reported to `guard`."""

    @functools.wraps(handler)
    async def answered(request: Request) -> Response:
        code: str | None = None
        try:
            response = await handler(request)
        except ClientDisconnect:
            raise  # nobody to answer, and no fault of the mini-program's
        except Exception as exc:
            response, code = _problem_for(request, exc)
        call = getattr(request.state, "bridge_call", None)
        if guard is not None and isinstance(call, Call):
            guard.observe(call.app_id, call.version, failed=counts_as_failure(response.status_code, code))
        return response

    return answered


def _problem_for(request: Request, exc: Exception) -> tuple[Response, str]:
    """The problem answering `exc`, and its code."""
    if isinstance(exc, BridgeAuthError):
        return _auth_problem(exc), exc.code
    if isinstance(exc, BridgeCallRefused):
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers), exc.code
    if isinstance(exc, StorageRefused):
        return problem(_STORAGE_STATUS[exc.code], exc.code, exc.message), exc.code
    if isinstance(exc, InvalidRequest):
        return problem(400, "BRIDGE_BAD_REQUEST", str(exc)), "BRIDGE_BAD_REQUEST"
    if isinstance(exc, ChannelFailure):
        logger.warning("bridge call %s %s: %s", request.method, request.url.path, exc)
        code = "BRIDGE_UPSTREAM_UNAVAILABLE"
        # The partner learns that the bank could not answer, not which internal service failed.
        detail = f"the bank could not answer this call just now; retry in {UPSTREAM_RETRY_AFTER_S} s"
        return problem(503, code, detail, headers={"Retry-After": str(UPSTREAM_RETRY_AFTER_S)}), code
    logger.error("bridge call %s %s failed", request.method, request.url.path, exc_info=exc)
    return problem(500, "BRIDGE_INTERNAL_ERROR", "the bridge failed; retry later"), "BRIDGE_INTERNAL_ERROR"


def _auth_problem(exc: BridgeAuthError) -> Response:
    if exc.code.startswith("BRIDGE_TOKEN_"):
        # RFC 6750 section 3: a refused token is answered with the Bearer challenge.
        challenge = 'Bearer realm="bridge"'
        if exc.code is not BridgeErrorCode.BRIDGE_TOKEN_MISSING:
            challenge += ', error="invalid_token"'
        return problem(401, exc.code, exc.message, headers={"WWW-Authenticate": challenge})
    return problem(403, exc.code, exc.message)
