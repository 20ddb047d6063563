"""The bank super-app's traffic, for locust: customers in the app, customers in mini-programs, a partner, a UX admin.

`loadtests/run` starts the stack and runs this file headless. By hand, against
`bff demo` (whose issuer is the default): `locust -f loadtests/locustfile.py
--host http://127.0.0.1:8000`.

User classes (`--users N`: the fixed ones first, the rest split 8:2 by weight):

| class             | weight     | one user is                                                        |
| ----------------- | ---------- | ------------------------------------------------------------------ |
| CustomerAppUser   | 8          | a customer banking in the app, thinking 1-3 s between screens      |
| MiniProgramUser   | 2          | a customer using the partner mini-programs, 2-5 s between screens  |
| PartnerUser       | 1 (fixed)  | the park-services partner shipping a new version during the run    |
| UxAdminUser       | 1 (fixed)  | a UX admin switching a segment's profile live (--no-ux-admin: off) |

Tasks and their weights, per user class:

- CustomerAppUser: starting the app (a token from the identity provider and
  the home screen) on its first step; then the home screen again 4 (pull to
  refresh, coming back to it), the account overview 2, the accounts tab and
  one to three pages of an account's transactions 3, a transfer 1 (with one
  in four sent twice with its idempotency key, as an app retrying after a
  lost answer does), a loan application 1 (start, income, submit), a
  restart of the app by another customer 1.
- MiniProgramUser: the same start; then the mini-program catalogue 2,
  park services 3 (launch, consent on first use, user.info, storage.get and
  storage.set over the bridge), utility bills 1 (launch, payment.request).
- PartnerUser: at 20 % of the run publishes park-services 1.<now>.0 (upload,
  submit, review by two bank reviewers) and releases it to 20 % of
  customers; at 60 % widens it to everyone; in between follows its release.
- UxAdminUser: probes GET /admin/v1/experience (404: logs that the admin API
  is not there and stops); at 40 % assigns another profile to a segment,
  at 80 % rolls back to the version before; in between reads the experience.

Why these weights: a banking app's sessions are mostly looking (home screen,
balances, transactions); money moves in few of them; mini-programs are a
minority of sessions; partners and UX teams are a handful of people.

The home screen is the server-driven `homeScreen` query when the server
serves it; a server without experience profiles answers FORBIDDEN "not
enabled", and the scenarios fall back to the `HomeScreen` data query (logged
once at the start).
"""

from __future__ import annotations

import csv
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import gevent
import httpx
import locust.stats
from locust import FastHttpUser, between, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.stats import StatsCSV

from loadtests.config import Customer, LoadTestConfig, random_customer
from loadtests.graphql_app import GRAPHQL_RESPONSE, AppGraphQL, app_operations
from loadtests.partner_release import PARTNER, new_version

# Lines of this logger are what the runner relays to the operator as the run goes.
note = logging.getLogger("loadtests.note").warning

APP_VERSION = "6.2.0"
PARK = "com.parkservices.tenant"
BILLS = "com.utilitybills.pay"
OUTSIDE_ACCOUNT = "6217000010012345678"  # not a group account: transfers there credit nobody we read
ACCEPTED_REFUSALS = frozenset({"INSUFFICIENT_FUNDS", "LIMIT_EXCEEDED"})


class Run:
    """What every user of this process shares: the runner's configuration and what the start-up probes found."""

    config: LoadTestConfig
    environment: Environment
    server_driven_home = True
    requests = 0


@events.init.add_listener
def _configure(environment: Environment, **_: Any) -> None:
    # The runner prints progress from the history CSV: flush it every second, not every five.
    locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1
    Run.environment = environment
    Run.config = LoadTestConfig.from_environment(environment.host)
    app_operations()  # parse the documents once, before any user needs them

    @environment.events.request.add_listener
    def _bound(**_: Any) -> None:
        # A bound on requests as well as on time: the run stops by itself whatever the rate.
        Run.requests += 1
        if Run.requests == Run.config.max_requests and environment.runner is not None:
            note(f"stopping: {Run.requests} requests made, the bound given by LOADTEST_MAX_REQUESTS")
            gevent.spawn(environment.runner.quit)


