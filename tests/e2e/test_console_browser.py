"""In headless Chromium, on a real BFF's experience console: log in, switch a segment's profile, see the preview change.

The BFF runs on its own Redis database, so version 1 is seeded from the
shipped experience/ directory. Screenshots are kept in var/test-artifacts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis
from playwright.async_api import Page

from bff.experience.elder_guideline import contrast_ratio
from tests.conftest import Mint
from tests.support.bff_process import BffServer, start_bff
from tests.support.browser import artifact, chromium
from tests.support.processes import RedisServer

CONSOLE_DB = 7
RULE = "rural-app"  # shows the rural data-saver profile in the shipped experience
ADMIN = "/admin/v1/experience"

# How the preview draws its first line of body text: read back from the rendered page.
PREVIEW_LOOK = """() => {
  const preview = document.getElementById("preview");
  const text = preview.querySelector(".xp-section p.xp-text");
  const tile = preview.querySelector(".xp-tile");
  const grid = preview.querySelector(".xp-grid");
  return {
    profile: preview.dataset.profile,
    segment: preview.dataset.segment,
    version: Number(preview.dataset.version),
    fontSize: parseFloat(getComputedStyle(text).fontSize),
    headlineSize: parseFloat(getComputedStyle(preview.querySelector(".xp-headline")).fontSize),
    color: getComputedStyle(text).color,
    background: getComputedStyle(preview).backgroundColor,
    tile: tile ? [tile.getBoundingClientRect().width, tile.getBoundingClientRect().height] : null,
    gridColumns: grid ? getComputedStyle(grid).gridTemplateColumns.split(" ").length : 0,
  };
}"""


@pytest.fixture(scope="module")
def console_bff(
    tmp_path_factory: pytest.TempPathFactory, bff_env: dict[str, str], redis_server: RedisServer
) -> Iterator[BffServer]:
    """A BFF on an empty Redis database of its own: it seeds experience version 1 when it starts."""
    url = redis_server.url.rsplit("/", 1)[0] + f"/{CONSOLE_DB}"
    database = redis.Redis.from_url(url)
    database.flushdb()
    server = start_bff(tmp_path_factory.mktemp("console-bff"), {**bff_env, "REDIS_URL": url})
    yield server
    server.stop()
    database.flushdb()
    database.close()


@pytest.fixture(scope="module")
def admin_token(mint: Mint) -> str:
    return mint("ux-admin", member_bank="*", roles=["admin"])


@pytest.fixture
async def admin_api(console_bff: BffServer, admin_token: str) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API as another UX team member (or this test, checking what the page did) calls it."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=console_bff.url, headers=headers) as client:
        yield client


async def experience_state(admin_api: httpx.AsyncClient) -> dict[str, Any]:
    answer = await admin_api.get(ADMIN)
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


def rule_profile(state: dict[str, Any], rule: str) -> str:
    profile: str = next(entry["profile"] for entry in state["segments"] if entry["rule"] == rule)
    return profile


def hex_color(css: str) -> str:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css)[:3])
    return f"#{red:02X}{green:02X}{blue:02X}"


def csp_violation(text: str, errors: list[str]) -> None:
    if "Content Security Policy" in text:
        errors.append(text)


@asynccontextmanager
async def console_page(server: BffServer) -> AsyncIterator[tuple[Page, list[str]]]:
    """The console in a fresh browser, with the page's script errors and CSP violations collected."""
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1200})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: csp_violation(message.text, errors))
        await page.goto(f"{server.url}/console")
        yield page, errors


async def log_in(page: Page, token: str) -> None:
    await page.fill("#token", token)
    await page.click("#login-button")
    await page.wait_for_selector(f"#segments tr[data-rule='{RULE}']")


async def show_preview(page: Page, rule: str) -> None:
    await page.select_option("#preview-segment", rule)
    await page.click("#preview-show")
    await page.wait_for_selector("#preview[data-version]")


async def screenshot_whole_phone(page: Page, name: str) -> None:
    """The whole home screen, not only the phone-sized part of it in view."""
    await page.evaluate("() => { document.getElementById('preview').style.height = 'auto'; }")
    await page.locator("#phone").screenshot(path=artifact(name))
    await page.evaluate("() => { document.getElementById('preview').style.height = ''; }")


async def confirm(page: Page) -> None:
    await page.wait_for_selector("#confirm[open]")
    await page.click("#confirm-ok")
    await page.wait_for_selector("#confirm:not([open])", state="attached")


async def test_refused_tokens_are_explained_and_a_fragment_token_leaves_the_address_bar(
    console_bff: BffServer, mint: Mint
) -> None:
    customer = mint("RCB001-00042")
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{console_bff.url}/console#token={customer}")
        await page.wait_for_selector("#login-status:has-text('no admin role')")
        assert page.url == f"{console_bff.url}/console"
        assert await page.is_hidden("#workspace")

        await page.fill("#token", "not-a-token")
        await page.click("#login-button")
        await page.wait_for_selector("#login-status:has-text('refused this token')")
        assert await page.is_hidden("#workspace")
        assert await page.evaluate("() => sessionStorage.length + localStorage.length") == 0


