"""What the runner tells the scenarios, through the environment (locust runs as its own process)."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bff.auth.dev_issuer import DevIssuer

REPO = Path(__file__).resolve().parents[1]
# The simulators' population: 3 member banks of 10,000 customers each (sim/population.py).
MEMBER_BANKS = ("RCB001", "RCB002", "RCB003")
CUSTOMERS_PER_BANK = 10_000


@dataclass
class LoadTestConfig:
    """LOADTEST_BFF_URLS (comma-separated), LOADTEST_ISSUER_DIR, LOADTEST_DURATION_S, LOADTEST_MAX_REQUESTS."""

    bff_urls: list[str]
    issuer: DevIssuer
    duration_s: float
    max_requests: int
    _next_url: Iterator[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._next_url = itertools.cycle(self.bff_urls)

    @classmethod
    def from_environment(cls, default_host: str | None) -> LoadTestConfig:
        urls = [u for u in os.environ.get("LOADTEST_BFF_URLS", default_host or "").split(",") if u]
        if not urls:
            raise RuntimeError("set LOADTEST_BFF_URLS (or pass --host) to the BFF workers' base URLs")
        issuer_dir = os.environ.get("LOADTEST_ISSUER_DIR", str(REPO / "var" / "demo" / "issuer"))
        return cls(
            bff_urls=urls,
            issuer=DevIssuer(Path(issuer_dir)),
            duration_s=float(os.environ.get("LOADTEST_DURATION_S", "60")),
            max_requests=int(os.environ.get("LOADTEST_MAX_REQUESTS", "500000")),
        )

    def next_bff_url(self) -> str:
        """The workers' URLs in turn: each virtual user keeps one, as behind a sticky load balancer."""
        return next(self._next_url)


@dataclass(frozen=True)
class Customer:
    customer_id: str
    member_bank: str


def random_customer(rng: random.Random) -> Customer:
    bank = rng.choice(MEMBER_BANKS)
    return Customer(f"{bank}-{rng.randint(1, CUSTOMERS_PER_BANK):05d}", bank)
