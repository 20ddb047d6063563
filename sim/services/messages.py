"""Cross-end messages: conversation threads between a customer and bank employees.

Wire style: JSON, camelCase, offset paging in the Spring Data style
({"content", "page", "pageSize", "totalElements", "totalPages"}, pages from
1, newest message first), errors in the Spring Boot style
({"timestamp", "status", "error", "code", "message"}). No auth. Sending is
deliberately NOT idempotent: every POST creates a message, so a client must
never retry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web

from sim.accounts import Accounts
from sim.ledger import Ledger
from sim.population import Population, rng_for

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_BODY = 2000
# Seeded history ends here, so it reads the same whatever day the simulator runs.
HISTORY_END = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

_SUBJECTS = (
    ("Your loan application", "LOAN_OFFICER"),
    ("Remote counter appointment", "REMOTE_TELLER"),
    ("Questions about your savings", "RELATIONSHIP_MANAGER"),
    ("Card delivery", "SERVICE_AGENT"),
    ("Fund risk assessment", "RELATIONSHIP_MANAGER"),
)
_EMPLOYEE_LINES = (
    "Hello, this is your account manager. How can I help?",
    "I have checked the documents you sent; they are complete.",
    "Please bring your ID card to the branch on Thursday.",
    "The approval usually takes two working days.",
    "You can also sign the form in the app, under Journeys.",
    "Thank you, I will call you back this afternoon.",
)
_CUSTOMER_LINES = (
    "Hello, I have a question.",
    "Thank you, that is clear.",
    "Can I do this from my phone?",
    "What documents do I need?",
    "OK, see you then.",
    "Is there a fee?",
)


class MessagesError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SeedThread:
    thread_id: str
    customer_id: str
    member_bank: str
    subject: str
    employee_id: str
    employee_name: str
    employee_role: str
    history: tuple[dict[str, Any], ...]  # oldest first, in wire form
    unread_seeded: int  # the last n employee messages the customer has not read


@dataclass(slots=True)
class ThreadState:
    """What changed at run time: sent messages and how far the customer has read."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    read_all: bool = False


@dataclass(slots=True)
class Stats:
    messages_created: int = 0