@events.test_start.add_listener
def _probe_home_screen(environment: Environment, **_: Any) -> None:
    """Use the server-driven home screen only if the server serves it."""
    document = app_operations()["ServerDrivenHome"]
    customer = random_customer(random.Random(0))
    token = Run.config.issuer.mint(customer.customer_id, customer.member_bank)
    answer = httpx.post(
        f"{Run.config.bff_urls[0]}/graphql",
        json={"query": document.body, "variables": {"appVersion": APP_VERSION}},
        headers={"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE},
        timeout=15,
    ).json()
    errors = answer.get("errors") or []
    if errors and "not enabled" in errors[0].get("message", ""):
        Run.server_driven_home = False
        note(
            "the server does not serve homeScreen (experience profiles not enabled): "
            "the home screen is the HomeScreen data query in this run"
        )


@events.quit.add_listener
def _final_statistics(**_: Any) -> None:
    """Write `<csv prefix>_stats_final.csv`: every request, once all users stopped.

    locust rewrites `<prefix>_stats.csv` once a second and not at exit, so
    its last second may be missing there; the runner judges this file.
    """
    prefix = getattr(Run.environment.parsed_options, "csv_prefix", None)
    if not prefix:
        return
    with open(f"{prefix}_stats_final.csv", "w", newline="", encoding="utf-8") as handle:
        StatsCSV(Run.environment, locust.stats.PERCENTILES_TO_REPORT).requests_csv(csv.writer(handle))


class BankAppUser(FastHttpUser):
    """A customer with the app on a phone, talking to one BFF worker."""

    abstract = True
    network_timeout = 15.0
    connection_timeout = 5.0

    def __init__(self, environment: Environment) -> None:
        self.host = Run.config.next_bff_url()
        super().__init__(environment)
        self.rng = random.Random()
        self.customer: Customer = random_customer(self.rng)
        self.app: AppGraphQL

    def on_start(self) -> None:
        self.start_app()

    def start_app(self) -> None:
        """App start: a fresh access token from the identity provider, then the home screen."""
        token = Run.config.issuer.mint(self.customer.customer_id, self.customer.member_bank)
        self.app = AppGraphQL(self.client, token)
        self.home_screen()

    def home_screen(self) -> None:
        if Run.server_driven_home:
            self.app.call("ServerDrivenHome", {"appVersion": APP_VERSION}, check=_has_sections)
        else:
            self.app.call("HomeScreen")

    def accounts(self) -> list[dict[str, Any]]:
        data = self.app.call("Accounts", check=_has_accounts)
        return list(data["me"]["accounts"]) if data else []


class CustomerAppUser(BankAppUser):
    weight = 8
    wait_time = between(1, 3)

    @task(4)
    def refresh_home_screen(self) -> None:
        self.home_screen()

    @task(2)
    def account_overview(self) -> None:
        self.app.call("HomeScreen")

    @task(3)
    def page_transactions(self) -> None:
        accounts = self.accounts()
        if not accounts:
            return
        account = self.rng.choice(accounts)["id"]
        after: str | None = None
        for _ in range(self.rng.randint(1, 3)):
            data = self.app.call(
                "AccountTransactions", {"account": account, "first": 20, "after": after}, check=_is_account
            )
            if data is None:
                return
            page = data["node"]["transactions"]["pageInfo"]
            if not page["hasNextPage"]:
                return
            after = page["endCursor"]

    @task(1)
    def transfer(self) -> None:
        accounts = self.accounts()
        if not accounts:
            return
        amount = Decimal(self.rng.randint(100, 2000)) / 100
        transfer_input = {
            "fromAccountId": accounts[0]["id"],
            "toAccountNumber": OUTSIDE_ACCOUNT,
            "toName": "Zhang Min",
            "amount": {"amount": str(amount), "currency": "CNY"},
            "idempotencyKey": str(uuid.uuid4()),
            "memo": "load test",
        }
        first = self.app.call("Transfer", {"input": transfer_input}, check=_transfer_answered)
        if first is None or self.rng.random() >= 0.25:
            return
        self.app.call(
            "Transfer",
            {"input": transfer_input},
            check=_same_transfer(first["transfer"]),
            label="Transfer (retried, same key)",
        )

    @task(1)
    def loan_application(self) -> None:
        """A loan application in the app: start, income, submit (each step with its own idempotency key)."""
        loan = {"product": "personal", "amount": f"{self.rng.randint(10, 500) * 1000}.00", "termMonths": 36}
        journey = self.app.call(
            "StartJourney",
            {"definition": "loan-application", "payload": loan, "idempotencyKey": str(uuid.uuid4())},
            check=_journey_step,
        )
        steps = [
            (
                "provide-income",
                {"employment": {"kind": "employed", "since": "2019-06-01"}, "monthlyIncome": "9800.00"},
            ),
            ("submit", {"consentToCreditCheck": True}),
        ]
        for transition, payload in steps:
            if journey is None:
                return
            state = journey[next(iter(journey))]
            journey = self.app.call(
                "AdvanceJourney",
                {
                    "id": state["id"],
                    "transition": transition,
                    "payload": payload,
                    "expectedVersion": state["version"],
                    "idempotencyKey": str(uuid.uuid4()),
                },
                check=_journey_step,
                label=f"AdvanceJourney {transition}",
            )

    @task(1)
    def restart_app(self) -> None:
        self.customer = random_customer(self.rng)
        self.start_app()


class MiniProgramUser(BankAppUser):
    weight = 2
    wait_time = between(2, 5)

    @task(2)
    def catalogue(self) -> None:
        self.app.call("MiniPrograms", check=_lists(PARK, BILLS))

    @task(3)
    def park_services(self) -> None:
        token = self.launch(PARK)
        if token is None:
            return
        self.bridge(PARK, token, "GET", "user/info", "user.info")
        self.bridge(PARK, token, "GET", "storage/last-ticket", "storage.get", ok=(200, 404))
        ticket = {"value": f"T-{self.rng.randint(1, 99999)}"}
        self.bridge(PARK, token, "PUT", "storage/last-ticket", "storage.set", body=ticket, ok=(204,))

    @task(1)
    def utility_bills(self) -> None:
        token = self.launch(BILLS)
        if token is None:
            return
        bill = {"amount": {"value": "88.20", "currency": "CNY"}, "description": "Electricity, October"}
        self.bridge(BILLS, token, "POST", "payment/intents", "payment.request", body=bill, ok=(201,))

    def launch(self, app_id: str) -> str | None:
        """Launch `app_id`, asking for consent first when it lacks some; its bridge token, or None."""
        launched = self._launch(app_id)
        if launched is None:
            return None
        if launched["missingConsent"]:
            scopes = {"appId": app_id, "scopes": launched["missingConsent"]}
            if self.app.call("GrantMiniProgramConsent", scopes, check=_consented) is None:
                return None
            launched = self._launch(app_id)
            if launched is None or launched["__typename"] != "MiniProgramLaunch":
                return None
        token = launched.get("bridgeToken")
        return str(token) if token else None

    def _launch(self, app_id: str) -> dict[str, Any] | None:
        data = self.app.call("LaunchMiniProgram", {"appId": app_id}, check=_launched)
        return dict(data["launchMiniProgram"]) if data else None

    def bridge(
        self,
        app_id: str,
        token: str,
        method: str,
        path: str,
        api: str,
        *,
        body: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> None:
        """A call of the running mini-program to the host's bridge API, with its bridge token."""
        with self.client.request(
            method,
            f"/miniprogram/bridge/v1/{app_id}/{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            name=f"bridge {api}",
            catch_response=True,
        ) as response:
            if response.status_code in ok:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code} {_problem_code(response.text)}")


class PartnerUser(FastHttpUser):
    """The park-services partner, with the bank's two reviewers at hand."""

    fixed_count = 1
    wait_time = constant(2)
    network_timeout = 30.0

    def __init__(self, environment: Environment) -> None:
        self.host = Run.config.next_bff_url()
        super().__init__(environment)
        self.started = time.monotonic()
        self.version = new_version("park-services", f"1.{int(time.time())}.0")
        issuer = Run.config.issuer
        self.partner = _bearer(issuer.mint(PARTNER, "*", roles=["partner"]))
        self.reviewers = [_bearer(issuer.mint(name, "*", roles=["admin"])) for name in ("rev-a", "rev-b")]
        self.steps: list[tuple[float, Callable[[], None]]] = [
            (0.2, self.publish_and_release),
            (0.6, self.release_to_everyone),
        ]

    @task
    def follow_release(self) -> None:
        if self.steps and _run_fraction(self.started) >= self.steps[0][0]:
            self.steps.pop(0)[1]()
            return
        self.call("GET", f"/apps/{PARK}/release", "GET /apps/{appId}/release")

    def publish_and_release(self) -> None:
        version = self.version
        base = f"/apps/{PARK}/versions/{version.version}"
        body, content_type = version.upload()
        steps_ok = (
            self.call("POST", "/apps", "POST /apps", json={"appId": PARK}, ok=(201, 409))
            and self.call(
                "POST",
                f"/apps/{PARK}/versions",
                "POST /apps/{appId}/versions",
                data=body,
                headers={"Content-Type": content_type},
                ok=(201,),
            )
            and self.call("POST", f"{base}/submit", "POST /apps/{appId}/versions/{v}/submit")
            and self.review(base)
            and self.release(20)
        )
        if steps_ok:
            note(f"partner: {PARK} {version.version} published, approved and released to 20 % of customers")
        else:
            self.steps.clear()
            note(f"partner: publishing {PARK} {version.version} failed; see the report's failures")

    def review(self, base: str) -> bool:
        review = {"approve": True, "reason": "load test: a routine update"}
        for reviewer in self.reviewers:
            answer = self.call(
                "POST", f"{base}/review", "POST /apps/{appId}/versions/{v}/review", json=review, auth=reviewer
            )
            if answer is None:
                return False
            if answer.get("state") == "approved":
                return True
        return False

    def release_to_everyone(self) -> None:
        if self.release(100):
            note(f"partner: {PARK} {self.version.version} released to every customer")

    def release(self, percent: int) -> bool:
        body = {"version": self.version.version, "percent": percent, "memberBanks": ["*"]}
        return self.call("POST", f"/apps/{PARK}/release", "POST /apps/{appId}/release", json=body) is not None

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        auth: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        **options: Any,
    ) -> dict[str, Any] | None:
        """A partner API call; its JSON answer (or {}), or None when it was refused."""
        with self.client.request(
            method,
            f"/partner/v1{path}",
            headers={**(auth or self.partner), **(headers or {})},
            name=f"partner {name}",
            catch_response=True,
            **options,
        ) as response:
            if response.status_code not in ok:
                response.failure(f"HTTP {response.status_code} {_problem_code(response.text)}")
                return None
            response.success()
            try:
                answer = response.json()
            except ValueError:
                return {}
            return answer if isinstance(answer, dict) else {}


