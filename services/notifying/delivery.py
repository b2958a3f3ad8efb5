"""Pushing drafts and notifications to agents, respecting quiet hours and preferences.

Agents are served in parallel; each agent's messages go out one at a time in the
order they were created, so a quiet-hours backlog arrives in order.

A message Telegram refuses (400) is recorded on its row once and not tried again; one
that failed for a reason that may pass (network, 5xx, 429) is tried again with
exponential back-off (never before Telegram's `retry_after`), and recorded as failed
after `MAX_ATTEMPTS`. Either way the admins are told once. A draft's parts already on
the phone (the photos, earlier text parts) are recorded as they go and never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import Agent, Notification
from db.process_locks import FANOUT, try_advisory_lock
from db.repositories import agents as agents_repo
from db.repositories import delivery as repo
from db.status import ContentType, DeliveryStatus, NotificationType
from services import metrics
from services.context import Database
from services.notifying.notification_rows import type_enabled
from services.notifying.notifier import (
    DeliveryFailed,
    DeliveryRefused,
    DraftView,
    FlyerAttachment,
    ListingSummary,
    NotificationView,
    Notifier,
    RecipientUnreachable,
)
from services.notifying.reminders import waiting_for
from services.publishing.retry_policy import retry_delay
from services.scheduling import in_quiet_hours

log = logging.getLogger(__name__)
T = TypeVar("T")
# The deliver job and an immediate delivery after a rewrite may both read the same
# undelivered draft; this process sends each (draft, version) once. Kept small: the
# database's delivered_version covers everything older than a round.
_Key = tuple[uuid.UUID, int, datetime | None]
_in_flight: set[_Key] = set()
_recently_sent: OrderedDict[_Key, None] = OrderedDict()
_RECENT_MAX = 10_000
PrintFlyer = Callable[[repo.DraftRow], Awaitable[FlyerAttachment | None]]
"""Renders a flyer-text draft's PDF and preview (`services.drafting.printable_flyers`)."""
# With retry_delay's 1, 2, 4… minutes, about two hours of trying.
MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=5)
"""How long a round holds the rows it claimed: 500 drafts of two messages each take about
40 s at the send budget; a crashed process's rows go out from another after this."""


@dataclass
class DeliveryStats:
    """What one delivery round did; `given_up` says, for the admins, what stopped for good."""

    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0
    given_up: list[str] = field(default_factory=list)
    elsewhere: bool = False  # another process is spending the send budget: nothing was read


@asynccontextmanager
async def _sending_turn(database: Database, bulk: bool) -> AsyncIterator[bool]:
    """Whether this process may spend the bot's send budget now.

    Telegram's ~30 messages/s is per bot, and each process paces its own sends
    (bot/rate_limit.py), so a round that may send many messages runs in one process at a
    time: the others skip it and the rows wait for the next round of whichever process
    gets the turn. `bulk=False` (a draft the agent is waiting for, right after their own
    tap or feedback) sends at once: a few messages in the agent's own chat.
    """
    if not bulk:
        yield True
        return
    # Within the process the rounds queue (a draft pushed right after a scrape waits for
    # the deliver job's round instead of being left for the next one); across processes
    # they skip.
    async with _local_turn(database), try_advisory_lock(database.engine, FANOUT) as held:
        yield held


_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _local_turn(database: Database) -> asyncio.Lock:
    per_engine = _turns.setdefault(asyncio.get_running_loop(), {})
    return per_engine.setdefault(id(database.engine.sync_engine), asyncio.Lock())


@dataclass(frozen=True)
class _Failure:
    """How to record a failed attempt on the message's own row."""

    what: str  # e.g. "the draft for 12 Oak Trail", for the admins
    attempts: int  # failed attempts before this one
    record: Callable[[AsyncSession, int, datetime | None, str | None], Awaitable[None]]


