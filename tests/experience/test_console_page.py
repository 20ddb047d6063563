"""The console page's own headers and files: static, public, and locked down by its CSP."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from bff.experience.console_page import CONSOLE_PATH, console_routes


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=console_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://bff") as http:
        return await http.get(path)


async def test_page_loads_its_script_and_style_from_this_origin_only() -> None:
    page = await get(CONSOLE_PATH)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/console/console.js" defer></script>' in page.text
    assert '<link rel="stylesheet" href="/console/console.css">' in page.text
    # Nothing a `style-src 'self'` / `script-src 'self'` policy would block: no inline script or style.
    assert "<script>" not in page.text
    assert "style=" not in page.text
    assert "<style" not in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text


async def test_every_file_carries_a_csp_without_inline_script_or_style() -> None:
    for path in (CONSOLE_PATH, CONSOLE_PATH + "/console.js", CONSOLE_PATH + "/console.css"):
        answer = await get(path)
        csp = answer.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"


async def test_script_and_style_are_served_with_their_types() -> None:
    script = await get(CONSOLE_PATH + "/console.js")
    style = await get(CONSOLE_PATH + "/console.css")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/admin/v1/experience" in script.text
    # Styles reach the preview through CSSOM only, which the CSP allows; never a style attribute.
    assert 'setAttribute("style"' not in script.text
    assert "innerHTML" not in script.text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert "var(--xp-body" in style.text


@pytest.mark.parametrize("name", ["secrets.json", "index.html", "console.js.map", "console_page.py"])
async def test_unknown_file_is_a_404_problem(name: str) -> None:
    answer = await get(CONSOLE_PATH + "/" + name)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/console/..%2Fconsole_page.py", "/console/../experience/console_page.py"])
async def test_nothing_outside_the_console_folder_is_served(path: str) -> None:
    answer = await get(path)
    assert answer.status_code == 404
    assert "console_routes" not in answer.text


async def test_only_get_is_served() -> None:
    transport = httpx.ASGITransport(app=Starlette(routes=console_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://bff") as http:
        answer = await http.post(CONSOLE_PATH, content=b"{}")
    assert answer.status_code == 405
