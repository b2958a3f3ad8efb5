"""The weekly digest (PRODUCT.md §10): on Monday from 09:00 in the agent's time zone, one
message with a chart of last week's posts, their reach and views from Graph insights, and the
best one with its link. Admins get the brokerage-wide digest at 09:00 in DEFAULT_TIMEZONE.

Each agent's week is stamped (`agents.weekly_digest_on`) before anything is sent, so two
processes or two runs never send it twice; quiet hours hold it back until they end. A
`weekly_digest` notification row is always written; the message goes only when the agent
has that type on. Metrics Graph no longer supports are skipped (`post_insights`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from db.base import utcnow
from db.models import Agent, Notification
from db.repositories import audit
from db.repositories import digest as repo
from db.status import DeliveryStatus, NotificationType
from services.context import Database
from services.crypto import DecryptionError
from services.notifying.notification_rows import type_enabled
from services.notifying.notifier import (
    DeliveryFailed,
    DeliveryRefused,
    Notifier,
    RecipientUnreachable,
)
from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import PublishError
from services.publishing.post_insights import Reach, post_reach
from services.rendering.digest_chart import render_digest_chart
from services.rendering.digest_summary import PostInsight, summarize_week, totals_line
from services.scheduling import in_quiet_hours

log = logging.getLogger(__name__)

DIGEST_HOUR = 9
PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram"}


@dataclass(frozen=True)
class DigestWeek:
    """The week a Monday's digest looks back on, in one time zone."""

    monday: date  # the day the digest goes out
    start: datetime  # the previous Monday 00:00, local
    end: datetime  # this Monday 00:00, local

    @property
    def label(self) -> str:
        """'Nov 30 – Dec 6, 2026'."""
        last = self.end - timedelta(days=1)
        return f"{self.start:%b} {self.start.day} – {last:%b} {last.day}, {last.year}"


