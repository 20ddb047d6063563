"""Each app operation through N BFF workers: requests/s, BFF CPU-ms per request, latency p50 and p99.

Starts the load test's stack (bff.loadtest.stack: a private redis-server, the
simulators with `--latency-ms` added to every downstream service, N production
`bff serve` workers with trusted documents, the sample mini-programs released),
then drives one operation at a time from this process: a closed loop of
`--concurrency` clients, requests spread round-robin over the workers and over
`--customers` customers, each request a persisted query sent by its hash as
the app sends it. Per operation: a warm-up (not counted), then `--requests`
requests, the workers' CPU time (utime+stime from /proc, summed) read before
and after. What an operation needs first (consent, a bridge token, an account
id) is done before its warm-up and left out of its figures.

A request failed if its HTTP status is not 200, its GraphQL answer has errors,
or its answer is not the operation's (a refused launch or journey step; a
transfer refused for funds or limits is an answer). Any failure: exit 1.

The bridge call is paced below park services' manifest limit (200 bridge calls
per second for the mini-program, across all workers; more are refused with
429 by design), so its requests/s is that pace, not the BFF's capacity; its
CPU-ms per request and latency are measured as for the others.

    .venv/bin/python benchmarks/operations.py --workers 1 --requests 300
    .venv/bin/python benchmarks/operations.py --workers 2 [--requests 1000] [--concurrency 16] [--latency-ms 0]
        [--operations HomeScreen,Transfer] [--customers 50] [--max-seconds 60] [--json figures.json]
        [--profile DIR]   # workers under pyinstrument: where the CPU goes, per operation
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final

import aiohttp
import httpx

# Run as a script, benchmarks/ is sys.path[0]; the repository's root holds benchmarks/ and loadtests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.home_screen import cpu_seconds, pct
from bff.auth.dev_issuer import DevIssuer
from bff.demo import SAMPLES_DIR
from bff.graphql.persisted import TrustedDocument, read_documents
from bff.loadtest.stack import APP_OPERATIONS, Stack, StackOptions, running_stack
from loadtests.config import Customer, random_customer

APP_VERSION: Final = "6.2.0"
PARK: Final = "com.parkservices.tenant"
OUTSIDE_ACCOUNT: Final = "6217000010012345678"  # as the locustfile: not a group account
ACCEPTED_REFUSALS: Final = frozenset({"INSUFFICIENT_FUNDS", "LIMIT_EXCEEDED"})
GRAPHQL_RESPONSE: Final = "application/graphql-response+json"
PARK_MANIFEST: Final = SAMPLES_DIR / "park-services" / "manifest.json"
# Bridge calls stay at this share of the mini-program's rate limits, which Redis's clock enforces.
BELOW_LIMIT: Final = 0.85
SETUP_CONCURRENCY: Final = 8

# Returns why an answer is wrong, or None when it is the operation's answer.
Check = Callable[[int, bytes], str | None]
DataCheck = Callable[[dict[str, Any]], str | None]


class SetupFailed(RuntimeError):
    """What an operation needs before it is measured could not be had; the message says why."""


@dataclass(frozen=True)
class Outgoing:
    """One request, relative to a worker's base URL."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | None
    check: Check


@dataclass
class AppSession:
    """A signed-in customer, and what setup found for the operation at hand."""

    customer: Customer
    token: str
    account: str = ""
    bridge_token: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    request: Callable[[AppSession, random.Random], Outgoing]
    setup: Callable[[Setup, AppSession], Awaitable[None]] | None = None
    calls_per_customer: int | None = None  # below a limit the server enforces per customer
    pace_per_s: float | None = None  # below a limit the server enforces over all customers


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str = ""

    def record(self, elapsed_ms: float, problem: str | None) -> None:
        self.latencies_ms.append(elapsed_ms)
        if problem is not None:
            self.failures += 1
            self.first_failure = self.first_failure or problem


