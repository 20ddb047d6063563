"""Content of the customer's member bank: short videos, live streams, banners."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from bff.channels import models
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Node


@strawberry.enum
class ContentKind(Enum):
    SHORT_VIDEO = "short_video"
    LIVE_STREAM = "live_stream"
    BANNER = "banner"


@strawberry.type
class ContentItem(Node):
    kind: ContentKind
    title: str
    image_url: str
    media_url: str | None
    link_url: str | None
    duration_seconds: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    live_status: str | None
    is_marketing: bool

    @classmethod
    def of(cls, item: models.ContentItem) -> ContentItem:
        return cls(
            id=strawberry.ID(to_global_id("ContentItem", item.content_id)),
            kind=ContentKind(item.kind),
            title=item.title,
            image_url=item.image_url,
            media_url=item.media_url,
            link_url=item.link_url,
            duration_seconds=item.duration_seconds,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            live_status=item.live_status,
            is_marketing=item.is_marketing,
        )