async def test_switching_a_segment_to_elder_changes_its_preview_and_rollback_restores_it(
    console_bff: BffServer, admin_token: str, admin_api: httpx.AsyncClient
) -> None:
    before = await experience_state(admin_api)
    assert rule_profile(before, RULE) == "rural"
    async with console_page(console_bff) as (page, errors):
        await log_in(page, admin_token)
        await show_preview(page, RULE)
        look = await page.evaluate(PREVIEW_LOOK)
        assert (look["profile"], look["segment"], look["version"]) == ("rural", "rural", before["version"])
        assert (look["fontSize"], look["headlineSize"]) == (17, 26)  # the rural profile's sizes: dp as px
        assert look["gridColumns"] == 4
        await page.screenshot(path=artifact("console-1-before.png"), full_page=True)
        await screenshot_whole_phone(page, "console-1-before-home-screen.png")

        # Switch the segment to the elder profile: a dry run first, then the confirmation dialog.
        await page.select_option(f"tr[data-rule='{RULE}'] select.switch-profile", "elder")
        await page.click(f"tr[data-rule='{RULE}'] button.switch")
        await page.wait_for_selector("#confirm[open]")
        assert f"Rule {RULE}: profile rural → elder" in (await page.text_content("#confirm-diff") or "")
        await page.evaluate("() => window.scrollTo(0, 0)")
        await page.screenshot(path=artifact("console-2-confirm.png"))
        await confirm(page)

        # The preview redraws with the elder tokens: large text, high contrast, large touch targets.
        await page.wait_for_selector("#preview[data-profile='elder']")
        look = await page.evaluate(PREVIEW_LOOK)
        assert look["version"] == before["version"] + 1
        assert look["fontSize"] >= 18
        assert look["headlineSize"] >= 30
        assert contrast_ratio(hex_color(look["color"]), hex_color(look["background"])) >= 7
        assert look["tile"] is not None
        assert min(look["tile"]) >= 60
        assert look["gridColumns"] == 2
        assert await page.get_attribute("#preview", "data-contrast") == "high"
        assert await page.get_attribute(f"tr[data-rule='{RULE}']", "data-profile") == "elder"
        assert rule_profile(await experience_state(admin_api), RULE) == "elder"
        await page.screenshot(path=artifact("console-3-after.png"), full_page=True)
        await screenshot_whole_phone(page, "console-3-after-home-screen.png")

        # History shows the new version on top; rolling back to the one before restores the profile.
        switched = before["version"] + 1
        newest = page.locator("#history li").first
        assert await newest.get_attribute("data-version") == str(switched)
        assert await newest.get_attribute("data-action") == "assign"
        await page.click(f"#history li[data-version='{before['version']}'] button.rollback")
        await page.wait_for_selector("#confirm[open]")
        assert f"Rule {RULE}: profile elder → rural" in (await page.text_content("#confirm-diff") or "")
        await confirm(page)
        await page.wait_for_selector("#preview[data-profile='rural']")
        assert await page.get_attribute("#preview", "data-version") == str(switched + 1)
        assert await page.locator("#history li").first.get_attribute("data-action") == "rollback"
        assert await page.get_attribute(f"tr[data-rule='{RULE}']", "data-profile") == "rural"
        assert rule_profile(await experience_state(admin_api), RULE) == "rural"
        await page.screenshot(path=artifact("console-4-rolled-back.png"), full_page=True)
        assert errors == []


async def test_a_switch_based_on_a_stale_version_is_refused_and_the_console_reloads(
    console_bff: BffServer, admin_token: str, admin_api: httpx.AsyncClient
) -> None:
    async with console_page(console_bff) as (page, errors):
        await log_in(page, admin_token)
        loaded = (await experience_state(admin_api))["version"]
        # Another UX team member publishes after this page loaded.
        other = await admin_api.post(
            f"{ADMIN}/segments/youth-video/profile",
            headers={"If-Match": f'"{loaded}"'},
            json={"profile": "standard", "note": "someone else"},
        )
        assert other.status_code == 200, other.text

        await page.select_option(f"tr[data-rule='{RULE}'] select.switch-profile", "elder")
        await page.click(f"tr[data-rule='{RULE}'] button.switch")
        await confirm(page)
        await page.wait_for_selector("#status.error:has-text('Someone else published first')")
        assert await page.get_attribute("#published", "data-version") == str(loaded + 1)
        assert await page.get_attribute("tr[data-rule='youth-video']", "data-profile") == "standard"
        assert await page.get_attribute(f"tr[data-rule='{RULE}']", "data-profile") == "rural"
        assert rule_profile(await experience_state(admin_api), RULE) == "rural"
        assert errors == []