@dataclass(frozen=True)
class Figures:
    operation: str
    workers: int
    requests: int
    requests_per_s: float
    cpu_ms_per_request: float
    p50_ms: float
    p99_ms: float
    failures: int
    first_failure: str
    stopped_at_time_limit: bool
    paced_per_s: float | None


# --- the app's requests ------------------------------------------------------------


@cache
def app_operations() -> Mapping[str, TrustedDocument]:
    return {
        doc.name: doc for path in sorted(APP_OPERATIONS.glob("*.graphql")) for doc in read_documents(path)
    }


def graphql(
    session: AppSession,
    operation: str,
    variables: Mapping[str, Any] | None = None,
    check: DataCheck | None = None,
) -> Outgoing:
    """A persisted query by its hash only: what the app sends to a server with trusted documents."""
    body = {
        "operationName": operation,
        "variables": dict(variables or {}),
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": app_operations()[operation].sha256}},
    }
    headers = {
        "Authorization": f"Bearer {session.token}",
        "Accept": GRAPHQL_RESPONSE,
        "Content-Type": "application/json",
    }
    return Outgoing("POST", "/graphql", headers, json.dumps(body).encode(), graphql_check(check))


def graphql_check(check: DataCheck | None) -> Check:
    def judge(status: int, payload: bytes) -> str | None:
        try:
            answer = json.loads(payload)
        except ValueError:
            return f"HTTP {status}, not JSON: {payload[:300]!r}"
        if status != 200 or not isinstance(answer, dict) or answer.get("errors"):
            return f"HTTP {status}: {payload[:600].decode(errors='replace')}"
        data = answer.get("data")
        if not isinstance(data, dict):
            return f"no data: {payload[:300]!r}"
        return check(data) if check else None

    return judge


def status_check(status: int, payload: bytes) -> str | None:
    return None if status == 200 else f"HTTP {status}: {payload[:600].decode(errors='replace')}"


def home_screen(session: AppSession, _: random.Random) -> Outgoing:
    return graphql(session, "HomeScreen")


def server_driven_home(session: AppSession, _: random.Random) -> Outgoing:
    def has_sections(data: dict[str, Any]) -> str | None:
        return None if data["homeScreen"]["sections"] else "home screen without sections"

    return graphql(session, "ServerDrivenHome", {"appVersion": APP_VERSION}, has_sections)


def accounts(session: AppSession, _: random.Random) -> Outgoing:
    return graphql(session, "Accounts", check=lambda data: None if data["me"]["accounts"] else "no accounts")


def transactions_page(session: AppSession, _: random.Random) -> Outgoing:
    def is_page(data: dict[str, Any]) -> str | None:
        return None if (data.get("node") or {}).get("transactions") else "account not found"

    variables = {"account": session.account, "first": 20, "after": None}
    return graphql(session, "AccountTransactions", variables, is_page)


def transfer(session: AppSession, rng: random.Random) -> Outgoing:
    def answered(data: dict[str, Any]) -> str | None:
        result = data["transfer"]
        if result["__typename"] == "TransferDone" or result["code"] in ACCEPTED_REFUSALS:
            return None
        return f"transfer refused: {result['code']}"

    transfer_input = {
        "fromAccountId": session.account,
        "toAccountNumber": OUTSIDE_ACCOUNT,
        "toName": "Zhang Min",
        "amount": {"amount": str(Decimal(rng.randint(100, 2000)) / 100), "currency": "CNY"},
        "idempotencyKey": str(uuid.uuid4()),
        "memo": "benchmark",
    }
    return graphql(session, "Transfer", {"input": transfer_input}, answered)


def catalogue(session: AppSession, _: random.Random) -> Outgoing:
    def lists_park(data: dict[str, Any]) -> str | None:
        return None if PARK in {p["appId"] for p in data["miniPrograms"]} else f"catalogue lacks {PARK}"

    return graphql(session, "MiniPrograms", check=lists_park)


