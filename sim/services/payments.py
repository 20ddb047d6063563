"""Payments: transfers out of a customer's deposit account, made safe to retry by idempotency keys.

Wire style: JSON, camelCase, money as {"value": "12.34", "currency": "CNY"},
errors as {"code", "message", "traceId"}; business refusals are 422. Every
POST carries an `Idempotency-Key` header (after the IETF httpapi draft):
the first outcome under a key is kept per customer and replayed verbatim,
with `Idempotent-Replayed: true`, to every later request with the same key.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
from aiohttp import web

from sim.accounts import Accounts, SeedAccount
from sim.ledger import Ledger, PostedEntry
from sim.population import Population

CURRENCY = "CNY"
PER_TRANSFER_LIMIT_FEN = 5_000_000  # 50,000 CNY
DAILY_LIMIT_FEN = 20_000_000  # 200,000 CNY per customer and calendar day (China time)
CHINA_TIME = timezone(timedelta(hours=8))
MAX_MEMO = 140
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")
_ACCOUNT_NUMBER = re.compile(r"^[0-9]{10,19}$")


class PaymentError(Exception):
    """A refused transfer: HTTP status plus the service's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """A parsed, well-formed transfer request (not yet checked against accounts)."""

    customer_id: str
    member_bank: str
    from_account_id: str
    to_account_number: str
    to_name: str
    amount_fen: int
    memo: str
    fingerprint: str  # hash of the canonical body: same key + other body is refused


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the first request under a key answered; replays answer the same."""

    status: int
    body: dict[str, Any]


@dataclass(slots=True)
class Stats:
    transfers_executed: int = 0
    replays: int = 0
    daily_fen: dict[tuple[str, date], int] = field(default_factory=dict)


class PaymentsService:
    name = "payments"
    required_scope: str | None = "payments.write"

    def __init__(
        self, population: Population, accounts: Accounts, ledger: Ledger, processing_ms: float = 5.0
    ) -> None:
        self.population = population
        self.accounts = accounts
        self.ledger = ledger
        # Simulated processing time between reserving a key and finishing the
        # transfer: it opens the window in which concurrent duplicates arrive.
        self.processing_ms = processing_ms
        self.stats = Stats()
        # (member bank, customer, key) -> (body fingerprint, the running or finished execution)
        self._keys: dict[tuple[str, str, str], tuple[str, asyncio.Task[Outcome]]] = {}
        self._transfers: dict[str, dict[str, Any]] = {}
        self._sequence = itertools.count(1)
        self._traces = itertools.count(1)

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response(self._error_body(code, message), status=status)

    def _error_body(self, code: str, message: str) -> dict[str, Any]:
        return {"code": code, "message": message, "traceId": f"pay-{next(self._traces):010d}"}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/payments/v1/transfers", self.create_transfer)
        app.router.add_get("/payments/v1/transfers/{transfer_id}", self.get_transfer)
        app.router.add_get("/payments/v1/stats", self.get_stats)

    async def create_transfer(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 255:
            return self.error_response(
                400, "IDEMPOTENCY_KEY_REQUIRED", "send an Idempotency-Key header (1-255 chars)"
            )
        try:
            order = parse_order(await _json_body(request))
        except PaymentError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        return await self._once(key, order)

    async def _once(self, key: str, order: TransferOrder) -> web.Response:
        """Run `order` once per key; concurrent and later duplicates await the same task.

        Check and reserve happen with no await in between, so two requests
        (through either data centre: they share this instance) cannot both
        reserve the key.
        """
        scoped = (order.member_bank, order.customer_id, key)
        found = self._keys.get(scoped)
        if found is None:
            task = asyncio.ensure_future(self._execute(key, order))
            self._keys[scoped] = (order.fingerprint, task)
            # Shielded: a caller that disconnects must not cancel a transfer half done.
            return _respond(await asyncio.shield(task), replayed=False)
        fingerprint, task = found
        if fingerprint != order.fingerprint:
            return self.error_response(
                422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used with a different request body"
            )
        outcome = await asyncio.shield(task)
        self.stats.replays += 1
        return _respond(outcome, replayed=True)

    async def _execute(self, key: str, order: TransferOrder) -> Outcome:
        if self.processing_ms:
            await asyncio.sleep(self.processing_ms / 1000)
        # From here on no await: checking funds and posting are one atomic step.
        try:
            account = self._source_account(order)
            self._check_limits(order, account)
        except PaymentError as exc:
            return Outcome(exc.status, self._error_body(exc.code, exc.message))
        transfer = self._book(key, order, account)
        return Outcome(201, transfer)

    def _source_account(self, order: TransferOrder) -> SeedAccount:
        account = self.accounts.get(order.from_account_id)
        if (
            account is None
            or account.customer_id != order.customer_id
            or account.member_bank != order.member_bank
        ):
            raise PaymentError(404, "ACCOUNT_NOT_FOUND", "no such account for this customer")
        if account.number == order.to_account_number:
            raise PaymentError(422, "SAME_ACCOUNT", "cannot transfer to the account it comes from")
        return account

    def _check_limits(self, order: TransferOrder, account: SeedAccount) -> None:
        if order.amount_fen > PER_TRANSFER_LIMIT_FEN:
            raise PaymentError(422, "LIMIT_EXCEEDED", "amount exceeds the per-transfer limit of 50000.00 CNY")
        spent = self.stats.daily_fen.get((order.customer_id, _today()), 0)
        if spent + order.amount_fen > DAILY_LIMIT_FEN:
            raise PaymentError(422, "LIMIT_EXCEEDED", "amount exceeds the daily limit of 200000.00 CNY")
        available = account.opening_balance_fen + self.ledger.delta_fen(account.account_id)
        if order.amount_fen > available:
            raise PaymentError(422, "INSUFFICIENT_FUNDS", "available balance is lower than the amount")

    def _book(self, key: str, order: TransferOrder, account: SeedAccount) -> dict[str, Any]:
        transfer_id = f"TRF{next(self._sequence):012d}"
        now = datetime.now(UTC)
        self._post_entries(transfer_id, order, account, now)
        day = (order.customer_id, _today())
        self.stats.daily_fen[day] = self.stats.daily_fen.get(day, 0) + order.amount_fen
        self.stats.transfers_executed += 1
        transfer = _transfer_wire(transfer_id, key, order, now)
        self._transfers[transfer_id] = transfer
        return transfer

    def _post_entries(
        self, transfer_id: str, order: TransferOrder, account: SeedAccount, now: datetime
    ) -> None:
        self.ledger.post(
            PostedEntry(
                entry_id=f"{transfer_id}-D",
                account_id=account.account_id,
                amount_fen=-order.amount_fen,
                description=order.memo or f"Transfer to {order.to_name}",
                counterparty=order.to_name,
                booked_at=now,
            )
        )
        payee = self.accounts.by_number(order.to_account_number)
        if payee is None:
            return  # another bank's account: the money leaves the group
        payer = self.population.customer(order.customer_id)
        self.ledger.post(
            PostedEntry(
                entry_id=f"{transfer_id}-C",
                account_id=payee.account_id,
                amount_fen=order.amount_fen,
                description=order.memo or "Incoming transfer",
                counterparty=payer.name if payer is not None else None,
                booked_at=now,
            )
        )

    async def get_transfer(self, request: web.Request) -> web.Response:
        customer_id = request.query.get("customerId", "")
        member_bank = request.query.get("memberBank", "")
        if not customer_id or not member_bank:
            return self.error_response(400, "BAD_REQUEST", "customerId and memberBank are required")
        transfer = self._transfers.get(request.match_info["transfer_id"])
        if transfer is None or (transfer["customerId"], transfer["memberBank"]) != (customer_id, member_bank):
            return self.error_response(404, "TRANSFER_NOT_FOUND", "no such transfer for this customer")
        return web.json_response(transfer)

    async def get_stats(self, _: web.Request) -> web.Response:
        return web.json_response(
            {"transfersExecuted": self.stats.transfers_executed, "idempotentReplays": self.stats.replays}
        )


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json(loads=orjson.loads)
    except ValueError as exc:
        raise PaymentError(400, "BAD_REQUEST", "body is not JSON") from exc


def parse_order(body: Any) -> TransferOrder:
    """Check the shape of a transfer request; raise PaymentError(400) naming the bad field."""
    if not isinstance(body, dict):
        raise PaymentError(400, "BAD_REQUEST", "body must be a JSON object")
    text = {
        name: _text(body, name)
        for name in ("customerId", "memberBank", "fromAccountId", "toAccountNumber", "toName")
    }
    memo = body.get("memo", "")
    if memo is None:
        memo = ""
    if not isinstance(memo, str) or len(memo) > MAX_MEMO:
        raise PaymentError(400, "BAD_REQUEST", f"memo must be a string of at most {MAX_MEMO} characters")
    if not _ACCOUNT_NUMBER.match(text["toAccountNumber"]):
        raise PaymentError(400, "BAD_REQUEST", "toAccountNumber must be 10 to 19 digits")
    return TransferOrder(
        customer_id=text["customerId"],
        member_bank=text["memberBank"],
        from_account_id=text["fromAccountId"],
        to_account_number=text["toAccountNumber"],
        to_name=text["toName"],
        amount_fen=_amount_fen(body.get("amount")),
        memo=memo,
        fingerprint=hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest(),
    )


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PaymentError(400, "BAD_REQUEST", f"{name} is required and must be a non-empty string")
    return value.strip()


def _amount_fen(amount: Any) -> int:
    if not isinstance(amount, dict) or not isinstance(amount.get("value"), str):
        raise PaymentError(400, "INVALID_AMOUNT", 'amount must be {"value": "12.34", "currency": "CNY"}')
    if amount.get("currency") != CURRENCY:
        raise PaymentError(422, "CURRENCY_NOT_SUPPORTED", "transfers are in CNY only")
    match = _AMOUNT.match(amount["value"])
    if match is None:
        raise PaymentError(400, "INVALID_AMOUNT", "amount.value must be a decimal with at most 2 places")
    whole, fraction = match.group(1), (match.group(2) or ".")[1:]
    fen = int(whole) * 100 + int(fraction.ljust(2, "0"))
    if fen <= 0:
        raise PaymentError(400, "INVALID_AMOUNT", "amount must be greater than zero")
    return fen


def _transfer_wire(transfer_id: str, key: str, order: TransferOrder, now: datetime) -> dict[str, Any]:
    return {
        "transferId": transfer_id,
        "status": "COMPLETED",
        "customerId": order.customer_id,
        "memberBank": order.member_bank,
        "fromAccountId": order.from_account_id,
        "toAccountNumber": order.to_account_number,
        "toName": order.to_name,
        "amount": {"value": _yuan(order.amount_fen), "currency": CURRENCY},
        "memo": order.memo,
        "idempotencyKey": key,
        "createdAt": now.isoformat().replace("+00:00", "Z"),
    }


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _today() -> date:
    return datetime.now(CHINA_TIME).date()


def _respond(outcome: Outcome, *, replayed: bool) -> web.Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.json_response(outcome.body, status=outcome.status, headers=headers)
