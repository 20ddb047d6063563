"""What the GraphQL layer needs of journeys, built once per app over the journeys' Redis."""

from __future__ import annotations

from dataclasses import dataclass

from bff.journeys.customer_journeys import CustomerJourneys
from bff.journeys.definitions import Definitions
from bff.journeys.handoff import HandoffCodes
from bff.journeys.store import JourneyStore
from bff.store.client import RedisClient


@dataclass(frozen=True)
class JourneyServices:
    redis: RedisClient
    store: JourneyStore
    handoffs: HandoffCodes
    customers: CustomerJourneys

    @classmethod
    def over(cls, redis: RedisClient, definitions: Definitions) -> JourneyServices:
        store = JourneyStore(redis, definitions)
        return cls(redis, store, HandoffCodes(redis), CustomerJourneys(redis, store))