def launch(session: AppSession, _: random.Random) -> Outgoing:
    def launched(data: dict[str, Any]) -> str | None:
        result = data["launchMiniProgram"]
        return None if result["__typename"] == "MiniProgramLaunch" else f"launch refused: {result}"

    return graphql(session, "LaunchMiniProgram", {"appId": PARK}, launched)


def loan_application(session: AppSession, rng: random.Random) -> Outgoing:
    def started(data: dict[str, Any]) -> str | None:
        result = data["startJourney"]
        return None if result["__typename"] == "Journey" else f"journey refused: {result}"

    loan = {"product": "personal", "amount": f"{rng.randint(10, 500) * 1000}.00", "termMonths": 36}
    variables = {"definition": "loan-application", "payload": loan, "idempotencyKey": str(uuid.uuid4())}
    return graphql(session, "StartJourney", variables, started)


def bridge_user_info(session: AppSession, _: random.Random) -> Outgoing:
    headers = {"Authorization": f"Bearer {session.bridge_token}"}
    return Outgoing("GET", f"/miniprogram/bridge/v1/{PARK}/user/info", headers, None, status_check)


# --- setup, left out of the figures --------------------------------------------------


@dataclass(frozen=True)
class Setup:
    client: aiohttp.ClientSession
    url: str

    async def call(self, outgoing: Outgoing) -> dict[str, Any]:
        async with self.client.request(
            outgoing.method, self.url + outgoing.path, data=outgoing.body, headers=outgoing.headers
        ) as response:
            payload = await response.read()
        problem = outgoing.check(response.status, payload)
        if problem is not None:
            raise SetupFailed(problem)
        data: dict[str, Any] = json.loads(payload)["data"]
        return data


async def find_account(setup: Setup, session: AppSession) -> None:
    data = await setup.call(accounts(session, random.Random()))
    session.account = data["me"]["accounts"][0]["id"]


async def consent_to_park(setup: Setup, session: AppSession) -> None:
    """Launch park services, granting the consent it asks for first; keeps the launch's bridge token."""
    result = (await setup.call(graphql(session, "LaunchMiniProgram", {"appId": PARK})))["launchMiniProgram"]
    if result["missingConsent"]:
        grant = {"appId": PARK, "scopes": result["missingConsent"]}
        granted = (await setup.call(graphql(session, "GrantMiniProgramConsent", grant)))[
            "grantMiniProgramConsent"
        ]
        if granted["__typename"] != "MiniProgram":
            raise SetupFailed(f"consent to {PARK} refused: {granted}")
        result = (await setup.call(graphql(session, "LaunchMiniProgram", {"appId": PARK})))[
            "launchMiniProgram"
        ]
    if result["__typename"] != "MiniProgramLaunch":
        raise SetupFailed(f"launching {PARK} refused: {result}")
    session.bridge_token = str(result["bridgeToken"])


@cache
def operations() -> tuple[Operation, ...]:
    limits = json.loads(PARK_MANIFEST.read_text())["rateLimits"]
    bridge = Operation(
        "bridge user.info",
        bridge_user_info,
        consent_to_park,
        calls_per_customer=int(limits["perCustomerPerMinute"] * BELOW_LIMIT),
        pace_per_s=limits["perAppPerSecond"] * BELOW_LIMIT,
    )
    return (
        Operation("HomeScreen", home_screen),
        Operation("ServerDrivenHome", server_driven_home),
        Operation("Accounts", accounts),
        Operation("AccountTransactions", transactions_page, find_account),
        Operation("Transfer", transfer, find_account),
        Operation("MiniPrograms", catalogue),
        Operation("LaunchMiniProgram", launch, consent_to_park),
        Operation("StartJourney", loan_application),
        bridge,
    )


# --- the closed loop ---------------------------------------------------------------


