"""Payments adapter: transfers, safe to retry because each carries an idempotency key.

Wire style: JSON, camelCase, money as {"value": "12.34", "currency": "CNY"},
errors as {"code", "message", "traceId"} with business refusals on 422
(INSUFFICIENT_FUNDS, LIMIT_EXCEEDED, IDEMPOTENCY_KEY_REUSED, ...). The service
replays the first outcome for a repeated `Idempotency-Key`, so the client may
retry a transfer on either data centre without moving money twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from bff.channels.call import Call, MalformedBody, Reply
from bff.channels.client import ChannelClient
from bff.channels.errors import ChannelRejected, NotFound
from bff.channels.models import CustomerScope, Money, Transfer
from bff.channels.money import money_from_text

SERVICE = "payments"


class PaymentsChannel:
    def __init__(self, client: ChannelClient) -> None:
        self._client = client

    async def transfer(
        self,
        scope: CustomerScope,
        from_account_id: str,
        to_account_number: str,
        to_name: str,
        amount: Money,
        memo: str,
        idempotency_key: str,
    ) -> Transfer:
        """Move `amount` out of one of the customer's accounts, once per idempotency key."""
        body = {
            "customerId": scope.customer_id,
            "memberBank": scope.member_bank,
            "fromAccountId": from_account_id,
            "toAccountNumber": to_account_number,
            "toName": to_name,
            "amount": {"value": format(amount.amount, "f"), "currency": amount.currency},
            "memo": memo,
        }
        call = Call(
            "POST",
            "/payments/v1/transfers",
            "payments.transfer",
            idempotent=True,  # the Idempotency-Key makes a resend harmless
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return await self._client.call(SERVICE, call, _decode_transfer)

    async def get_transfer(self, scope: CustomerScope, transfer_id: str) -> Transfer:
        """One of the customer's transfers; NotFound if it is someone else's."""
        call = Call(
            "GET",
            f"/payments/v1/transfers/{quote(transfer_id, safe='')}",
            "payments.get_transfer",
            idempotent=True,
            params={"customerId": scope.customer_id, "memberBank": scope.member_bank},
        )
        return await self._client.call(SERVICE, call, _decode_transfer)


def _decode_transfer(reply: Reply) -> Transfer:
    _raise_for_error(reply)
    return transfer_from_wire(reply.json())


def _raise_for_error(reply: Reply) -> None:
    if reply.status < 400:
        return
    error = reply.json()
    if not isinstance(error, dict) or "code" not in error:
        raise MalformedBody(f"HTTP {reply.status} without a payments error body")
    code, message = str(error["code"]), str(error.get("message", ""))
    kind = NotFound if reply.status == 404 else ChannelRejected
    raise kind(SERVICE, code, message, status=reply.status)


def transfer_from_wire(raw: dict[str, Any]) -> Transfer:
    return Transfer(
        transfer_id=str(raw["transferId"]),
        status=str(raw["status"]),
        from_account_id=str(raw["fromAccountId"]),
        to_account_number=str(raw["toAccountNumber"]),
        to_name=str(raw["toName"]),
        amount=money_from_text(raw["amount"]["value"], raw["amount"]["currency"]),
        created_at=datetime.fromisoformat(raw["createdAt"]),
        idempotency_key=str(raw["idempotencyKey"]),
        memo=str(raw.get("memo") or ""),
    )
