"""The wealth simulator over HTTP: holdings, decimal strings, slowness, scoping, error shape."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from sim.population import customer_id
from tests.support.processes import Simulators
from tests.support.sim_control import SimControl

BANK = "RCB003"


@pytest.fixture(scope="module")
def http(simulators: Simulators) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulators.url("wealth", "dc-a"), timeout=5) as client:
        yield client


def holdings(http: httpx.Client, customer: str, bank: str = BANK) -> httpx.Response:
    return http.get("/wealth/v1/holdings", params={"customerId": customer, "memberBank": bank})


def data(http: httpx.Client, customer: str) -> dict[str, Any]:
    body = holdings(http, customer).json()
    assert (body["code"], body["message"]) == ("OK", "success")
    result: dict[str, Any] = body["data"]
    return result


@pytest.fixture(scope="module")
def investor(http: httpx.Client) -> str:
    """The first customer of the bank holding at least three funds."""
    for n in range(1, 200):
        if len(data(http, customer_id(BANK, n))["holdings"]) >= 3:
            return customer_id(BANK, n)
    raise AssertionError("no customer with three funds among the first 200")


def test_holdings_add_up_to_the_total_and_value_units_at_nav(http: httpx.Client, investor: str) -> None:
    summary = data(http, investor)
    total = Decimal(0)
    for holding in summary["holdings"]:
        value = Decimal(holding["marketValue"])
        units, nav = Decimal(holding["units"]), Decimal(holding["nav"])
        assert value == (units * nav).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert 1 <= holding["riskLevel"] <= 5
        assert len(holding["fundCode"]) == 6
        assert len(holding["nav"].split(".")[1]) == 4
        total += value
    assert Decimal(summary["totalMarketValue"]) == total
    assert (summary["customerId"], summary["memberBank"], summary["currency"]) == (investor, BANK, "CNY")


def test_customer_without_funds_has_an_empty_list_and_a_zero_total(http: httpx.Client) -> None:
    for n in range(1, 200):
        summary = data(http, customer_id(BANK, n))
        if not summary["holdings"]:
            assert summary["totalMarketValue"] == "0.00"
            return
    raise AssertionError("every one of the first 200 customers holds funds")


def test_every_answer_takes_tens_of_milliseconds(http: httpx.Client, investor: str) -> None:
    for response in (
        holdings(http, investor),
        holdings(http, investor, bank="RCB001"),
        http.get("/wealth/v1/holdings"),
    ):
        assert 0.03 <= response.elapsed.total_seconds() < 0.5


def test_both_data_centres_answer_identically(
    simulators: Simulators, http: httpx.Client, investor: str
) -> None:
    with httpx.Client(base_url=simulators.url("wealth", "dc-b"), timeout=5) as other:
        assert holdings(other, investor).content == holdings(http, investor).content


def test_customer_of_another_member_bank_is_customer_not_found(http: httpx.Client, investor: str) -> None:
    response = holdings(http, investor, bank="RCB001")
    assert response.status_code == 404
    assert response.json() == {
        "code": "CUSTOMER_NOT_FOUND",
        "message": "no such customer in this member bank",
        "data": None,
    }


def test_missing_parameters_are_400_bad_request(http: httpx.Client) -> None:
    response = http.get("/wealth/v1/holdings", params={"customerId": "RCB003-00001"})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["data"]) == ("BAD_REQUEST", None)


def test_injected_fault_is_503_in_the_wealth_error_shape(
    simulators: Simulators, sim_control: SimControl, investor: str
) -> None:
    sim_control.set_faults("wealth", "dc-b", error_rate=1.0)
    response = httpx.get(
        simulators.url("wealth", "dc-b") + "/wealth/v1/holdings",
        params={"customerId": investor, "memberBank": BANK},
    )
    assert response.status_code == 503
    assert response.headers["X-Data-Centre"] == "dc-b"
    assert response.json() == {"code": "SERVICE_UNAVAILABLE", "message": "injected fault", "data": None}