class UxAdminUser(FastHttpUser):
    """A UX team member switching one segment's experience profile live, then rolling it back.

    Against the admin API's contract (docs/experience-admin-api.md); skipped,
    with a note, while the server answers 404 there.
    """

    fixed_count = 1
    wait_time = constant(2)

    def __init__(self, environment: Environment) -> None:
        self.host = Run.config.next_bff_url()
        super().__init__(environment)
        self.started = time.monotonic()
        self.admin = _bearer(Run.config.issuer.mint("ux-lead", "*", roles=["admin"]))
        self.before_switch: int | None = None
        self.steps: list[tuple[float, Callable[[], None]]] = [(0.4, self.switch), (0.8, self.roll_back)]

    def on_start(self) -> None:
        with self.client.get(
            "/admin/v1/experience", headers=self.admin, name="admin GET experience", catch_response=True
        ) as response:
            if response.status_code == 404:
                response.success()
                note("UX admin: /admin/v1/experience answers 404 (not deployed yet); no profile switch")
                raise StopUser
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code} {_problem_code(response.text)}")

    @task
    def follow_experience(self) -> None:
        if self.steps and _run_fraction(self.started) >= self.steps[0][0]:
            self.steps.pop(0)[1]()
            return
        self.experience()

    def experience(self) -> tuple[dict[str, Any], str] | None:
        """The published experience and its ETag."""
        with self.client.get(
            "/admin/v1/experience", headers=self.admin, name="admin GET experience", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code} {_problem_code(response.text)}")
                return None
            return response.json(), str(response.headers.get("ETag", ""))

    def switch(self) -> None:
        current = self.experience()
        if current is None:
            return
        state, etag = current
        choice = _switch_choice(state)
        if choice is None:
            note("UX admin: no segment to switch (no non-elder segment with another profile to take)")
            return
        rule, profile = choice
        body = {"profile": profile, "note": "load test: live switch"}
        if self.admin_call("POST", f"/segments/{rule}/profile", "POST segments/{ruleId}/profile", body, etag):
            self.before_switch = int(state["version"])
            note(f"UX admin: segment rule {rule} switched to profile {profile}")

    def roll_back(self) -> None:
        current = self.experience()
        if current is None or self.before_switch is None:
            return
        body = {"toVersion": self.before_switch, "note": "load test: roll back the switch"}
        if self.admin_call("POST", "/rollback", "POST rollback", body, current[1]):
            note(f"UX admin: rolled back to version {self.before_switch}")

    def admin_call(self, method: str, path: str, name: str, body: dict[str, Any], etag: str) -> bool:
        with self.client.request(
            method,
            f"/admin/v1/experience{path}",
            json=body,
            headers={**self.admin, "If-Match": etag},
            name=f"admin {name}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code} {_problem_code(response.text)}")
                return False
            response.success()
            return True


