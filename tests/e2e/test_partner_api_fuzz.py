"""Property-based run of the partner API's own OpenAPI document against a real BFF: no 5xx.

Driven through schemathesis' operation strategies with Hypothesis directly (its
pytest plugin does not load under pytest 9); every operation of the document
gets a bounded number of generated requests.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.bff_process import BffServer

EXAMPLES_PER_OPERATION = 12


def test_partner_api_never_answers_a_server_error(bff_server: BffServer, mint: Any) -> None:
    schema = schemathesis.openapi.from_url(f"{bff_server.url}/partner/v1/openapi.json")
    # A partner who is also a reviewer reaches every endpoint, so the run goes past the role checks.
    token = mint("partner-fuzz", member_bank="RCB001", roles=["partner", "admin"])
    headers = {"Authorization": f"Bearer {token}"}
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def probe(case: Any) -> None:
            response = case.call(base_url=bff_server.url, headers=headers, timeout=10)
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                )

        probe()
    assert operations >= 10, "the document describes the whole partner API"
    assert server_errors == []
