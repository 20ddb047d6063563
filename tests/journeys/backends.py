"""What the journey tests run against: a store over a standalone Redis or a Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

from bff.journeys.store import JourneyStore
from bff.store.client import RedisClient


@dataclass(frozen=True)
class Backend:
    name: str  # "single" or "cluster"
    redis: RedisClient
    store: JourneyStore
