"""The core banking simulator over HTTP: XML envelopes, legacy paging, scoping, RetCodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from sim.accounts import Accounts
from sim.history import History
from sim.ledger import Ledger
from sim.population import Population
from tests.support.processes import Simulators
from tests.support.sim_control import SimControl

CUSTOMER = "RCB001-00042"


@pytest.fixture(scope="module")
def http(simulators: Simulators) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulators.url("core_banking", "dc-a"), timeout=5) as client:
        yield client


def envelope(txn_code: str, body: str = "", customer: str = CUSTOMER, bank: str | None = None) -> str:
    """A request envelope; the member bank defaults to the customer's own."""
    bank = bank or customer.partition("-")[0]
    return (
        f"<Request><Header><TxnCode>{txn_code}</TxnCode><MemberBank>{bank}</MemberBank>"
        f"<CustomerId>{customer}</CustomerId><RequestId>t-1</RequestId></Header>"
        f"<Body>{body}</Body></Request>"
    )


def post(http: httpx.Client, payload: str) -> tuple[httpx.Response, Element]:
    response = http.post(
        "/corebanking/gateway", content=payload.encode(), headers={"Content-Type": "text/xml"}
    )
    root: Element = SafeET.fromstring(response.content)
    return response, root


def ok_body(http: httpx.Client, payload: str) -> Element:
    response, root = post(http, payload)
    assert response.status_code == 200
    assert root.findtext("Header/RetCode") == "0000", root.findtext("Header/RetMsg")
    body = root.find("Body")
    assert body is not None
    return body


def history_page(account_id: str, start: int, count: int, customer: str = CUSTOMER) -> str:
    body = (
        f"<AcctId>{account_id}</AcctId><StartRecord>{start}</StartRecord><RecordCount>{count}</RecordCount>"
    )
    return envelope("TXN_HIST", body, customer=customer)


def test_acct_list_answers_the_customers_accounts_as_xml_with_fen_balances(http: httpx.Client) -> None:
    response, root = post(http, envelope("ACCT_LIST"))
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-Data-Centre"] == "dc-a"
    assert root.findtext("Header/RequestId") == "t-1"
    accounts = root.findall("Body/AcctList/Acct")
    assert root.findtext("Body/TotalNum") == str(len(accounts)) != "0"
    for acct in accounts:
        assert (acct.findtext("AcctId") or "").startswith(f"{CUSTOMER}-A")
        assert (acct.findtext("LedgerBal") or "").isdigit()
        assert len(acct.findtext("OpenDate") or "") == 8
        assert acct.findtext("AcctType") in {"CUR", "SAV", "FIX"}


def test_history_pages_cover_total_records_once_each_newest_first(http: httpx.Client) -> None:
    account = f"{CUSTOMER}-A1"
    first = ok_body(http, history_page(account, 1, 100))
    total = int(first.findtext("TotalRecords") or 0)
    ids: list[str] = []
    times: list[str] = []
    for start in range(1, total + 1, 100):
        page = ok_body(http, history_page(account, start, 100))
        ids += [t.findtext("TxnId") or "" for t in page.iterfind("TxnList/Txn")]
        times += [t.findtext("TxnTime") or "" for t in page.iterfind("TxnList/Txn")]
    assert len(ids) == len(set(ids)) == total
    assert times == sorted(times, reverse=True)
    past_end = ok_body(http, history_page(account, total + 1, 10))
    assert past_end.findtext("RecordCount") == "0"


def test_balance_after_chains_back_from_the_ledger_balance(http: httpx.Client) -> None:
    account = f"{CUSTOMER}-A2"
    balances = ok_body(http, envelope("BAL_INQ", f"<AcctIdList><AcctId>{account}</AcctId></AcctIdList>"))
    txns = ok_body(http, history_page(account, 1, 50)).findall("TxnList/Txn")
    expected = int(balances.findtext("AcctList/Acct/LedgerBal") or -1)
    for txn in txns:
        assert int(txn.findtext("BalAfter") or -1) == expected
        amount = int(txn.findtext("Amt") or 0)
        expected -= amount if txn.findtext("DrCr") == "C" else -amount
        assert expected >= 0


def test_both_data_centres_and_a_fresh_process_derive_the_same_history(
    simulators: Simulators, http: httpx.Client
) -> None:
    account = "RCB002-01234-A1"
    payload = history_page(account, 1, 30, customer="RCB002-01234")
    with httpx.Client(base_url=simulators.url("core_banking", "dc-b"), timeout=5) as other:
        dc_a = http.post("/corebanking/gateway", content=payload).content
        dc_b = other.post("/corebanking/gateway", content=payload).content
    assert dc_a == dc_b
    population = Population(seed=simulators.topology["seed"])
    accounts = Accounts(population)
    seed_account = accounts.get(account)
    assert seed_account is not None
    local = History(population, accounts, Ledger()).bookings(seed_account)[:30]
    served = [t.findtext("TxnId") for t in SafeET.fromstring(dc_a).iterfind("Body/TxnList/Txn")]
    assert served == [b.booking_id for b in local]


