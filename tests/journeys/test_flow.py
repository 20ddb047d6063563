"""The shared journey flow on a standalone Redis and on a 3-master Redis Cluster."""

from __future__ import annotations

from tests.journeys.backends import Backend
from tests.journeys.scenario import loan_application_flow


async def test_loan_application_flow_runs_unchanged_on_single_redis_and_cluster(
    backend: Backend, member_bank: str
) -> None:
    await loan_application_flow(backend.store, backend.redis, member_bank)