async def drive(
    client: aiohttp.ClientSession,
    urls: Sequence[str],
    sessions: Sequence[AppSession],
    operation: Operation,
    count: int,
    concurrency: int,
    deadline: float,
    progress: Callable[[int], None],
) -> Tally:
    """`count` requests from `concurrency` clients, each sending its next one when its last is answered.

    An operation with a pace starts its n-th request no sooner than n / pace seconds in.
    """
    tally = Tally()
    issued = itertools.count()
    rng = random.Random(0)
    began = time.monotonic()

    async def client_loop() -> None:
        while time.monotonic() < deadline:
            number = next(issued)
            if number >= count:
                return
            if operation.pace_per_s:
                await asyncio.sleep(max(0.0, began + number / operation.pace_per_s - time.monotonic()))
            outgoing = operation.request(sessions[number % len(sessions)], rng)
            url = urls[number % len(urls)] + outgoing.path
            started = time.perf_counter()
            try:
                async with client.request(
                    outgoing.method, url, data=outgoing.body, headers=outgoing.headers
                ) as response:
                    payload = await response.read()
                problem = outgoing.check(response.status, payload)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            tally.record((time.perf_counter() - started) * 1000, problem)
            progress(len(tally.latencies_ms))

    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return tally


def progress_line(label: str, total: int) -> Callable[[int], None]:
    """Reports to stderr about every 2 s and at the end."""
    last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done == total or now - last >= 2:
            last = now
            say(f"  {label}: {done}/{total}")

    return report


@dataclass(frozen=True)
class Load:
    requests: int
    warmup: int
    concurrency: int
    max_seconds: float


async def measure(
    client: aiohttp.ClientSession, stack: Stack, sessions: list[AppSession], operation: Operation, load: Load
) -> Figures:
    urls, pids = stack.worker_urls, [worker.process.pid for worker in stack.workers]
    if operation.setup is not None:
        say(f"{operation.name}: setup for {len(sessions)} customers (not measured)")
        await asyncio.wait_for(run_setup(client, urls[0], sessions, operation), load.max_seconds)
    say(f"{operation.name}: warm-up")
    warm_deadline = time.monotonic() + load.max_seconds
    await drive(
        client, urls, sessions, operation, load.warmup, load.concurrency, warm_deadline, lambda _: None
    )
    cpu0, wall0 = sum(cpu_seconds(pid) for pid in pids), time.perf_counter()
    tally = await drive(
        client,
        urls,
        sessions,
        operation,
        load.requests,
        load.concurrency,
        time.monotonic() + load.max_seconds,
        progress_line(operation.name, load.requests),
    )
    cpu, wall = sum(cpu_seconds(pid) for pid in pids) - cpu0, time.perf_counter() - wall0
    done = len(tally.latencies_ms)
    return Figures(
        operation=operation.name,
        workers=len(urls),
        requests=done,
        requests_per_s=done / wall if done else 0.0,
        cpu_ms_per_request=cpu * 1000 / done if done else 0.0,
        p50_ms=statistics.median(tally.latencies_ms) if done else 0.0,
        p99_ms=pct(tally.latencies_ms, 0.99) if done else 0.0,
        failures=tally.failures,
        first_failure=tally.first_failure,
        stopped_at_time_limit=done < load.requests,
        paced_per_s=operation.pace_per_s,
    )


async def run_setup(
    client: aiohttp.ClientSession, url: str, sessions: list[AppSession], operation: Operation
) -> None:
    assert operation.setup is not None
    setup, step = Setup(client, url), operation.setup
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(session: AppSession) -> None:
        async with gate:
            await step(setup, session)

    await asyncio.gather(*(one(session) for session in sessions))


def customers(count: int) -> list[Customer]:
    """`count` distinct customers of the simulators' population, the same ones every run."""
    rng, found = random.Random(42), dict[str, Customer]()
    while len(found) < count:
        customer = random_customer(rng)
        found[customer.customer_id] = customer
    return list(found.values())


