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

from starlette.routing import BaseRoute

from bff.static_pages import page_csp, static_page_routes

CONSOLE_PATH: Final = "/console"
_FILES_DIR: Final = Path(__file__).with_name("console")
# The experience admin API is on this origin.
PAGE_CSP: Final = page_csp("connect-src 'self'")


def console_routes() -> list[BaseRoute]:
    """The page and its two static files, read once."""
    return static_page_routes(
        CONSOLE_PATH, _FILES_DIR, ("index.html", "console.js", "console.css"), PAGE_CSP, "console"
    )