def draft_view(row: repo.DraftRow) -> DraftView:
    """The telegram-free picture of a draft for the notifier."""
    piece, agent, listing = row.piece, row.agent, row.listing
    assert agent.telegram_chat_id is not None
    previous = (
        piece.telegram_message_id
        if piece.telegram_message_id is not None and piece.delivered_version != piece.version
        else None
    )
    return DraftView(
        piece_id=piece.id,
        version=piece.version,
        chat_id=agent.telegram_chat_id,
        content_type=piece.content_type,
        purpose=piece.purpose,
        status=piece.status,
        generated_text=dict(piece.generated_text),
        listing=ListingSummary(
            address=listing.address,
            city=listing.city,
            state=listing.state,
            zip_code=listing.zip_code,
            price=listing.price,
            beds=listing.beds,
            baths=listing.baths,
            sqft=listing.sqft,
            garage=listing.garage,
            community=listing.community,
            plan_name=listing.plan_name,
            status=listing.status,
            source_url=listing.source_url,
        ),
        image_urls=list(piece.associated_image_urls or []),
        warnings=[w for w in (piece.warnings or []) if isinstance(w, dict)],
        feedback=piece.feedback if piece.version > 1 else None,
        previous_message_id=previous,
        updated_at=piece.updated_at,
        parts_done=piece.delivery_parts if piece.delivery_version == piece.version else 0,
    )


def _quiet(agent: Agent, now: datetime, default_timezone: str) -> bool:
    return in_quiet_hours(
        now,
        timezone=agent.timezone or default_timezone,
        start=agent.quiet_hours_start,
        end=agent.quiet_hours_end,
    )


async def _per_agent(
    items: Sequence[T],
    agent_of: Callable[[T], uuid.UUID],
    send: Callable[[T], Awaitable[None]],
    concurrency: int,
) -> None:
    groups: dict[uuid.UUID, list[T]] = defaultdict(list)
    for item in items:
        groups[agent_of(item)].append(item)
    gate = asyncio.Semaphore(concurrency)

    async def run(batch: list[T]) -> None:
        async with gate:
            for item in batch:
                await send(item)

    await asyncio.gather(*(run(batch) for batch in groups.values()))


async def deliver_drafts(
    database: Database,
    notifier: Notifier,
    *,
    default_timezone: str,
    piece_ids: Sequence[uuid.UUID] | None = None,
    now: datetime | None = None,
    concurrency: int = 32,
    bulk: bool = True,
    print_flyer: PrintFlyer | None = None,
) -> DeliveryStats:
    """Send every draft whose newest version is not on the agent's phone yet; a flyer-text
    draft comes with its printable flyer when `print_flyer` is given.

    Each draft is claimed for the round, so with several processes it goes out from one;
    see `_sending_turn` for `bulk`."""
    now = now or utcnow()
    async with _sending_turn(database, bulk) as turn:
        if not turn:
            return DeliveryStats(elsewhere=True)
        claim_until = utcnow() + CLAIM_LEASE
        async with database.unit_of_work() as session:
            rows = await repo.drafts_to_deliver(
                session, piece_ids=piece_ids, now=now, claim_until=claim_until
            )
        try:
            return await _deliver_draft_rows(
                database, notifier, rows, default_timezone, now, concurrency, print_flyer
            )
        finally:
            async with database.unit_of_work() as session:
                await repo.release_draft_claims(session, [r.piece.id for r in rows], claim_until)


async def _deliver_draft_rows(
    database: Database,
    notifier: Notifier,
    rows: Sequence[repo.DraftRow],
    default_timezone: str,
    now: datetime,
    concurrency: int,
    print_flyer: PrintFlyer | None,
) -> DeliveryStats:
    stats = DeliveryStats()
    unreachable: set[uuid.UUID] = set()

    async def send(row: repo.DraftRow) -> None:
        agent, piece = row.agent, row.piece
        if agent.id in unreachable:
            return
        if not type_enabled(
            agent.notification_preferences, NotificationType.CONTENT_AWAITING_APPROVAL
        ):
            async with database.unit_of_work() as session:
                await repo.mark_draft_delivered(
                    session, piece.id, piece.version, chat_id=None, message_id=None
                )
            stats.skipped += 1
            return
        if _quiet(agent, now, default_timezone):
            stats.deferred += 1
            return
        view = draft_view(row)
        if print_flyer is not None and piece.content_type == ContentType.FLYER_TEXT:
            view = replace(view, flyer=await _printed(print_flyer, row))
        await _send_one(
            database,
            agent,
            stats,
            unreachable,
            lambda: _send_draft(database, notifier, view),
            _draft_failure(row),
            now,
        )

    await _per_agent(rows, lambda r: r.agent.id, send, concurrency)
    await _tell_admins(notifier, stats)
    return stats


