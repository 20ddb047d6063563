"""The simulator page's own headers and files, and when it is served at all."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from bff.miniprograms.simulator_page import SIMULATOR_PATH, simulator_routes
from bff.settings import Settings


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=simulator_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://bff") as http:
        return await http.get(path)


async def test_page_and_assets_carry_a_csp_that_frames_only_this_origin() -> None:
    page = await get(SIMULATOR_PATH)
    script = await get(SIMULATOR_PATH + "/simulator.js")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/miniprogram/simulator/simulator.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert script.headers["content-type"].startswith("text/javascript")
    assert "bridge-result" in script.text
    assert script.headers["x-content-type-options"] == "nosniff"


async def test_unknown_file_is_a_404_problem() -> None:
    answer = await get(SIMULATOR_PATH + "/secrets.json")
    assert answer.status_code == 404
    assert answer.json()["code"] == "NOT_FOUND"


def test_simulator_is_on_in_development_and_off_in_production_unless_asked_for() -> None:
    assert Settings(environment="development").simulator_enabled
    assert not Settings(environment="production").simulator_enabled
    assert Settings(environment="production", miniprogram_simulator=True).simulator_enabled
    assert not Settings(environment="development", miniprogram_simulator=False).simulator_enabled
