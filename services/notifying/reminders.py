"""One gentle reminder for a draft nobody answered (PRODUCT.md §10).

After `DRAFT_REMINDER_HOURS` (or the agent's own setting; 0 turns reminders off) a draft
still waiting for the agent gets one reply to its message. Quiet hours hold it back until
they end. The draft is stamped before the message goes, so two passes or two processes
never remind twice. A reminder that could not go out now (network, Telegram's 5xx or flood
limit) gives its stamp back and the next pass tries again; one Telegram refuses (the draft
message deleted, the bot blocked) is not retried.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from db.base import utcnow
from db.repositories import reminders as repo
from services.context import Database
from services.notifying.notifier import (
    DeliveryFailed,
    DeliveryRefused,
    Notifier,
    RecipientUnreachable,
)
from services.scheduling import in_quiet_hours

log = logging.getLogger(__name__)

REMINDER_LIMIT = 200


def waiting_for(age: timedelta) -> str:
    """'45 minutes', '26 hours', '3 days'."""
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"{days} days"


def reminder_text(age: timedelta) -> str:
    """The reminder, one sentence with what to do."""
    return (
        f"⏰ This draft has been waiting for {waiting_for(age)}: tap Approve, Revise or "
        "Reject above when you have a moment."
    )


async def send_reminders(
    database: Database,
    notifier: Notifier,
    *,
    default_timezone: str,
    default_hours: float,
    now: datetime | None = None,
    limit: int = REMINDER_LIMIT,
) -> int:
    """Remind agents of drafts waiting longer than their reminder setting; returns how many
    reminders were sent."""
    now = now or utcnow()
    async with database.unit_of_work() as session:
        settings = await repo.reminder_hours(session)
        due = []
        for hours in settings:
            if hours is not None and hours <= 0:
                continue  # the agent turned reminders off
            due += await repo.drafts_to_remind(
                session, hours=hours, default_hours=default_hours, now=now, limit=limit
            )
    sent = 0
    for piece, agent in due:
        quiet = in_quiet_hours(
            now,
            timezone=agent.timezone or default_timezone,
            start=agent.quiet_hours_start,
            end=agent.quiet_hours_end,
        )
        if quiet or agent.telegram_chat_id is None or piece.telegram_message_id is None:
            continue
        async with database.unit_of_work() as session:
            if not await repo.claim_reminder(session, piece.id, now):
                continue
        age = now - (piece.created_at or now)
        try:
            await notifier.send_reminder(
                agent.telegram_chat_id, piece.telegram_message_id, reminder_text(age)
            )
        except DeliveryFailed as exc:
            async with database.unit_of_work() as session:
                await repo.release_reminder(session, piece.id, now)
            log.warning(
                "draft reminder not sent; the next pass tries again",
                extra={"piece_id": str(piece.id), "error": type(exc).__name__},
            )
            continue
        except (RecipientUnreachable, DeliveryRefused) as exc:
            log.warning(
                "draft reminder not sent",
                extra={"piece_id": str(piece.id), "error": type(exc).__name__},
            )
            continue
        sent += 1
    if sent:
        log.info("draft reminders sent", extra={"count": sent})
    return sent