async def _printed(print_flyer: PrintFlyer, row: repo.DraftRow) -> FlyerAttachment | None:
    try:
        return await print_flyer(row)
    except Exception:
        # The flyer's text still goes out; the agent can ask again for the PDF.
        log.exception("flyer PDF not rendered", extra={"piece_id": str(row.piece.id)})
        return None


def _draft_failure(row: repo.DraftRow) -> _Failure:
    piece = row.piece

    async def record(
        session: AsyncSession, attempts: int, retry_at: datetime | None, error: str | None
    ) -> None:
        await repo.record_draft_failure(
            session, piece.id, piece.version, attempts=attempts, retry_at=retry_at, error=error
        )

    earlier = piece.delivery_attempts if piece.delivery_version == piece.version else 0
    return _Failure(f"the draft for {row.listing.address}", earlier, record)


async def _send_draft(
    database: Database, notifier: Notifier, view: DraftView, *, resend: bool = False
) -> None:
    key = (view.piece_id, view.version, view.updated_at)
    if key in _in_flight or (key in _recently_sent and not resend):
        return
    _in_flight.add(key)
    try:
        await _send_draft_once(database, notifier, view)
        _recently_sent[key] = None
        while len(_recently_sent) > _RECENT_MAX:
            _recently_sent.popitem(last=False)
    finally:
        _in_flight.discard(key)


async def _send_draft_once(database: Database, notifier: Notifier, view: DraftView) -> None:
    async def part_sent(parts: int) -> None:
        async with database.unit_of_work() as session:
            await repo.record_draft_progress(session, view.piece_id, view.version, parts)

    message_id = await notifier.send_draft(view, part_sent)
    metrics.DRAFTS_DELIVERED.inc()
    async with database.unit_of_work() as session:
        current = await repo.mark_draft_delivered(
            session, view.piece_id, view.version, chat_id=view.chat_id, message_id=message_id
        )
    if view.previous_message_id is not None:
        await notifier.mark_superseded(view.chat_id, view.previous_message_id, view.version)
    if not current:
        log.info("draft superseded while sending", extra={"piece_id": str(view.piece_id)})


async def _send_one(
    database: Database,
    agent: Agent,
    stats: DeliveryStats,
    unreachable: set[uuid.UUID],
    action: Callable[[], Awaitable[Any]],
    failure: _Failure,
    now: datetime,
) -> bool:
    try:
        await action()
    except RecipientUnreachable:
        unreachable.add(agent.id)
        async with database.unit_of_work() as session:
            newly = await repo.mark_agent_unreachable(session, agent.id)
        log.warning("agent unreachable; pausing messages", extra={"agent_id": str(agent.id)})
        if newly:
            stats.given_up.append(
                f"{agent.name} blocked the bot: nothing reaches them until they send /start."
            )
        stats.failed += 1
        return False
    except DeliveryRefused as exc:
        await _record_failure(database, failure, failure.attempts + 1, None, str(exc))
        log.warning(
            "delivery refused; not retried",
            extra={"agent_id": str(agent.id), "error": str(exc)},
        )
        stats.given_up.append(f"{failure.what} to {agent.name}: Telegram refused it ({exc}).")
        stats.failed += 1
        return False
    except DeliveryFailed as exc:
        attempts = failure.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await _record_failure(database, failure, attempts, None, str(exc))
            stats.given_up.append(
                f"{failure.what} to {agent.name}: still failing after {attempts} attempts ({exc})."
            )
        else:
            retry_at = now + retry_delay(attempts, exc.retry_after_s)
            await _record_failure(database, failure, attempts, retry_at, None)
        log.warning(
            "delivery failed",
            extra={"agent_id": str(agent.id), "error": str(exc), "attempts": attempts},
        )
        stats.failed += 1
        return False
    stats.sent += 1
    return True


async def _record_failure(
    database: Database,
    failure: _Failure,
    attempts: int,
    retry_at: datetime | None,
    error: str | None,
) -> None:
    async with database.unit_of_work() as session:
        await failure.record(session, attempts, retry_at, error)


