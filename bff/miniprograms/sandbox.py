"""The sandbox a mini-program's bundle is served in: its Content-Security-Policy and response headers.

The policy is built from the manifest: the bundle may run only its own
scripts and styles, talk only to the host's bridge and the origins it
declared, and be framed only by the host app. Every origin is checked again
here even though the manifest schema already checked it, because a value
reaching a CSP header unchecked could add directives (a ';' in a domain).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The manifest schema's origin rule: https, lowercase DNS host of at least two
# labels, optional port, optional leading "*." over at least two labels,
# nothing after. A CSP source expression means the same for these strings.
_DECLARED_ORIGIN = re.compile(
    r"^https://(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?$"
)
# The host's own origins (bridge, app shell) are configuration, not partner
# input: https, or http on loopback for development.
_HOST_ORIGIN = re.compile(
    r"^(?:https://[a-z0-9.-]+|http://(?:localhost|127\.0\.0\.1|\[::1\]))(?::[0-9]{1,5})?$"
)


def content_security_policy(
    network_domains: Iterable[str], bridge_origin: str, host_origins: Iterable[str]
) -> str:
    """The Content-Security-Policy for a mini-program that declared `network_domains`."""
    connect = [_host_origin(bridge_origin), *_unique(_declared_origin(d) for d in network_domains)]
    ancestors = _unique(_host_origin(o) for o in host_origins) or ["'none'"]
    directives = [
        # Everything not named below (frames, workers, media, manifests) is refused.
        "default-src 'none'",
        # 'self' is the origin the bundle is served from under its immutable,
        # digest-addressed path: only code that went through review runs. No
        # 'unsafe-inline' and no 'unsafe-eval', so injected markup cannot run.
        "script-src 'self'",
        "style-src 'self'",
        # data: for inlined small images that bundlers emit, blob: for previews of
        # pictures the customer picks (URL.createObjectURL); neither can run code.
        "img-src 'self' data: blob:",
        "font-src 'self'",
        # The bridge is the only way to the customer's data; the partner's own
        # origins are the only other network peers. CSP3 lets an https source
        # also match wss on the same host, so declared websockets work too.
        f"connect-src {' '.join(connect)}",
        # Only the host app may frame the bundle, so no other site can dress it up.
        f"frame-ancestors {' '.join(ancestors)}",
        "base-uri 'none'",
        # Forms would be a way around connect-src.
        "form-action 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def bundle_response_headers(csp: str) -> dict[str, str]:
    """Headers for every file served out of a bundle."""
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        # The URL carries the bundle digest, so its content never changes.
        "Cache-Control": "public, max-age=31536000, immutable",
        # cross-origin: the bundle's own pages run in a sandbox with an opaque origin,
        # which no same-site policy matches, so anything stricter blocks their scripts.
        # The files are public and immutable; the CSP, not CORP, is what confines them.
        "Cross-Origin-Resource-Policy": "cross-origin",
        # A partner's server must not learn the host URL (it names the bundle and page).
        "Referrer-Policy": "no-referrer",
    }


def _declared_origin(domain: str) -> str:
    if not _DECLARED_ORIGIN.fullmatch(domain):
        raise ValueError(
            f"network domain {domain!r} is not an https origin such as https://api.example.com "
            "(no path, query, user info or uppercase)"
        )
    return domain


def _host_origin(origin: str) -> str:
    if not _HOST_ORIGIN.fullmatch(origin):
        raise ValueError(f"host origin {origin!r} is not an https (or loopback http) origin")
    return origin


def _unique(origins: Iterable[str]) -> list[str]:
    # Order kept so the same manifest always yields the same header.
    return list(dict.fromkeys(origins))