# --- checks of answers -----------------------------------------------------------


def _has_sections(data: dict[str, Any]) -> str | None:
    return None if data["homeScreen"]["sections"] else "home screen without sections"


def _journey_step(data: dict[str, Any]) -> str | None:
    result = next(iter(data.values()))
    return None if result["__typename"] == "Journey" else f"journey step refused: {result['code']}"


def _has_accounts(data: dict[str, Any]) -> str | None:
    return None if data["me"]["accounts"] else "no accounts"


def _is_account(data: dict[str, Any]) -> str | None:
    return None if data.get("node") and data["node"].get("transactions") else "account not found"


def _transfer_answered(data: dict[str, Any]) -> str | None:
    result = data["transfer"]
    if result["__typename"] == "TransferDone" or result["code"] in ACCEPTED_REFUSALS:
        return None
    return f"transfer refused: {result['code']}"


def _same_transfer(first: dict[str, Any]) -> Callable[[dict[str, Any]], str | None]:
    def check(data: dict[str, Any]) -> str | None:
        if data["transfer"] != first:
            return "a retry with the same idempotency key answered differently"
        return None

    return check


def _lists(*app_ids: str) -> Callable[[dict[str, Any]], str | None]:
    def check(data: dict[str, Any]) -> str | None:
        missing = set(app_ids) - {program["appId"] for program in data["miniPrograms"]}
        return f"catalogue lacks {sorted(missing)}" if missing else None

    return check


def _consented(data: dict[str, Any]) -> str | None:
    result = data["grantMiniProgramConsent"]
    return None if result["__typename"] == "MiniProgram" else f"consent refused: {result.get('code')}"


def _launched(data: dict[str, Any]) -> str | None:
    result = data["launchMiniProgram"]
    if result["__typename"] == "MiniProgramLaunch" or result["missingConsent"]:
        return None
    return f"launch refused: {result['code']}"


def _switch_choice(state: dict[str, Any]) -> tuple[str, str] | None:
    """A non-elder segment's rule and a profile it does not have (not an elder-friendly one)."""
    profiles = [p["id"] for p in state.get("profiles", []) if not p.get("elderFriendly")]
    for segment in state.get("segments", []):
        if segment.get("elder"):
            continue
        others = [p for p in profiles if p != segment.get("profile")]
        if others:
            return str(segment["rule"]), others[0]
    return None


# --- small helpers ---------------------------------------------------------------


def _run_fraction(started: float) -> float:
    return (time.monotonic() - started) / Run.config.duration_s


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _problem_code(text: str) -> str:
    """The machine code of an RFC 9457 problem body, for grouping failures."""
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""
