"""Legacy core banking: XML envelopes over one HTTP endpoint.

Wire style: `POST /corebanking/gateway` with a <Request> envelope whose
Header names the transaction code (ACCT_LIST, BAL_INQ, TXN_HIST), member bank
and customer; the answer is a <Response> envelope with a RetCode. Business
errors are HTTP 200 with a non-0000 RetCode, as legacy cores do. Amounts are
integer fen strings, dates YYYYMMDD, times YYYYMMDDHHMMSS (China time).
Documented in schemas/channels/core_banking.md.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from aiohttp import web

from sim.accounts import Accounts, SeedAccount
from sim.history import CHINA_TIME, Booking, History
from sim.ledger import Ledger
from sim.population import Population, rng_for

OK = "0000"
ACCOUNT_NOT_FOUND = "E1001"
CUSTOMER_NOT_FOUND = "E1002"
BAD_REQUEST = "E2001"
UNKNOWN_TXN_CODE = "E2002"
BATCH_TOO_LARGE = "E2003"
SYSTEM_ERROR = "E9999"
MAX_BATCH = 50
MAX_RECORD_COUNT = 100
DEFAULT_RECORD_COUNT = 20
_ACCT_TYPES = {"current": "CUR", "savings": "SAV", "fixed_deposit": "FIX"}
_CHANNELS = {
    "card": "POS",
    "atm": "ATM",
    "transfer": "TRF",
    "salary": "SAL",
    "bill": "BIL",
    "interest": "INT",
    "subsidy": "SUB",
}


class CoreError(Exception):
    """A refused request: its RetCode and RetMsg."""

    def __init__(self, ret_code: str, message: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.message = message


@dataclass(frozen=True, slots=True)
class Envelope:
    txn_code: str
    member_bank: str
    customer_id: str
    request_id: str
    body: Element


class CoreBankingService:
    name = "core_banking"
    required_scope: str | None = None

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.accounts = accounts
        self.history = History(population, accounts, ledger)
        self._handlers: dict[str, Callable[[Envelope], Element]] = {
            "ACCT_LIST": self._acct_list,
            "BAL_INQ": self._bal_inq,
            "TXN_HIST": self._txn_hist,
        }

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return _respond(SYSTEM_ERROR, f"{code}: {message}", "", "", None, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/corebanking/gateway", self.gateway)

    async def gateway(self, request: web.Request) -> web.Response:
        raw = await request.read()
        txn_code = request_id = ""
        try:
            envelope = parse_envelope(raw)
            txn_code, request_id = envelope.txn_code, envelope.request_id
            handler = self._handlers.get(envelope.txn_code)
            if handler is None:
                raise CoreError(UNKNOWN_TXN_CODE, f"unknown TxnCode {envelope.txn_code!r}")
            if not self.population.belongs(envelope.customer_id, envelope.member_bank):
                raise CoreError(CUSTOMER_NOT_FOUND, "customer not found in this member bank")
            body = handler(envelope)
        except CoreError as exc:
            return _respond(exc.ret_code, exc.message, txn_code, request_id, None)
        return _respond(OK, "OK", txn_code, request_id, body)

    def _owned(self, envelope: Envelope, account_id: str) -> SeedAccount | None:
        account = self.accounts.get(account_id)
        if account is None or account.customer_id != envelope.customer_id:
            return None
        return account if account.member_bank == envelope.member_bank else None

    def _acct_list(self, envelope: Envelope) -> Element:
        body = Element("Body")
        accounts = self.accounts.of_customer(envelope.customer_id)
        _text(body, "TotalNum", len(accounts))
        listing = ET.SubElement(body, "AcctList")
        for account in accounts:
            listing.append(self._acct(account))
        return body

    def _bal_inq(self, envelope: Envelope) -> Element:
        ids = list(dict.fromkeys(_texts(envelope.body, "AcctIdList/AcctId")))
        if not ids:
            raise CoreError(BAD_REQUEST, "AcctIdList must hold at least one AcctId")
        if len(ids) > MAX_BATCH:
            raise CoreError(BATCH_TOO_LARGE, f"at most {MAX_BATCH} AcctId per BAL_INQ")
        body = Element("Body")
        found = ET.SubElement(body, "AcctList")
        missing = ET.SubElement(body, "NotFoundList")
        for account_id in ids:
            account = self._owned(envelope, account_id)
            if account is None:
                _text(missing, "AcctId", account_id)
            else:
                found.append(self._acct(account))
        return body

    def _txn_hist(self, envelope: Envelope) -> Element:
        account = self._owned(envelope, _field(envelope.body, "AcctId"))
        if account is None:
            raise CoreError(ACCOUNT_NOT_FOUND, "account not found for this customer")
        start = _int_field(envelope.body, "StartRecord", 1, 1, 10**9)
        count = _int_field(envelope.body, "RecordCount", DEFAULT_RECORD_COUNT, 1, MAX_RECORD_COUNT)
        bookings = self.history.bookings(account)
        chosen = bookings[start - 1 : start - 1 + count]
        body = Element("Body")
        _text(body, "AcctId", account.account_id)
        _text(body, "TotalRecords", len(bookings))
        _text(body, "StartRecord", start)
        _text(body, "RecordCount", len(chosen))
        listing = ET.SubElement(body, "TxnList")
        for booking in chosen:
            listing.append(_txn(booking))
        return body

    def _acct(self, account: SeedAccount) -> Element:
        balance = self.history.balance_fen(account)
        acct = Element("Acct")
        _text(acct, "AcctId", account.account_id)
        _text(acct, "AcctNo", account.number)
        _text(acct, "AcctType", _ACCT_TYPES[account.kind])
        _text(acct, "AcctName", account.name)
        _text(acct, "Ccy", "CNY")
        _text(acct, "LedgerBal", balance)
        _text(acct, "AvailBal", balance)
        _text(acct, "OpenDate", account.opened_on.strftime("%Y%m%d"))
        _text(acct, "Status", self._status(account))
        return acct

    def _status(self, account: SeedAccount) -> str:
        """A (active) for most accounts; a few seeded savings accounts are D (dormant)."""
        if account.kind != "savings":
            return "A"
        return "D" if rng_for(self.population.seed, "status", account.account_id).random() < 0.05 else "A"


def parse_envelope(raw: bytes) -> Envelope:
    try:
        root = SafeET.fromstring(raw)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException
        raise CoreError(BAD_REQUEST, f"request is not well-formed XML: {exc}") from None
    header: Element | None = root.find("Header") if root.tag == "Request" else None
    if header is None:
        raise CoreError(BAD_REQUEST, "expected <Request><Header>...</Header><Body>...</Body></Request>")
    body: Element | None = root.find("Body")
    return Envelope(
        txn_code=_field(header, "TxnCode"),
        member_bank=_field(header, "MemberBank"),
        customer_id=_field(header, "CustomerId"),
        request_id=(header.findtext("RequestId") or "").strip(),
        body=body if body is not None else Element("Body"),
    )


def _field(parent: Element, tag: str) -> str:
    value = (parent.findtext(tag) or "").strip()
    if not value:
        raise CoreError(BAD_REQUEST, f"<{tag}> is required")
    return value


def _int_field(parent: Element, tag: str, default: int, low: int, high: int) -> int:
    raw = (parent.findtext(tag) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise CoreError(BAD_REQUEST, f"<{tag}> must be an integer from {low} to {high}")
    return int(raw)


def _texts(parent: Element, path: str) -> list[str]:
    return [(e.text or "").strip() for e in parent.findall(path) if (e.text or "").strip()]


def _text(parent: Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _txn(booking: Booking) -> Element:
    txn = Element("Txn")
    local = booking.booked_at.astimezone(CHINA_TIME)
    _text(txn, "TxnId", booking.booking_id)
    _text(txn, "TxnTime", local.strftime("%Y%m%d%H%M%S"))
    _text(txn, "ValueDate", local.strftime("%Y%m%d"))
    _text(txn, "DrCr", "D" if booking.amount_fen < 0 else "C")
    _text(txn, "Amt", abs(booking.amount_fen))
    _text(txn, "Ccy", "CNY")
    _text(txn, "BalAfter", booking.balance_after_fen)
    _text(txn, "Channel", _CHANNELS[booking.channel])
    _text(txn, "Narrative", booking.description)
    if booking.counterparty:
        _text(txn, "CounterParty", booking.counterparty)
    return txn


def _respond(
    ret_code: str, message: str, txn_code: str, request_id: str, body: Element | None, status: int = 200
) -> web.Response:
    root = Element("Response")
    header = ET.SubElement(root, "Header")
    _text(header, "RetCode", ret_code)
    _text(header, "RetMsg", message)
    if txn_code:
        _text(header, "TxnCode", txn_code)
    if request_id:
        _text(header, "RequestId", request_id)
    root.append(body if body is not None else Element("Body"))
    payload = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return web.Response(status=status, body=payload, content_type="text/xml", charset="utf-8")
