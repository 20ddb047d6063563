"""The loans simulator over HTTP: offset paging, snake_case, scoping, error shape."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sim.population import Population, customer_id
from tests.support.processes import Simulators

BANK = "RCB002"


@pytest.fixture(scope="module")
def http(simulators: Simulators) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulators.url("loans", "dc-a"), timeout=5) as client:
        yield client


def loans(http: httpx.Client, customer: str, bank: str = BANK, **params: Any) -> httpx.Response:
    return http.get("/api/loans", params={"customer_id": customer, "member_bank": bank, **params})


def decimal_json(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


@pytest.fixture(scope="module")
def borrower(http: httpx.Client) -> str:
    """The first customer of the bank with at least four loans."""
    for n in range(1, 500):
        customer = customer_id(BANK, n)
        if loans(http, customer).json()["total"] >= 4:
            return customer
    raise AssertionError("no customer with four loans among the first 500")


def test_offset_pages_cover_every_loan_once(http: httpx.Client, borrower: str) -> None:
    whole = loans(http, borrower, limit=100).json()
    seen: list[str] = []
    for offset in range(0, whole["total"], 3):
        page = loans(http, borrower, offset=offset, limit=3).json()
        assert (page["offset"], page["limit"], page["total"]) == (offset, 3, whole["total"])
        seen += [loan["loan_id"] for loan in page["items"]]
    assert seen == [loan["loan_id"] for loan in whole["items"]]
    assert len(set(seen)) == whole["total"]
    assert loans(http, borrower, offset=whole["total"]).json()["items"] == []


def test_loan_fields_are_snake_case_with_yuan_amounts_of_two_decimals(
    http: httpx.Client, borrower: str
) -> None:
    for loan in decimal_json(loans(http, borrower))["items"]:
        assert loan["customer_id"] == borrower
        assert loan["member_bank"] == BANK
        assert loan["product_type"] in {"mortgage", "agricultural", "consumer", "small_business"}
        for field in ("principal", "outstanding_principal"):
            amount = Decimal(loan[field])
            assert amount >= 0
            assert amount == amount.quantize(Decimal("0.01"))
        assert loan["outstanding_principal"] <= loan["principal"]
        if loan["status"] == "settled":
            assert loan["next_due_date"] is None
            assert loan["outstanding_principal"] == 0


def test_single_loan_matches_its_list_entry(http: httpx.Client, borrower: str) -> None:
    listed = loans(http, borrower).json()["items"][0]
    response = http.get(
        f"/api/loans/{listed['loan_id']}", params={"customer_id": borrower, "member_bank": BANK}
    )
    assert response.status_code == 200
    assert response.json() == listed


def test_both_data_centres_and_repeated_reads_answer_identically(
    simulators: Simulators, http: httpx.Client, borrower: str
) -> None:
    with httpx.Client(base_url=simulators.url("loans", "dc-b"), timeout=5) as other:
        assert (
            loans(other, borrower).content == loans(http, borrower).content == loans(http, borrower).content
        )


def test_rural_customers_hold_agricultural_loans_more_often(
    simulators: Simulators, http: httpx.Client
) -> None:
    population = Population(seed=simulators.topology["seed"])
    products: dict[str, Counter[str]] = {"rural": Counter(), "urban": Counter()}
    for n in range(1, 301):
        customer = population.customer(customer_id(BANK, n))
        assert customer is not None
        for loan in loans(http, customer.customer_id, limit=100).json()["items"]:
            products[customer.region_type][loan["product_type"]] += 1

    def share(region: str) -> float:
        return products[region]["agricultural"] / max(1, sum(products[region].values()))

    assert share("rural") > 2 * share("urban")


def test_loan_of_another_customer_is_loan_not_found(http: httpx.Client, borrower: str) -> None:
    loan_id = loans(http, borrower).json()["items"][0]["loan_id"]
    neighbour = customer_id(BANK, int(borrower[-5:]) + 1)
    response = http.get(f"/api/loans/{loan_id}", params={"customer_id": neighbour, "member_bank": BANK})
    assert response.status_code == 404
    assert response.json() == {
        "status": "error",
        "error_code": "LOAN_NOT_FOUND",
        "error_message": "no such loan for this customer",
    }


def test_customer_of_another_member_bank_is_customer_not_found(http: httpx.Client, borrower: str) -> None:
    response = loans(http, borrower, bank="RCB001")
    assert response.status_code == 404
    assert response.json()["error_code"] == "CUSTOMER_NOT_FOUND"
    assert "items" not in response.json()


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"customer_id": "RCB002-00001"}, "MISSING_PARAMETER"),
        ({"customer_id": "RCB002-00001", "member_bank": BANK, "limit": "0"}, "INVALID_PARAMETER"),
        ({"customer_id": "RCB002-00001", "member_bank": BANK, "limit": "101"}, "INVALID_PARAMETER"),
        ({"customer_id": "RCB002-00001", "member_bank": BANK, "offset": "-1"}, "INVALID_PARAMETER"),
    ],
    ids=["no-member-bank", "limit-zero", "limit-too-big", "negative-offset"],
)
def test_bad_parameters_are_400_in_the_loans_error_shape(
    http: httpx.Client, params: dict[str, str], code: str
) -> None:
    response = http.get("/api/loans", params=params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "error_code", "error_message"}
    assert (body["status"], body["error_code"]) == ("error", code)