def test_history_of_another_customers_account_is_e1001_not_found(http: httpx.Client) -> None:
    response, root = post(http, history_page("RCB001-00043-A1", 1, 10))
    assert response.status_code == 200
    assert root.findtext("Header/RetCode") == "E1001"
    assert root.find("Body/TxnList") is None


def test_customer_of_another_member_bank_is_e1002_not_found(http: httpx.Client) -> None:
    _, root = post(http, envelope("ACCT_LIST", bank="RCB002"))
    assert root.findtext("Header/RetCode") == "E1002"
    assert root.find("Body/AcctList") is None


def test_bal_inq_answers_owned_accounts_and_lists_the_others_as_not_found(http: httpx.Client) -> None:
    ids = f"<AcctId>{CUSTOMER}-A1</AcctId><AcctId>RCB001-00043-A1</AcctId><AcctId>{CUSTOMER}-A1</AcctId>"
    body = ok_body(http, envelope("BAL_INQ", f"<AcctIdList>{ids}</AcctIdList>"))
    assert [a.findtext("AcctId") for a in body.iterfind("AcctList/Acct")] == [f"{CUSTOMER}-A1"]
    assert [e.text for e in body.iterfind("NotFoundList/AcctId")] == ["RCB001-00043-A1"]


def test_bal_inq_of_more_than_50_accounts_is_e2003(http: httpx.Client) -> None:
    ids = "".join(f"<AcctId>{CUSTOMER}-A{n}</AcctId>" for n in range(51))
    _, root = post(http, envelope("BAL_INQ", f"<AcctIdList>{ids}</AcctIdList>"))
    assert root.findtext("Header/RetCode") == "E2003"


@pytest.mark.parametrize(
    ("payload", "ret_code"),
    [
        ("not xml at all", "E2001"),
        ("<Request><Header><TxnCode>ACCT_LIST</TxnCode></Header></Request>", "E2001"),
        (history_page(f"{CUSTOMER}-A1", 1, 101), "E2001"),
        (history_page(f"{CUSTOMER}-A1", 0, 10), "E2001"),
        (envelope("WIRE_OUT"), "E2002"),
    ],
    ids=["not-xml", "no-customer", "too-many-records", "start-zero", "unknown-code"],
)
def test_bad_requests_answer_http_200_with_a_refusing_retcode(
    http: httpx.Client, payload: str, ret_code: str
) -> None:
    response, root = post(http, payload)
    assert response.status_code == 200
    assert root.findtext("Header/RetCode") == ret_code
    assert root.findtext("Header/RetMsg")


def test_injected_fault_answers_an_xml_envelope_with_http_503(
    http: httpx.Client, sim_control: SimControl
) -> None:
    sim_control.set_faults("core_banking", "dc-a", error_rate=1.0)
    response, root = post(http, envelope("ACCT_LIST"))
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/xml")
    assert root.findtext("Header/RetCode") == "E9999"


def test_posted_transfer_leads_the_history_and_moves_the_balance(
    simulators: Simulators, http: httpx.Client
) -> None:
    customer, account = "RCB003-09001", "RCB003-09001-A1"
    payload = envelope("ACCT_LIST", customer=customer)
    before = int(ok_body(http, payload).findtext("AcctList/Acct/LedgerBal") or 0)
    total_before = int(ok_body(http, history_page(account, 1, 1, customer)).findtext("TotalRecords") or 0)
    transfer_out(simulators, customer, "RCB003", account, fen=123)
    after = ok_body(http, payload)
    newest = ok_body(http, history_page(account, 1, 1, customer))
    assert int(after.findtext("AcctList/Acct/LedgerBal") or 0) == before - 123
    assert int(newest.findtext("TotalRecords") or 0) == total_before + 1
    txn = newest.find("TxnList/Txn")
    assert txn is not None
    assert (txn.findtext("DrCr"), txn.findtext("Amt"), txn.findtext("Channel")) == ("D", "123", "TRF")
    assert txn.findtext("BalAfter") == str(before - 123)


def transfer_out(simulators: Simulators, customer: str, bank: str, account: str, fen: int) -> None:
    """Post a transfer to another bank through the payments simulator."""
    token = httpx.post(
        simulators.topology["oauth_token_url"],
        data={"grant_type": "client_credentials", "scope": "payments.write"},
        auth=("bff", "bff-dev-secret"),
    ).json()["access_token"]
    response = httpx.post(
        simulators.url("payments", "dc-a") + "/payments/v1/transfers",
        json={
            "customerId": customer,
            "memberBank": bank,
            "fromAccountId": account,
            "toAccountNumber": "9558801234567890",
            "toName": "Other Bank Payee",
            "amount": {"value": f"{fen // 100}.{fen % 100:02d}", "currency": "CNY"},
        },
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
