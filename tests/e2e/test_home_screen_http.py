"""homeScreen and the UX preview through a real production BFF process."""

from __future__ import annotations

import httpx

from tests.conftest import Mint
from tests.support.bff_process import BffServer
from tests.support.graphql_http import BffClient

HOME = 'query { homeScreen(appVersion: "6.0.0") { profile experienceVersion sections { id renderAs data } } }'


def test_home_screen_over_http_carries_the_live_experience_version(bff: BffClient) -> None:
    answer = bff.post({"query": HOME})
    assert answer.status_code == 200, answer.text
    screen = answer.json()["data"]["homeScreen"]
    assert screen["experienceVersion"] >= 1  # seeded from experience/ by the process
    assert screen["sections"][0]["data"] is not None


def test_preview_shows_a_segments_profile_and_refuses_bad_queries_clearly(
    bff_server: BffServer, mint: Mint
) -> None:
    admin = {"Authorization": f"Bearer {mint('ux-admin', member_bank='*', roles=['admin'])}"}
    url = f"{bff_server.url}/admin/v1/experience/preview"
    elder = httpx.get(url, params={"segment": "elder-60-plus"}, headers=admin, timeout=10)
    unknown_customer = httpx.get(
        url, params={"segment": "elder-60-plus", "customer": "RCB001-99999"}, headers=admin, timeout=10
    )
    bad_version = httpx.get(
        url, params={"segment": "elder-60-plus", "appVersion": "new"}, headers=admin, timeout=10
    )
    customer = httpx.get(
        url, params={"segment": "elder-60-plus"}, headers={"Authorization": f"Bearer {mint()}"}
    )

    assert elder.status_code == 200, elder.text
    assert elder.json()["profile"] == "elder"
    assert elder.json()["presentation"]["bodySize"] >= 18
    assert (unknown_customer.status_code, unknown_customer.json()["code"]) == (404, "CUSTOMER_NOT_FOUND")
    assert (bad_version.status_code, bad_version.json()["code"]) == (422, "QUERY_INVALID")
    assert customer.status_code == 403
