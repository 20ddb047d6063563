"""The content simulator over HTTP: per-member-bank catalogues, cursor paging, batch reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.processes import Simulators

FEED = "/content/v1/feed"


@pytest.fixture(scope="module")
def content(simulators: Simulators) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulators.url("content", "dc-a"), timeout=5) as client:
        yield client


def feed(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get(FEED, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def every_page(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = feed(client, **params, **({"cursor": cursor} if cursor else {}))
        items += page["data"]
        cursor = page["paging"]["nextCursor"]
        assert page["paging"]["hasMore"] == (cursor is not None)
        if cursor is None:
            return items


def test_each_member_bank_has_its_own_content(content: httpx.Client) -> None:
    first = feed(content, memberBank="RCB001", limit=50)["data"]
    second = feed(content, memberBank="RCB002", limit=50)["data"]
    assert {item["memberBank"] for item in first} == {"RCB001"}
    assert {item["memberBank"] for item in second} == {"RCB002"}
    assert not {item["id"] for item in first} & {item["id"] for item in second}


def test_cursor_paging_walks_the_whole_feed_once(content: httpx.Client) -> None:
    items = every_page(content, memberBank="RCB001", kind="short_video", limit=7)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 48
    assert {item["kind"] for item in items} == {"short_video"}
    assert all(item["durationSeconds"] > 0 and item["startsAt"] is None for item in items)


def test_mixed_feed_lists_banners_then_live_streams_then_videos(content: httpx.Client) -> None:
    kinds = [item["kind"] for item in every_page(content, memberBank="RCB003", limit=50)]
    assert kinds == sorted(kinds, key=["banner", "live_stream", "short_video"].index)
    assert set(kinds) == {"banner", "live_stream", "short_video"}


def test_some_live_stream_is_live_now(content: httpx.Client) -> None:
    streams = feed(content, memberBank="RCB002", kind="live_stream", limit=50)["data"]
    assert "LIVE" in {s["liveStatus"] for s in streams}
    assert all(s["startsAt"] < s["endsAt"] for s in streams)


def test_some_items_are_marketing_and_some_are_not(content: httpx.Client) -> None:
    items = feed(content, memberBank="RCB001", limit=50)["data"]
    assert {item["marketing"] for item in items} == {True, False}


def test_both_data_centres_serve_the_same_catalogue(content: httpx.Client, simulators: Simulators) -> None:
    with httpx.Client(base_url=simulators.url("content", "dc-b")) as other:
        mine = feed(content, memberBank="RCB001", kind="banner")
        theirs = feed(other, memberBank="RCB001", kind="banner")
    assert mine == theirs


def test_cursor_of_another_member_bank_is_refused(content: httpx.Client) -> None:
    cursor = feed(content, memberBank="RCB001", kind="short_video", limit=5)["paging"]["nextCursor"]
    response = content.get(FEED, params={"memberBank": "RCB002", "kind": "short_video", "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_CURSOR"
    assert set(response.json()) == {"errorCode", "errorMessage"}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "MEMBER_BANK_REQUIRED"),
        ({"memberBank": "RCB999"}, 404, "MEMBER_BANK_NOT_FOUND"),
        ({"memberBank": "RCB001", "kind": "podcast"}, 400, "INVALID_KIND"),
        ({"memberBank": "RCB001", "limit": "51"}, 400, "INVALID_LIMIT"),
        ({"memberBank": "RCB001", "cursor": "garbage!"}, 400, "INVALID_CURSOR"),
    ],
)
def test_bad_feed_requests_are_refused_with_a_code(
    content: httpx.Client, params: dict[str, str], status: int, code: str
) -> None:
    response = content.get(FEED, params=params)
    assert response.status_code == status
    assert response.json()["errorCode"] == code


def test_batch_read_returns_found_items_and_names_the_missing(content: httpx.Client) -> None:
    ids = "RCB001-LS-0001,RCB001-SV-0048,RCB001-SV-0049,RCB002-BN-0001"
    response = content.get("/content/v1/items", params={"ids": ids})
    body = response.json()
    assert [item["id"] for item in body["data"]] == ["RCB001-LS-0001", "RCB001-SV-0048", "RCB002-BN-0001"]
    assert body["notFound"] == ["RCB001-SV-0049"]


def test_batch_read_scoped_to_a_member_bank_hides_other_banks_items(content: httpx.Client) -> None:
    params = {"ids": "RCB001-BN-0001,RCB002-BN-0001", "memberBank": "RCB002"}
    body = content.get("/content/v1/items", params=params).json()
    assert [item["id"] for item in body["data"]] == ["RCB002-BN-0001"]
    assert body["notFound"] == ["RCB001-BN-0001"]
