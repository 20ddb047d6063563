"""The cards simulator over HTTP: OAuth scope, cursor paging, scoping, error shape."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sim.accounts import Accounts
from sim.history import CARD_CHANNELS, History
from sim.ledger import Ledger
from sim.population import Population
from tests.support.processes import Simulators

CUSTOMER, BANK = "RCB001-00042", "RCB001"  # a debit card (C1) and a credit card (C2)
DEBIT, CREDIT = f"{CUSTOMER}-C1", f"{CUSTOMER}-C2"
AMOUNT = re.compile(r"^[0-9]+\.[0-9]{2}$")


def token_for(simulators: Simulators, scope: str) -> str:
    response = httpx.post(
        simulators.topology["oauth_token_url"],
        data={"grant_type": "client_credentials", "scope": scope},
        auth=("bff", "bff-dev-secret"),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def http(simulators: Simulators) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token_for(simulators, 'cards.read')}"}
    with httpx.Client(base_url=simulators.url("cards", "dc-a"), timeout=5, headers=headers) as client:
        yield client


def transactions(
    http: httpx.Client, card_id: str, customer: str = CUSTOMER, bank: str = BANK, **params: Any
) -> httpx.Response:
    headers = {"X-Member-Bank": bank, "X-Customer-Id": customer}
    return http.get(f"/v2/cards/{card_id}/transactions", params=params, headers=headers)


def all_pages(http: httpx.Client, card_id: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = transactions(http, card_id, **params).json()
        items += body["data"]
        assert len(body["data"]) <= limit
        if not body["page"]["hasMore"]:
            assert body["page"]["nextCursor"] is None
            return items
        cursor = body["page"]["nextCursor"]


def test_customer_has_a_debit_card_on_the_current_account_and_a_credit_card_with_limits(
    http: httpx.Client,
) -> None:
    response = http.get(f"/v2/customers/{CUSTOMER}/cards", headers={"X-Member-Bank": BANK})
    assert response.status_code == 200
    assert response.headers["X-Data-Centre"] == "dc-a"
    cards = {card["cardId"]: card for card in response.json()["data"]}
    debit, credit = cards[DEBIT], cards[CREDIT]
    assert (debit["type"], debit["linkedAccountId"], debit["creditLimit"]) == (
        "DEBIT",
        f"{CUSTOMER}-A1",
        None,
    )
    assert credit["type"] == "CREDIT"
    assert credit["linkedAccountId"] is None
    for money in (credit["creditLimit"], credit["outstandingBalance"], credit["availableCredit"]):
        assert money["currency"] == "CNY"
        assert AMOUNT.match(money["amount"])
    assert re.match(r"^[0-9]{6}\*{6}[0-9]{4}$", debit["maskedPan"])


@pytest.mark.parametrize("card_id", [DEBIT, CREDIT])
def test_cursor_pages_reach_every_transaction_once_newest_first(http: httpx.Client, card_id: str) -> None:
    paged = all_pages(http, card_id, limit=7)
    ids = [t["transactionId"] for t in paged]
    assert len(ids) == len(set(ids)) > 7
    times = [t["postedAt"] for t in paged]
    assert times == sorted(times, reverse=True)
    assert [t["transactionId"] for t in all_pages(http, card_id, limit=100)] == ids
    for txn in paged:
        assert txn["creditDebitIndicator"] in ("DBIT", "CRDT")
        assert AMOUNT.match(txn["amount"]["amount"])


def test_debit_card_shows_the_card_bookings_of_its_account_derived_from_the_seed(
    simulators: Simulators, http: httpx.Client
) -> None:
    population = Population(seed=simulators.topology["seed"])
    history = History(population, Accounts(population), Ledger())
    expected = [b for b in reversed(history.seeded(f"{CUSTOMER}-A1")) if b.channel in CARD_CHANNELS]
    paged = all_pages(http, DEBIT, limit=50)
    assert [t["description"] for t in paged] == [b.description for b in expected]
    assert [t["amount"]["amount"] for t in paged][:3] == [
        f"{-b.amount_fen // 100}.{-b.amount_fen % 100:02d}" for b in expected[:3]
    ]


def test_both_data_centres_answer_a_page_identically(simulators: Simulators, http: httpx.Client) -> None:
    first = transactions(http, CREDIT, limit=5).json()
    with httpx.Client(
        base_url=simulators.url("cards", "dc-b"), timeout=5, headers=dict(http.headers)
    ) as other:
        again = transactions(other, CREDIT, limit=5).json()
        cursor = first["page"]["nextCursor"]
        assert (
            transactions(other, CREDIT, limit=5, cursor=cursor).json()
            == transactions(http, CREDIT, limit=5, cursor=cursor).json()
        )
    assert again == first


@pytest.mark.parametrize(
    ("customer", "bank"),
    [("RCB001-00043", BANK), (CUSTOMER, "RCB002")],
    ids=["another-customer", "another-member-bank"],
)
def test_card_read_as_someone_else_is_card_not_found(http: httpx.Client, customer: str, bank: str) -> None:
    response = transactions(http, DEBIT, customer=customer, bank=bank)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "CARD_NOT_FOUND"
    assert "data" not in response.json()


def test_customer_of_another_member_bank_has_no_cards_but_customer_not_found(http: httpx.Client) -> None:
    response = http.get(f"/v2/customers/{CUSTOMER}/cards", headers={"X-Member-Bank": "RCB003"})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"code": "CUSTOMER_NOT_FOUND", "detail": "no such customer in this member bank"}]
    }


@pytest.mark.parametrize("scope", [None, "crm.read"], ids=["no-token", "wrong-scope"])
def test_reads_without_a_cards_read_token_are_401(simulators: Simulators, scope: str | None) -> None:
    headers = {"X-Member-Bank": BANK}
    if scope is not None:
        headers["Authorization"] = f"Bearer {token_for(simulators, scope)}"
    response = httpx.get(simulators.url("cards", "dc-b") + f"/v2/customers/{CUSTOMER}/cards", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_bad_paging_parameters_and_missing_headers_are_400_with_a_code(http: httpx.Client) -> None:
    other_card = transactions(http, CREDIT, limit=1).json()["page"]["nextCursor"]
    cases = {
        "INVALID_CURSOR": transactions(http, DEBIT, cursor="bm90LWEtY3Vyc29y"),
        "INVALID_PARAMETER": transactions(http, DEBIT, limit=0),
        "MISSING_HEADER": http.get(f"/v2/cards/{DEBIT}/transactions", headers={"X-Member-Bank": BANK}),
    }
    cases["INVALID_CURSOR (another card's)"] = transactions(http, DEBIT, cursor=other_card)
    for code, response in cases.items():
        assert response.status_code == 400, code
        assert response.json()["errors"][0]["code"] == code.split(" ")[0]
