"""The CRM simulator over HTTP: profiles scoped by member bank, batch reads."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.processes import Simulators


@pytest.fixture(scope="module")
def crm(simulators: Simulators, service_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {service_token}"}
    with httpx.Client(base_url=simulators.url("crm", "dc-b"), headers=headers, timeout=5) as client:
        yield client


def test_profile_is_read_within_its_member_bank(crm: httpx.Client) -> None:
    response = crm.get("/v1/customers/RCB002-00007", headers={"X-Member-Bank": "RCB002"})
    assert response.status_code == 200
    profile = response.json()
    assert (profile["customerId"], profile["memberBank"]) == ("RCB002-00007", "RCB002")
    assert profile["regionType"] in {"URBAN", "RURAL"}


def test_profile_of_another_member_bank_is_not_found(crm: httpx.Client) -> None:
    response = crm.get("/v1/customers/RCB002-00007", headers={"X-Member-Bank": "RCB001"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"


def test_profile_read_without_member_bank_is_refused(crm: httpx.Client) -> None:
    response = crm.get("/v1/customers/RCB002-00007")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MEMBER_BANK_REQUIRED"


def test_batch_read_names_customers_outside_the_member_bank_as_not_found(crm: httpx.Client) -> None:
    ids = ["RCB001-00001", "RCB002-00001", "RCB001-99999", "RCB001-00002"]
    body = crm.post("/v1/customers:batchGet", json={"memberBank": "RCB001", "ids": ids}).json()
    assert [c["customerId"] for c in body["customers"]] == ["RCB001-00001", "RCB001-00002"]
    assert body["notFound"] == ["RCB002-00001", "RCB001-99999"]


def test_batch_of_more_than_a_hundred_is_refused(crm: httpx.Client) -> None:
    ids = [f"RCB001-{n:05d}" for n in range(1, 102)]
    response = crm.post("/v1/customers:batchGet", json={"memberBank": "RCB001", "ids": ids})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BATCH_TOO_LARGE"


def test_profiles_need_a_crm_read_token(simulators: Simulators) -> None:
    response = httpx.get(
        simulators.url("crm", "dc-a") + "/v1/customers/RCB001-00001", headers={"X-Member-Bank": "RCB001"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
