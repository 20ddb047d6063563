"""Media types of GraphQL over HTTP: which response type a request's Accept header allows.

GraphQL-over-HTTP (graphql.github.io/graphql-over-http) defines
application/graphql-response+json, with meaningful status codes, and keeps
application/json for legacy clients, which always get 200. A client that
names the new type gets it; one that sends no Accept header, or only
wildcards, gets application/json, as the spec asks during the transition.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache


class MediaType(StrEnum):
    GRAPHQL_RESPONSE = "application/graphql-response+json"
    JSON = "application/json"


HTML = "text/html"
CONTENT_TYPES = {
    MediaType.GRAPHQL_RESPONSE: "application/graphql-response+json; charset=utf-8",
    MediaType.JSON: "application/json",
}


# Clients send a handful of distinct Accept values; parse each once.
@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> MediaType | None:
    """The response media type for an Accept header, or None when it allows neither (406)."""
    if not accept:
        return MediaType.JSON
    ranges = _ranges(accept)
    gql = _quality(ranges, MediaType.GRAPHQL_RESPONSE)
    json = _quality(ranges, MediaType.JSON)
    if gql[1] == 3 and gql[0] > 0 and gql[0] >= json[0]:
        return MediaType.GRAPHQL_RESPONSE
    if json[0] > 0:
        return MediaType.JSON
    if gql[0] > 0:
        return MediaType.GRAPHQL_RESPONSE
    return None


@lru_cache(maxsize=256)
def wants_html(accept: str | None) -> bool:
    """The client names text/html (a browser), so it may get the GraphiQL page."""
    if not accept:
        return False
    quality, specificity = _quality(_ranges(accept), HTML)
    return specificity == 3 and quality > 0


def essence(content_type: str | None) -> str | None:
    """`type/subtype` of a Content-Type header, lowercased, without parameters."""
    if content_type is None:
        return None
    return content_type.partition(";")[0].strip().lower()


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = part.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.strip().lower(), quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], media: str) -> tuple[float, int]:
    """RFC 9110 section 12.5.1: the most specific matching range decides the quality."""
    kind = media.partition("/")[0]
    best_quality, best_specificity = 0.0, 0
    for candidate, quality in ranges:
        if candidate == media:
            specificity = 3
        elif candidate == f"{kind}/*":
            specificity = 2
        elif candidate == "*/*":
            specificity = 1
        else:
            continue
        if specificity > best_specificity or (specificity == best_specificity and quality > best_quality):
            best_quality, best_specificity = quality, specificity
    return best_quality, best_specificity
