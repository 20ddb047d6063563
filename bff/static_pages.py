"""A small static web page served by the BFF (the partner simulator, the UX console): read once, strict headers.

`path` serves `index.html`; `path/<name>` serves the page's other files. The
CSP is the page's own; no file is served that was not named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bff.miniprograms.partner_problems import problem

CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# Directives every page shares; a page adds its connect-src, frame-src and so on.
BASE_CSP: Final = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
)


def page_csp(*directives: str) -> str:
    return "; ".join((*BASE_CSP, *directives))


def static_page_routes(
    path: str, directory: Path, names: Sequence[str], csp: str, what: str
) -> list[BaseRoute]:
    """Routes serving `directory`'s `names` (index.html among them) under `path`."""
    files: Mapping[str, bytes] = {name: (directory / name).read_bytes() for name in names}
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

    def answer(name: str) -> Response:
        return Response(files[name], headers=headers, media_type=CONTENT_TYPES[Path(name).suffix])

    async def page(request: Request) -> Response:
        return answer("index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in files or name == "index.html":
            return problem(404, "NOT_FOUND", f"the {what} has no file {name!r}")
        return answer(name)

    return [Route(path, page, methods=["GET"]), Route(path + "/{name}", asset, methods=["GET"])]