async def measure_all(stack: Stack, operations: Sequence[Operation], load: Load, count: int) -> list[Figures]:
    assert stack.issuer_dir is not None
    issuer = DevIssuer(stack.issuer_dir)
    timeout = aiohttp.ClientTimeout(total=30)
    results: list[Figures] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as client:
        for operation in operations:
            needed = count
            if operation.calls_per_customer:
                needed = max(count, math.ceil((load.warmup + load.requests) / operation.calls_per_customer))
            # Fresh sessions per operation: setup state (a bridge token) never outlives its operation.
            sessions = [AppSession(c, issuer.mint(c.customer_id, c.member_bank)) for c in customers(needed)]
            try:
                figures = await measure(client, stack, sessions, operation, load)
            except (SetupFailed, TimeoutError, aiohttp.ClientError) as exc:
                figures = Figures(
                    operation.name, len(stack.workers), 0, 0, 0, 0, 0, 1, f"setup: {exc!r}", False, None
                )
            results.append(figures)
            say(
                f"{operation.name}: {figures.requests} requests, {figures.requests_per_s:.0f}/s, "
                f"{figures.failures} failed"
            )
    return results


# --- the run -------------------------------------------------------------------------


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def add_downstream_latency(stack: Stack, latency_ms: float) -> None:
    """As benchmarks/home_screen.py: every service, in both data centres, answers `latency_ms` later."""
    for service in stack.services:
        for dc in ("dc-a", "dc-b"):
            answer = httpx.put(f"{stack.control_url}/faults/{service}/{dc}", json={"latency_ms": latency_ms})
            answer.raise_for_status()


def table(figures: Sequence[Figures]) -> str:
    lines = [
        "| operation | workers | requests/s | BFF CPU-ms/request | p50 ms | p99 ms | failures |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in figures:
        if f.requests == 0:
            lines.append(f"| {f.operation} | {f.workers} | - | - | - | - | {f.failures} |")
            continue
        lines.append(
            f"| {f.operation} | {f.workers} | {f.requests_per_s:.0f} | {f.cpu_ms_per_request:.2f} "
            f"| {f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.failures} |"
        )
    notes = [
        f"{f.operation}: paced at {f.paced_per_s:.0f} requests/s, below the mini-program's rate limit"
        for f in figures
        if f.paced_per_s
    ]
    notes += [
        f"{f.operation}: stopped at the time limit after {f.requests} requests"
        for f in figures
        if f.stopped_at_time_limit
    ]
    return "\n".join(lines + ([""] if notes else []) + notes)


def chosen(names: str | None) -> list[Operation]:
    if not names:
        return list(operations())
    by_name = {operation.name: operation for operation in operations()}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise SystemExit(f"unknown operation(s) {unknown}; choose from {sorted(by_name)}")
    return [by_name[name] for name in wanted]


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per operation")
    parser.add_argument("--warmup", type=int, default=100, help="requests per operation before measuring")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every downstream call")
    parser.add_argument(
        "--operations", help="comma-separated subset of: " + ", ".join(op.name for op in operations())
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="per operation: stops its warm-up or its measuring"
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the figures here")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="run the workers under pyinstrument; each writes its flat profile to DIR/bff-N.txt",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    operations = chosen(args.operations)
    load = Load(args.requests, args.warmup, args.concurrency, args.max_seconds)
    profile_dir = args.profile.resolve() if args.profile else None
    options = StackOptions(workers=args.workers, trusted_documents=True, profile_dir=profile_dir)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(options, Path(tmp), say) as stack,
    ):
        if args.latency_ms:
            add_downstream_latency(stack, args.latency_ms)
        figures = asyncio.run(measure_all(stack, operations, load, args.customers))
    print(
        f"{args.workers} BFF worker(s), {args.requests} requests per operation at concurrency "
        f"{args.concurrency}, {args.customers} customers, {args.latency_ms:.0f} ms added downstream\n"
    )
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    failed = [f for f in figures if f.failures]
    for f in failed:
        say(f"{f.operation}: {f.failures} failed; the first: {f.first_failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
