"""The experience console for UX teams: segments and their profiles, switching, history, rollback, preview.

GET /console serves the page; its script and style are under /console/.
The page is public static content: it holds no data and no secret. It asks
for an admin access token and calls the experience admin API
(docs/experience-admin-api.md) with it, which is where the admin role is
enforced. Its CSP allows this origin's script, style and API only, and the
page sets the preview's presentation tokens through CSSOM, which that CSP
permits, never through inline style attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.miniprograms.partner_problems import problem

CONSOLE_PATH: Final = "/console"
_FILES_DIR: Final = Path(__file__).with_name("console")
_TYPES: Final = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
PAGE_CSP: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        # The experience admin API, on this origin.
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)


def console_routes() -> list[BaseRoute]:
    """The page and its two static files, read once."""
    files = {name: (_FILES_DIR / name).read_bytes() for name in _TYPES}
    headers = {
        "Content-Security-Policy": PAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    def answer(name: str) -> Response:
        return Response(files[name], headers=headers, media_type=_TYPES[name])

    async def page(request: Request) -> Response:
        return answer("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files or name == "index.html":
            return problem(404, "NOT_FOUND", f"the console has no file {name!r}")
        return answer(name)

    return [
        Route(CONSOLE_PATH, page, methods=["GET"]),
        Route(CONSOLE_PATH + "/{name}", asset, methods=["GET"]),
    ]
