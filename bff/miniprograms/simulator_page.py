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

from starlette.routing import BaseRoute

from bff.static_pages import page_csp, static_page_routes

SIMULATOR_PATH: Final = "/miniprogram/simulator"
_FILES_DIR: Final = Path(__file__).with_name("simulator")
PAGE_CSP: Final = page_csp(
    # GraphQL and the bridge API, both on this origin.
    "connect-src 'self'",
    # Mini-program bundles are served from this origin, under their digest paths.
    "frame-src 'self'",
)


def simulator_routes() -> list[BaseRoute]:
    """The page and its two static files, read once."""
    return static_page_routes(
        SIMULATOR_PATH, _FILES_DIR, ("index.html", "simulator.js", "simulator.css"), PAGE_CSP, "simulator"
    )
