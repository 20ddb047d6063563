"""Everything a load test runs against, started as an operator would and stopped in reverse order.

A private redis-server, the simulated bank services (their own process, two
data centres each), the demo identity provider whose public keys the workers
trust, the host's secrets, the app's operations registered as trusted
documents, N production `bff serve` workers, and the sample mini-programs
published and released through the partner API.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import redis
import redis.asyncio as aioredis

from bff.auth.dev_issuer import DevIssuer
from bff.demo import SAMPLES_DIR, start_simulators
from bff.graphql.persisted import register_documents
from bff.loadtest.workers import Worker, start_workers, stop_workers
from bff.miniprograms.demo_samples import release_samples
from bff.miniprograms.host_keys import load_or_create_bridge_key, load_or_create_secret
from bff.store.private_server import PrivateRedis, start_private_redis

# The app's GraphQL operations: what production registers as trusted documents.
APP_OPERATIONS: Final = Path(__file__).resolve().parents[2] / "schemas" / "app-operations"

Say = Callable[[str], None]


@dataclass(frozen=True)
class StackOptions:
    workers: int
    trusted_documents: bool
    # Run the workers under pyinstrument, writing their profiles here (benchmarks).
    profile_dir: Path | None = None


@dataclass
class Stack:
    """The running processes; `stop()` ends them, newest first."""

    redis: PrivateRedis | None = None
    simulators: subprocess.Popen[bytes] | None = None
    topology: dict[str, Any] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    issuer_dir: Path | None = None

    @property
    def control_url(self) -> str:
        return str(self.topology["control_url"])

    @property
    def services(self) -> list[str]:
        return sorted(self.topology["services"])

    @property
    def worker_urls(self) -> list[str]:
        return [worker.url for worker in self.workers]

    def stop(self) -> None:
        stop_workers(self.workers)
        if self.simulators is not None and self.simulators.poll() is None:
            self.simulators.terminate()
            try:
                self.simulators.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.simulators.kill()
                self.simulators.wait()
        if self.redis is not None:
            self.redis.stop()


@contextlib.contextmanager
def running_stack(options: StackOptions, workdir: Path, say: Say) -> Iterator[Stack]:
    """Start the stack under `workdir`; yields it ready for load, stops it on the way out."""
    stack = Stack()
    try:
        stack.redis = start_private_redis(workdir / "redis")
        _make_durable(stack.redis)
        say(f"redis-server on {stack.redis.url} (appendonly, fsync always: what journeys require)")
        stack.simulators, endpoints = _simulators(workdir / "sim")
        stack.topology = json.loads(endpoints.read_text())
        say(f"simulators: {len(stack.services)} services x 2 data centres, control API {stack.control_url}")
        issuer = DevIssuer(workdir / "issuer")
        stack.issuer_dir = workdir / "issuer"
        if options.trusted_documents:
            count = asyncio.run(_register_app_operations(stack.redis.url))
            say(f"registered {count} trusted documents from {APP_OPERATIONS}")
        env = worker_env(stack.redis.url, endpoints, issuer, workdir, options.trusted_documents)
        say(f"starting {options.workers} BFF worker process(es) (production mode)")
        stack.workers = start_workers(options.workers, env, workdir / "logs", profile_dir=options.profile_dir)
        say("workers ready: " + " ".join(stack.worker_urls))
        release_samples(stack.worker_urls[0], issuer, SAMPLES_DIR, say=lambda line: say(f"samples: {line}"))
        yield stack
    finally:
        stack.stop()


def worker_env(
    redis_url: str, endpoints: Path, issuer: DevIssuer, workdir: Path, trusted_documents: bool
) -> dict[str, str]:
    """What an operator sets to run the BFF in production against the simulators."""
    secrets = workdir / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    load_or_create_bridge_key(secrets / "bridge-key.json")
    load_or_create_secret(secrets / "pairwise-secret")
    jwks = issuer.write_public_jwks(workdir / "issuer" / "jwks.json")
    return {
        "BFF_ENVIRONMENT": "production",
        "BFF_LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "BFF_CHANNEL_ENDPOINTS": str(endpoints),
        "BFF_AUTH_JWKS_FILE": str(jwks),
        "BFF_BRIDGE_SIGNING_KEY_FILE": str(secrets / "bridge-key.json"),
        "BFF_PAIRWISE_SECRET_FILE": str(secrets / "pairwise-secret"),
        # Shared by every worker: a bundle uploaded through one is served by all.
        "BFF_MINIPROGRAM_BUNDLE_DIR": str(workdir / "bundles"),
        "BFF_GRAPHQL_TRUSTED_DOCUMENTS": "true" if trusted_documents else "false",
    }


def _make_durable(server: PrivateRedis) -> None:
    """Production's persistence: production workers refuse a journey store that may lose acknowledged writes."""
    client = redis.Redis(port=server.port)
    try:
        client.config_set("appendonly", "yes")
        client.config_set("appendfsync", "always")
    finally:
        client.close()


def _simulators(workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    # The demo's launcher announces itself as the demo; the runner says what it does itself.
    with contextlib.redirect_stdout(io.StringIO()):
        return start_simulators(workdir)


async def _register_app_operations(redis_url: str) -> int:
    redis = aioredis.from_url(redis_url)
    try:
        total = 0
        for path in sorted(APP_OPERATIONS.glob("*.graphql")):
            total += (await register_documents(redis, path)).total
        return total
    finally:
        await redis.aclose()