def digest_week(now: datetime, timezone: str) -> DigestWeek | None:
    """The week to report when it is Monday, 09:00 or later, in `timezone`; else None."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.hour < DIGEST_HOUR:
        return None
    monday = local.date()
    end = datetime.combine(monday, time(0), tzinfo=zone)
    start = datetime.combine(monday - timedelta(days=7), time(0), tzinfo=zone)
    return DigestWeek(monday=monday, start=start, end=end)


async def post_insights(
    posts: Sequence[repo.PublishedPost],
    graph: GraphClient,
    database: Database,
    timezone: str,
    known: dict[tuple[str, str], Reach] | None = None,
) -> list[PostInsight]:
    """Each post with its reach and views (None where Graph has no supported number).

    `known`: numbers already read in this run, by (platform, post id), filled as it goes:
    the admins' digest shows the same posts as the agents' and asks Graph nothing again."""
    out: list[PostInsight] = []
    zone = ZoneInfo(timezone)
    known = {} if known is None else known
    for post in posts:
        reach = views = None
        key = (post.platform, post.platform_post_id)
        try:
            found = known.get(key)
            if found is None:
                token = database.cipher.decrypt(post.token_encrypted)
                found = known[key] = await post_reach(
                    graph, post.platform, post.platform_post_id, token
                )
            reach, views = found.reach, found.views
        except (PublishError, DecryptionError) as exc:
            log.warning(
                "insights unavailable for a post",
                extra={"platform": post.platform, "error": type(exc).__name__},
            )
        at = post.posted_at.astimezone(zone)
        out.append(
            PostInsight(
                label=f"{at:%a} {at.month}/{at.day} · {post.address}",
                platform=post.platform,
                reach=reach,
                views=views,
                permalink=post.permalink,
            )
        )
    return out


def digest_text(posts: Sequence[PostInsight], week: DigestWeek, *, whose: str) -> str:
    """The message under the chart (plain text, within a photo caption)."""
    summary = summarize_week(posts)
    head = f"📊 {whose} week, {week.label}"
    if not posts:
        return f"{head}: no posts were published. Approve a draft and it shows up here next week."
    text = f"{head}: {totals_line(summary)}."
    best = summary.best
    if best is not None:
        numbers = [f"reach {best.reach:,}" if best.reach is not None else ""]
        numbers.append(f"views {best.views:,}" if best.views is not None else "")
        shown = ", ".join(n for n in numbers if n)
        platform = PLATFORM_NAMES.get(best.platform, best.platform)
        text += f"\n🏆 Best: {best.label.split(' · ', 1)[-1]} on {platform} ({shown})"
        if best.permalink:
            text += f"\n{best.permalink}"
    return text


async def _chart(posts: Sequence[PostInsight], title: str, week: DigestWeek) -> bytes:
    return await asyncio.to_thread(
        render_digest_chart, list(posts), title=title, week_label=week.label
    )


class WeeklyDigest:
    """Sends the digests that are due; `run()` is the job's body."""

    def __init__(
        self,
        database: Database,
        notifier: Notifier,
        graph: GraphClient,
        *,
        default_timezone: str,
        admin_ids: Collection[int] = (),
    ) -> None:
        self.database = database
        self.notifier = notifier
        self.graph = graph
        self.default_timezone = default_timezone
        self.admin_ids = tuple(admin_ids)
        # Reach and views read during the current run (post_insights' `known`).
        self._known: dict[tuple[str, str], Reach] = {}

    async def run(self, now: datetime | None = None) -> int:
        """Send every digest due at `now`; returns how many messages went out."""
        now = now or utcnow()
        async with self.database.unit_of_work() as session:
            agents = list(await repo.digest_agents(session))
        self._known = {}
        sent = 0
        for agent in agents:
            sent += await self._agent_digest(agent, now)
        sent += await self._admin_digest(now)
        return sent

    async def _agent_digest(self, agent: Agent, now: datetime) -> int:
        tz = agent.timezone or self.default_timezone
        week = digest_week(now, tz)
        if week is None or agent.weekly_digest_on == week.monday.isoformat():
            return 0
        quiet = in_quiet_hours(
            now, timezone=tz, start=agent.quiet_hours_start, end=agent.quiet_hours_end
        )
        if quiet:
            return 0
        async with self.database.unit_of_work() as session:
            if not await repo.claim_agent_digest(session, agent.id, week.monday.isoformat()):
                return 0
            published = await repo.published_between(
                session, start=week.start, end=week.end, agent_id=agent.id
            )
        posts = await post_insights(published, self.graph, self.database, tz, self._known)
        text = digest_text(posts, week, whose="Your")
        wanted = type_enabled(agent.notification_preferences, NotificationType.WEEKLY_DIGEST)
        async with self.database.unit_of_work() as session:
            note = await audit.add_notification(
                session,
                agent_id=agent.id,
                notification_type=NotificationType.WEEKLY_DIGEST.value,
                message=text,
                deliver=False,  # sent here, with its chart, not by the delivery job
            )
            note_id = note.id
        if not wanted or agent.telegram_chat_id is None:
            return 0
        chart = await _chart(posts, f"{agent.name}: last week's posts", week)
        try:
            await self.notifier.send_photo(agent.telegram_chat_id, chart, text)
        except (RecipientUnreachable, DeliveryRefused, DeliveryFailed) as exc:
            log.warning(
                "weekly digest not sent",
                extra={"agent_id": str(agent.id), "error": type(exc).__name__},
            )
            return 0
        async with self.database.unit_of_work() as session:
            await session.execute(
                update(Notification)
                .where(Notification.id == note_id)
                .values(delivery_status=DeliveryStatus.SENT.value, sent_at=now)
            )
        return 1

    async def _admin_digest(self, now: datetime) -> int:
        if not self.admin_ids:
            return 0
        week = digest_week(now, self.default_timezone)
        if week is None:
            return 0
        try:
            async with self.database.unit_of_work() as session:
                await repo.claim_admin_digest(session, week.monday.isoformat())
        except IntegrityError:
            return 0  # sent already (or being sent by another process)
        async with self.database.unit_of_work() as session:
            published = await repo.published_between(session, start=week.start, end=week.end)
        posts = await post_insights(
            published, self.graph, self.database, self.default_timezone, self._known
        )
        text = digest_text(posts, week, whose="The brokerage's")
        chart = await _chart(posts, "All agents: last week's posts", week)
        sent = 0
        for admin_id in self.admin_ids:
            try:
                await self.notifier.send_photo(admin_id, chart, text)
            except (RecipientUnreachable, DeliveryRefused, DeliveryFailed) as exc:
                log.warning("admin digest not sent", extra={"error": type(exc).__name__})
                continue
            sent += 1
        return sent
