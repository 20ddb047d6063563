"""The messages simulator over HTTP: threads, offset paging, sending, unread counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.processes import Simulators

THREADS = "/msg/v1/threads"


@pytest.fixture(scope="module")
def messages(simulators: Simulators) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulators.url("messages", "dc-a"), timeout=5) as client:
        yield client


def scope(customer_id: str) -> dict[str, str]:
    return {"customerId": customer_id, "memberBank": customer_id.split("-")[0]}


def threads(client: httpx.Client, customer_id: str) -> dict[str, Any]:
    response = client.get(THREADS, params=scope(customer_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def find_thread(client: httpx.Client, start: int, accept: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first thread `accept` likes, of RCB002 customers from `start` on."""
    for number in range(start, start + 200):
        candidates: list[dict[str, Any]] = threads(client, f"RCB002-{number:05d}")["threads"]
        for thread in candidates:
            if accept(thread):
                return thread
    raise AssertionError("no such thread among 200 customers")


def page(client: httpx.Client, thread: dict[str, Any], number: int, size: int) -> dict[str, Any]:
    params = scope(thread["customerId"]) | {"page": str(number), "pageSize": str(size)}
    response = client.get(f"{THREADS}/{thread['threadId']}/messages", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def send(client: httpx.Client, thread: dict[str, Any], text: str, **override: str) -> httpx.Response:
    payload = scope(thread["customerId"]) | {"body": text} | override
    return client.post(f"{THREADS}/{thread['threadId']}/messages", json=payload)


def created(client: httpx.Client) -> int:
    return int(client.get("/msg/v1/stats").json()["messagesCreated"])


def test_threads_are_seeded_deterministically_in_both_data_centres(
    messages: httpx.Client, simulators: Simulators
) -> None:
    thread = find_thread(messages, 100, lambda t: True)
    with httpx.Client(base_url=simulators.url("messages", "dc-b")) as other:
        assert threads(other, thread["customerId"]) == threads(messages, thread["customerId"])
    assert thread["threadId"].startswith(thread["customerId"])


def test_pages_cover_the_thread_newest_first(messages: httpx.Client) -> None:
    thread = find_thread(messages, 300, lambda t: t["messageCount"] >= 12)
    first = page(messages, thread, 1, 5)
    assert first["totalElements"] == thread["messageCount"]
    assert first["totalPages"] == -(-thread["messageCount"] // 5)
    everything = [
        m for n in range(1, first["totalPages"] + 1) for m in page(messages, thread, n, 5)["content"]
    ]
    assert len({m["messageId"] for m in everything}) == thread["messageCount"]
    times = [m["sentAt"] for m in everything]
    assert times == sorted(times, reverse=True)
    assert page(messages, thread, first["totalPages"] + 1, 5)["content"] == []


def test_sending_creates_exactly_one_message_shown_first(messages: httpx.Client) -> None:
    thread = find_thread(messages, 500, lambda t: True)
    before = created(messages)
    response = send(messages, thread, "Can I come on Friday instead?")
    assert response.status_code == 201
    message = response.json()
    assert (message["senderRole"], message["senderId"]) == ("CUSTOMER", thread["customerId"])
    assert created(messages) == before + 1
    newest = page(messages, thread, 1, 1)
    assert newest["content"] == [message]
    assert newest["totalElements"] == thread["messageCount"] + 1


def test_sending_the_same_text_twice_makes_two_messages(messages: httpx.Client) -> None:
    thread = find_thread(messages, 600, lambda t: True)
    before = created(messages)
    one = send(messages, thread, "Hello?").json()
    two = send(messages, thread, "Hello?").json()
    assert one["messageId"] != two["messageId"]
    assert created(messages) == before + 2


def test_marking_a_thread_read_clears_its_unread_count(messages: httpx.Client) -> None:
    thread = find_thread(messages, 700, lambda t: t["unreadCount"] > 0)
    unread = [m for m in page(messages, thread, 1, 100)["content"] if not m["read"]]
    assert len(unread) == thread["unreadCount"]
    assert {m["senderRole"] for m in unread} == {"EMPLOYEE"}
    response = messages.post(f"{THREADS}/{thread['threadId']}/read", json=scope(thread["customerId"]))
    assert response.json()["unreadCount"] == 0
    after = {t["threadId"]: t for t in threads(messages, thread["customerId"])["threads"]}
    assert after[thread["threadId"]]["unreadCount"] == 0
    assert all(m["read"] for m in page(messages, thread, 1, 100)["content"])


def test_thread_of_another_customer_or_member_bank_is_not_found(messages: httpx.Client) -> None:
    thread = find_thread(messages, 800, lambda t: True)
    before = created(messages)
    stranger = {"customerId": "RCB002-09999", "memberBank": "RCB002"}
    wrong_bank = {"customerId": thread["customerId"], "memberBank": "RCB001"}
    for who in (stranger, wrong_bank):
        listed = messages.get(f"{THREADS}/{thread['threadId']}/messages", params=who)
        sent = send(messages, thread, "let me in", **who)
        for response in (listed, sent):
            assert response.status_code == 404
            assert response.json()["code"] == "THREAD_NOT_FOUND"
    assert created(messages) == before


def test_errors_have_the_spring_boot_shape(messages: httpx.Client) -> None:
    response = messages.get(THREADS, params={"customerId": "RCB001-00001"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"timestamp", "status", "error", "code", "message"}
    assert (body["status"], body["error"], body["code"]) == (400, "Bad Request", "SCOPE_REQUIRED")


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_empty_or_oversized_messages_are_refused(messages: httpx.Client, text: str) -> None:
    thread = find_thread(messages, 900, lambda t: True)
    response = send(messages, thread, text)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_BODY"
