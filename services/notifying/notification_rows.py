"""Writing notifications: a row always, a Telegram message only when the type is on."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, Notification
from db.repositories import audit
from db.status import NotificationType

NOTIFICATION_LABELS: dict[str, str] = {
    NotificationType.CONTENT_AWAITING_APPROVAL: "New drafts to approve",
    NotificationType.LISTING_INGESTED: "New homes found",
    NotificationType.LISTING_PRICE_CHANGED: "Price changes",
    NotificationType.LISTING_SOLD: "Homes sold or withdrawn",
    NotificationType.POST_SUCCESS: "Posts published",
    NotificationType.POST_FAILED: "Posts that failed",
    NotificationType.TOKEN_EXPIRING: "Account connections expiring",
    NotificationType.WEEKLY_DIGEST: "Weekly digest",
}


def type_enabled(preferences: dict[str, Any] | None, notification_type: str) -> bool:
    """Whether the agent wants Telegram messages of this type (on unless turned off)."""
    if not preferences:
        return True
    value = preferences.get(notification_type, True)
    return bool(value)


async def notify(
    session: AsyncSession,
    agent: Agent,
    notification_type: str,
    message: str,
    related_entity_id: uuid.UUID | None = None,
) -> Notification:
    """Record a notification for the agent; it is queued for Telegram if the type is on."""
    return await audit.add_notification(
        session,
        agent_id=agent.id,
        notification_type=notification_type,
        message=message,
        related_entity_id=related_entity_id,
        deliver=type_enabled(agent.notification_preferences, notification_type),
    )
