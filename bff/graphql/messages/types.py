"""Cross-end messages between the customer and bank employees."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from bff.channels import models
from bff.graphql.context import RequestContext
from bff.graphql.ids import to_global_id
from bff.graphql.relay import Connection, Node, paginate


@strawberry.enum
class SenderRole(Enum):
    CUSTOMER = "customer"
    EMPLOYEE = "employee"


@strawberry.type
class Message:
    id: strawberry.ID
    sender_role: SenderRole
    body: str
    sent_at: datetime
    read: bool

    @classmethod
    def of(cls, message: models.Message) -> Message:
        return cls(
            id=strawberry.ID(to_global_id("Message", f"{message.thread_id}/{message.message_id}")),
            sender_role=SenderRole(message.sender_role),
            body=message.body,
            sent_at=message.sent_at,
            read=message.read,
        )


@strawberry.type
class MessageThread(Node):
    thread_id: strawberry.Private[str]
    subject: str
    employee_name: str
    employee_role: str
    unread_count: int
    last_message_at: datetime | None
    last_message_preview: str | None

    @classmethod
    def of(cls, thread: models.MessageThread) -> MessageThread:
        return cls(
            id=strawberry.ID(to_global_id("MessageThread", thread.thread_id)),
            thread_id=thread.thread_id,
            subject=thread.subject,
            employee_name=thread.employee_name,
            employee_role=thread.employee_role,
            unread_count=thread.unread_count,
            last_message_at=thread.last_message_at,
            last_message_preview=thread.last_message_preview,
        )

    @strawberry.field(description="Messages of the thread, newest first.")
    async def messages(
        self, info: strawberry.Info[RequestContext, Any], first: int = 20, after: str | None = None
    ) -> Connection[Message] | None:
        ctx = info.context
        scope = ctx.customer()
        return await paginate(
            lambda n, cursor: ctx.channels.messages.messages(scope, self.thread_id, n, cursor),
            first,
            after,
            Message.of,
        )
