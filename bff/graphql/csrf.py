"""Cross-site request forgery prevention, as Apollo Server 4 does it.

A browser sends a cross-origin "simple" request without a CORS preflight, so
the server must not act on one. A request is simple when its Content-Type is
missing or one of the three types an HTML form can send; such a request runs
only if it carries a non-empty header a form cannot set (a browser preflights
any request with a custom header, and CORS then decides).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bff.graphql.negotiation import essence

SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight", "graphql-preflight")


def csrf_refusal(headers: Mapping[str, str], required: Sequence[str] = PREFLIGHT_HEADERS) -> str | None:
    """Why the request is refused as a possible CSRF, or None when it is safe to run."""
    content_type = essence(headers.get("content-type"))
    # Any other type, even one that does not parse, makes the browser preflight.
    if content_type is not None and content_type not in SIMPLE_CONTENT_TYPES:
        return None
    if any(headers.get(name) for name in required):
        return None
    return (
        "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). "
        "Please either specify a 'content-type' header (with a type that is not one of "
        f"{', '.join(SIMPLE_CONTENT_TYPES)}) or provide a non-empty value for one of the "
        f"following headers: {', '.join(required)}"
    )