async def _tell_admins(notifier: Notifier, stats: DeliveryStats) -> None:
    """One message per round about what stopped for good (each row stops once)."""
    if stats.given_up:
        await notifier.alert_admins(
            "Messages I stopped trying to send:\n" + "\n".join(f"• {g}" for g in stats.given_up)
        )


async def deliver_notifications(
    database: Database,
    notifier: Notifier,
    *,
    default_timezone: str,
    now: datetime | None = None,
    concurrency: int = 32,
) -> DeliveryStats:
    """Send queued notifications outside each agent's quiet hours, in order; each is
    claimed for the round, and the round waits its turn like `deliver_drafts`."""
    now = now or utcnow()
    async with _sending_turn(database, bulk=True) as turn:
        if not turn:
            return DeliveryStats(elsewhere=True)
        claim_until = utcnow() + CLAIM_LEASE
        async with database.unit_of_work() as session:
            rows = await repo.notifications_to_deliver(session, now=now, claim_until=claim_until)
        try:
            return await _deliver_notification_rows(
                database, notifier, rows, default_timezone, now, concurrency
            )
        finally:
            async with database.unit_of_work() as session:
                await repo.release_notification_claims(
                    session, [r.notification.id for r in rows], claim_until
                )


async def _deliver_notification_rows(
    database: Database,
    notifier: Notifier,
    rows: Sequence[repo.NotificationRow],
    default_timezone: str,
    now: datetime,
    concurrency: int,
) -> DeliveryStats:
    stats = DeliveryStats()
    unreachable: set[uuid.UUID] = set()

    async def send(row: repo.NotificationRow) -> None:
        agent, note = row.agent, row.notification
        if agent.id in unreachable:
            return
        if _quiet(agent, now, default_timezone):
            stats.deferred += 1
            return
        assert agent.telegram_chat_id is not None
        view = NotificationView(
            notification_id=note.id,
            chat_id=agent.telegram_chat_id,
            notification_type=note.notification_type,
            message=note.message,
            related_entity_id=note.related_entity_id,
            piece_version=row.piece_version,
        )
        if await _send_one(
            database,
            agent,
            stats,
            unreachable,
            lambda: notifier.send_notification(view),
            _notification_failure(note),
            now,
        ):
            async with database.unit_of_work() as session:
                await repo.set_notification_status(session, note.id, DeliveryStatus.SENT)

    await _per_agent(rows, lambda r: r.agent.id, send, concurrency)
    await _tell_admins(notifier, stats)
    return stats


def _notification_failure(note: Notification) -> _Failure:
    async def record(
        session: AsyncSession, attempts: int, retry_at: datetime | None, error: str | None
    ) -> None:
        await repo.record_notification_failure(
            session, note.id, attempts=attempts, retry_at=retry_at, error=error
        )

    return _Failure(f"a {note.notification_type} notification", note.delivery_attempts, record)


async def resend_drafts(
    database: Database,
    notifier: Notifier,
    *,
    telegram_user_id: int,
    now: datetime | None = None,
) -> int:
    """Send again every draft waiting for this agent (the /drafts command), each saying how
    long it has waited."""
    now = now or utcnow()
    async with database.unit_of_work() as session:
        rows = await repo.drafts_to_deliver(
            session, telegram_user_id=telegram_user_id, include_delivered=True
        )
    for row in rows:
        view = draft_view(row)
        if row.piece.created_at is not None:
            view = replace(view, waiting=waiting_for(now - row.piece.created_at))
        if row.piece.telegram_message_id is not None and view.previous_message_id is None:
            # Re-sent: the older message of the same version loses its buttons.
            view = DraftView(
                **{**view.__dict__, "previous_message_id": row.piece.telegram_message_id}
            )
        await _send_draft(database, notifier, view, resend=True)
    return len(rows)


async def resend_drafts_to_agent(
    database: Database, notifier: Notifier, *, telegram_user_id: int
) -> int | None:
    """`resend_drafts` for an active agent; None when this Telegram user is none."""
    async with database.unit_of_work() as session:
        agent = await agents_repo.get_agent_by_telegram_user(session, telegram_user_id)
    if agent is None or not agent.is_active:
        return None
    return await resend_drafts(database, notifier, telegram_user_id=telegram_user_id)