class MessagesService:
    name = "messages"
    required_scope: str | None = None

    def __init__(self, population: Population, accounts: Accounts, ledger: Ledger) -> None:
        self.population = population
        self.threads_of = lru_cache(maxsize=65_536)(self._threads_of)
        self.stats = Stats()
        self._state: dict[str, ThreadState] = {}

    def error_response(self, status: int, code: str, message: str) -> web.Response:
        body = {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "status": status,
            "error": HTTPStatus(status).phrase,
            "code": code,
            "message": message,
        }
        return web.json_response(body, status=status)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/msg/v1/threads", self.list_threads)
        app.router.add_get("/msg/v1/threads/{thread_id}/messages", self.list_messages)
        app.router.add_post("/msg/v1/threads/{thread_id}/messages", self.send_message)
        app.router.add_post("/msg/v1/threads/{thread_id}/read", self.mark_read)
        app.router.add_get("/msg/v1/stats", self.get_stats)

    def _threads_of(self, customer_id: str) -> tuple[SeedThread, ...]:
        customer = self.population.customer(customer_id)
        if customer is None:
            return ()
        rng = rng_for(self.population.seed, "threads", customer_id)
        count = rng.choices((0, 1, 2, 3, 4), (2, 4, 3, 2, 1))[0]
        return tuple(
            _seed_thread(self.population.seed, customer.member_bank, customer_id, k)
            for k in range(1, count + 1)
        )

    def _thread(self, request: web.Request, customer_id: str, member_bank: str) -> SeedThread:
        thread_id = request.match_info["thread_id"]
        if self.population.belongs(customer_id, member_bank):
            for thread in self.threads_of(customer_id):
                if thread.thread_id == thread_id:
                    return thread
        raise MessagesError(404, "THREAD_NOT_FOUND", "no such thread for this customer")

    def messages(self, thread: SeedThread) -> list[dict[str, Any]]:
        """Every message of a thread, oldest first, with read flags as of now."""
        state = self._state.get(thread.thread_id, ThreadState())
        unread_from = _unread_from(thread)
        history = [
            {**m, "read": state.read_all or i < unread_from or m["senderRole"] == "CUSTOMER"}
            for i, m in enumerate(thread.history)
        ]
        return history + state.sent

    def _summary(self, thread: SeedThread) -> dict[str, Any]:
        messages = self.messages(thread)
        last = messages[-1] if messages else None
        return {
            "threadId": thread.thread_id,
            "customerId": thread.customer_id,
            "memberBank": thread.member_bank,
            "subject": thread.subject,
            "employee": {
                "employeeId": thread.employee_id,
                "name": thread.employee_name,
                "role": thread.employee_role,
            },
            "messageCount": len(messages),
            "unreadCount": sum(1 for m in messages if not m["read"]),
            "lastMessageAt": last["sentAt"] if last else None,
            "lastMessagePreview": last["body"][:60] if last else None,
        }

    async def list_threads(self, request: web.Request) -> web.Response:
        try:
            customer_id, member_bank = _scope(request.query)
        except MessagesError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        if not self.population.belongs(customer_id, member_bank):
            return self.error_response(404, "CUSTOMER_NOT_FOUND", "no such customer in this member bank")
        threads = [self._summary(t) for t in self.threads_of(customer_id)]
        unread = sum(t["unreadCount"] for t in threads)
        return web.json_response({"threads": threads, "unreadTotal": unread})

    async def list_messages(self, request: web.Request) -> web.Response:
        try:
            thread = self._thread(request, *_scope(request.query))
            page, size = _paging(request.query)
        except MessagesError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        newest_first = self.messages(thread)[::-1]
        total = len(newest_first)
        return web.json_response(
            {
                "content": newest_first[(page - 1) * size : page * size],
                "page": page,
                "pageSize": size,
                "totalElements": total,
                "totalPages": -(-total // size),
            }
        )

    async def send_message(self, request: web.Request) -> web.Response:
        try:
            payload = await _json_object(request)
            thread = self._thread(request, *_scope(payload))
            text = _message_body(payload)
        except MessagesError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        state = self._state.setdefault(thread.thread_id, ThreadState())
        number = len(thread.history) + len(state.sent) + 1
        message = {
            "messageId": f"{thread.thread_id}-M{number:05d}",
            "threadId": thread.thread_id,
            "customerId": thread.customer_id,
            "senderRole": "CUSTOMER",
            "senderId": thread.customer_id,
            "body": text,
            "sentAt": _iso(datetime.now(UTC)),
            "read": True,
        }
        state.sent.append(message)
        self.stats.messages_created += 1
        return web.json_response(message, status=201)

    async def mark_read(self, request: web.Request) -> web.Response:
        try:
            payload = await _json_object(request)
            thread = self._thread(request, *_scope(payload))
        except MessagesError as exc:
            return self.error_response(exc.status, exc.code, exc.message)
        self._state.setdefault(thread.thread_id, ThreadState()).read_all = True
        return web.json_response(self._summary(thread))

    async def get_stats(self, _: web.Request) -> web.Response:
        return web.json_response({"messagesCreated": self.stats.messages_created})


def _seed_thread(seed: int, member_bank: str, customer_id: str, k: int) -> SeedThread:
    rng = rng_for(seed, "thread", customer_id, k)
    subject, role = rng.choice(_SUBJECTS)
    thread_id = f"{customer_id}-T{k}"
    employee_id = f"EMP-{member_bank}-{rng.randint(1, 400):04d}"
    count = rng.randint(3, 45)
    start = HISTORY_END - timedelta(days=rng.randint(1, 120))
    history = []
    for i in range(count):
        from_employee = i == 0 or rng.random() < 0.5
        history.append(
            {
                "messageId": f"{thread_id}-M{i + 1:05d}",
                "threadId": thread_id,
                "customerId": customer_id,
                "senderRole": "EMPLOYEE" if from_employee else "CUSTOMER",
                "senderId": employee_id if from_employee else customer_id,
                "body": rng.choice(_EMPLOYEE_LINES if from_employee else _CUSTOMER_LINES),
                "sentAt": _iso(start + timedelta(minutes=37 * i + rng.randint(0, 30))),
            }
        )
    return SeedThread(
        thread_id=thread_id,
        customer_id=customer_id,
        member_bank=member_bank,
        subject=subject,
        employee_id=employee_id,
        employee_name=f"{rng.choice(('Ms', 'Mr'))} {rng.choice(('Gao', 'Lin', 'He', 'Luo', 'Zheng', 'Xie'))}",
        employee_role=role,
        history=tuple(history),
        unread_seeded=rng.choice((0, 0, 1, 2, 3)),
    )


def _unread_from(thread: SeedThread) -> int:
    """Index of the first unread seeded message: the last `unread_seeded` employee ones."""
    employee = [i for i, m in enumerate(thread.history) if m["senderRole"] == "EMPLOYEE"]
    if thread.unread_seeded == 0 or not employee:
        return len(thread.history)
    return employee[-min(thread.unread_seeded, len(employee))]


def _scope(source: Any) -> tuple[str, str]:
    customer_id, member_bank = source.get("customerId"), source.get("memberBank")
    if (
        not isinstance(customer_id, str)
        or not isinstance(member_bank, str)
        or not customer_id
        or not member_bank
    ):
        raise MessagesError(400, "SCOPE_REQUIRED", "customerId and memberBank are required")
    return customer_id, member_bank


def _paging(query: Any) -> tuple[int, int]:
    page, size = query.get("page", "1"), query.get("pageSize", str(DEFAULT_PAGE_SIZE))
    if not page.isdigit() or int(page) < 1:
        raise MessagesError(400, "INVALID_PAGE", "page starts at 1")
    if not size.isdigit() or not 1 <= int(size) <= MAX_PAGE_SIZE:
        raise MessagesError(400, "INVALID_PAGE_SIZE", f"pageSize must be 1 to {MAX_PAGE_SIZE}")
    return int(page), int(size)


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        payload = await request.json(loads=orjson.loads)
    except ValueError as exc:
        raise MessagesError(400, "BAD_REQUEST", "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MessagesError(400, "BAD_REQUEST", "body must be a JSON object")
    return payload


def _message_body(payload: dict[str, Any]) -> str:
    text = payload.get("body")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_BODY:
        raise MessagesError(400, "INVALID_BODY", f"body must be 1 to {MAX_BODY} characters")
    return text


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
