"""In headless Chromium, on the BFF's simulator page: a sample mini-program in its sandbox, over the real bridge."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Frame, Page

from tests.conftest import Mint
from tests.support.browser import artifact, chromium
from tests.support.graphql_http import CUSTOMER_B
from tests.support.miniprogram_world import PARK, MiniProgramWorld

# Run inside the mini-program's frame: try `url`, report how it ended and what the CSP reported.
FETCH_PROBE = """async (url) => {
  const violations = [];
  document.addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective));
  let outcome = "fetched";
  try { await fetch(url, { mode: "no-cors" }); } catch (e) { outcome = e.name; }
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { outcome, violations };
}"""
READ = "(what) => { try { return String(eval(what)); } catch (e) { return 'refused: ' + e.name; } }"


class CountingServer:
    """A live loopback server the mini-program has not declared: it must never see a request."""

    def __init__(self) -> None:
        self.hits = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                counter.hits += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def undeclared() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


async def mini_program_frame(page: Page) -> Frame:
    for _ in range(100):
        for frame in page.frames:
            if "/miniprograms/bundles/" in frame.url:
                return frame
        await page.wait_for_timeout(50)
    raise AssertionError(f"no mini-program frame among {[f.url for f in page.frames]}")


async def test_sample_mini_program_in_the_simulator_is_sandboxed_and_bridged(
    mp_world: MiniProgramWorld, mint: Mint, undeclared: CountingServer
) -> None:
    token = mint(CUSTOMER_B)
    async with chromium() as browser:
        page = await browser.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        await page.goto(f"{mp_world.first.url}/miniprogram/simulator#token={token}")
        await page.evaluate("document.cookie = 'host_session=s3cret-host-cookie; path=/'")
        await page.wait_for_selector(f"#apps option[value='{PARK}']", state="attached")
        await page.select_option("#apps", PARK)

        # The customer consents to their name only, not to their phone number.
        await page.check("#scopes input[value='profile.name']")
        await page.uncheck("#scopes input[value='phone.masked']")
        await page.click("#grant")
        await page.wait_for_selector("#status:has-text('granted profile.name')")
        await page.click("#launch")
        frame = await mini_program_frame(page)

        # A consented API: user.info answers, and the sample greets the customer by name.
        await page.wait_for_selector("#calls li[data-api='user.info'][data-ok='true']")
        greeting = await frame.text_content("#greeting")
        assert greeting is not None
        assert greeting.startswith("Park services for ")
        assert len(greeting) > len("Park services for ")

        # An unconsented one: refused by the bridge, and the sample says what to allow.
        await frame.click("#callback")
        refused = await page.wait_for_selector("#calls li[data-api='user.phoneMasked']")
        assert await refused.get_attribute("data-ok") == "false"
        assert await refused.get_attribute("data-code") == "BRIDGE_SCOPE_MISSING"
        status = await frame.text_content("#status")
        assert status is not None
        assert "Allow Park services" in status

        # The sandbox: an opaque origin that reaches neither the host page nor its cookies or storage.
        assert await frame.evaluate("() => window.origin") == "null"
        assert await frame.evaluate(READ, "window.parent.document.cookie") == "refused: SecurityError"
        assert await frame.evaluate(READ, "window.parent.document.body.innerHTML") == "refused: SecurityError"
        assert await frame.evaluate(READ, "document.cookie") == "refused: SecurityError"
        assert await frame.evaluate(READ, "window.localStorage.length") == "refused: SecurityError"
        assert "s3cret" in await page.evaluate("document.cookie")  # the cookie is there to be stolen

        # The network: an undeclared origin is blocked by the CSP before any request leaves.
        blocked = await frame.evaluate(FETCH_PROBE, f"{undeclared.url}/steal?c=1")
        assert blocked == {"outcome": "TypeError", "violations": ["connect-src"]}
        assert undeclared.hits == 0
        # The declared origin passes the CSP (this closed network then fails it, with no violation).
        declared = await frame.evaluate(FETCH_PROBE, "https://api.parkservices.example.com/v1/ping")
        assert declared["violations"] == []

        await page.screenshot(path=artifact("simulator-park-services.png"), full_page=True)
        assert page_errors == []
