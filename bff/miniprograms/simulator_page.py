"""The partner simulator page: a mini-program in a sandboxed frame, its postMessage bridge relayed here.

GET /miniprogram/simulator serves the page; its script and style are under
/miniprogram/simulator/. The page talks to /graphql as the customer whose
token is pasted in, and relays the frame's bridge calls to the bridge API
(protocol: miniprograms/README.md). Bundles come from the same origin, so
the page's own CSP allows framing 'self' and nothing else; the frame gets an
opaque origin from its sandbox, not from a second host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.miniprograms.partner_problems import problem

SIMULATOR_PATH: Final = "/miniprogram/simulator"
_FILES_DIR: Final = Path(__file__).with_name("simulator")
_TYPES: Final = {
    "index.html": "text/html; charset=utf-8",
    "simulator.js": "text/javascript; charset=utf-8",
    "simulator.css": "text/css; charset=utf-8",
}
PAGE_CSP: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        # GraphQL and the bridge API, both on this origin.
        "connect-src 'self'",
        # Mini-program bundles are served from this origin, under their digest paths.
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)


def simulator_routes() -> list[BaseRoute]:
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
            return problem(404, "NOT_FOUND", f"the simulator has no file {name!r}")
        return answer(name)

    return [
        Route(SIMULATOR_PATH, page, methods=["GET"]),
        Route(SIMULATOR_PATH + "/{name}", asset, methods=["GET"]),
    ]
