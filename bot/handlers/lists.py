"""/schedule, /listings and /notifications: what an agent can look up."""

from __future__ import annotations

from decimal import Decimal

from telegram.ext import CommandHandler, filters

from bot.app_type import App
from bot.handler_kit import Command, handles_message
from bot.handlers.replies import reply_long
from bot.render import bold, escape, fit_text, fmt_dt, italic, link, money
from db.status import ListingStatus, NotificationType, ScheduleStatus
from services import agent_lists
from services.agent_lists import (
    AgentListings,
    AgentSchedule,
    Listing,
    PostRow,
    UnreadNotifications,
)

MAX_ERROR_CHARS = 300
MAX_NOTIFICATION_CHARS = 600

_PLATFORM = {"facebook": "Facebook", "instagram": "Instagram"}
_POST_STATUS: dict[str, str] = {
    ScheduleStatus.PENDING: "scheduled",
    ScheduleStatus.SENT: "publishing now",
    ScheduleStatus.SUCCESS: "✅ posted",
    ScheduleStatus.FAILED: "❌ failed",
    ScheduleStatus.CANCELLED: "🛑 cancelled",
}
_LISTING_STATUS: dict[str, str] = {
    ListingStatus.ACTIVE: "active",
    ListingStatus.UPCOMING: "coming soon",
    ListingStatus.SOLD: "sold",
    ListingStatus.OFF_MARKET: "off the market",
}
_NOTE_ICON: dict[str, str] = {
    NotificationType.CONTENT_AWAITING_APPROVAL: "✍️",
    NotificationType.POST_SUCCESS: "✅",
    NotificationType.POST_FAILED: "❌",
    NotificationType.LISTING_INGESTED: "🏡",
    NotificationType.LISTING_PRICE_CHANGED: "💲",
    NotificationType.LISTING_SOLD: "🏷",
    NotificationType.TOKEN_EXPIRING: "🔑",
}


def platform_name(platform: str) -> str:
    """'facebook' → 'Facebook'."""
    return _PLATFORM.get(platform, platform.title())


def post_line(post: PostRow, timezone: str) -> str:
    """One post: when, where, which home, and its outcome (HTML)."""
    when = fmt_dt(post.posted_at or post.scheduled_at, timezone)
    where = f"{platform_name(post.platform)} · {post.account_name}"
    home = f"{post.address}, {post.city}"
    status = _POST_STATUS.get(post.status, post.status)
    line = f"• {escape(when)} — {escape(where)} — {escape(home)} — {escape(status)}"
    if post.status == ScheduleStatus.SUCCESS and post.permalink:
        line += f" ({link('view post', post.permalink)})"
    if post.status == ScheduleStatus.FAILED and post.error_message:
        line += f"\n  {italic(post.error_message[:MAX_ERROR_CHARS])}"
    return line


def schedule_text(schedule: AgentSchedule) -> str:
    """The /schedule message (HTML)."""
    tz = schedule.timezone
    lines = [f"📅 {bold('Your posts')} {italic(f'(times in {tz})')}"]
    if schedule.publishing_paused:
        lines.append("⏸ Publishing is paused by your administrator; scheduled posts wait.")
    if not schedule.upcoming and not schedule.recent:
        lines += ["", "Nothing is scheduled yet. Approve a draft and its posts appear here. 🗓"]
        return "\n".join(lines)
    lines += ["", bold("Coming up")]
    lines += [post_line(p, tz) for p in schedule.upcoming] or ["Nothing scheduled right now."]
    if schedule.recent:
        lines += ["", bold("Recently")]
        lines += [post_line(p, tz) for p in schedule.recent]
    return "\n".join(lines)


def _decimal(value: Decimal) -> str:
    return f"{value.normalize():f}"


def listing_line(listing: Listing) -> str:
    """One home: address (linked), price, beds/baths/sqft, status (HTML)."""
    place = f"{listing.address}, {listing.city}"
    head = link(place, listing.source_url) if listing.source_url else escape(place)
    facts = [money(listing.price)]
    if listing.beds is not None:
        facts.append(f"{listing.beds} bd")
    if listing.baths is not None:
        facts.append(f"{_decimal(listing.baths)} ba")
    if listing.sqft is not None:
        facts.append(f"{listing.sqft:,} sq ft")
    status = listing.status or ListingStatus.ACTIVE
    facts.append(_LISTING_STATUS.get(status, status))
    return f"• {head}\n  {escape(' · '.join(facts))}"


def listings_text(result: AgentListings) -> str:
    """The /listings message (HTML)."""
    if not result.listings:
        if result.by_service_area:
            return (
                "🏡 No homes in your service areas yet. When the builder lists one, "
                "a draft arrives here."
            )
        return "🏡 No active homes yet. The next check of the builder's site will find them."
    title = "Your homes" if result.by_service_area else "Active homes"
    shown = len(result.listings)
    count = f"{shown} of {result.total}" if result.total > shown else f"{shown}"
    lines = [f"🏡 {bold(title)} {italic(f'({count}, newest first)')}", ""]
    lines += [listing_line(listing) for listing in result.listings]
    return "\n".join(lines)


def notifications_text(result: UnreadNotifications) -> str:
    """The /notifications message (HTML)."""
    if not result.notifications:
        return "🔔 No unread notifications. You're all caught up. ✨"
    lines = [f"🔔 {bold('Unread notifications')} {italic('(newest first)')}", ""]
    for note in result.notifications:
        icon = _NOTE_ICON.get(note.notification_type, "•")
        when = fmt_dt(note.created_at, result.timezone) if note.created_at else ""
        body = fit_text(escape(note.message), MAX_NOTIFICATION_CHARS)
        lines.append(f"{icon} {italic(when)}\n{body}\n")
    if result.remaining:
        lines.append(f"{result.remaining} more unread: send /notifications again.")
    return "\n".join(lines).rstrip()


@handles_message()
async def schedule_command(c: Command) -> None:
    """/schedule: upcoming and recent posts."""
    result = await c.rt.database.run(
        agent_lists.agent_schedule,
        telegram_user_id=c.user.id,
        default_timezone=c.rt.settings.default_timezone,
    )
    await reply_long(c.message, schedule_text(result))


@handles_message()
async def listings_command(c: Command) -> None:
    """/listings: the agent's homes."""
    result = await c.rt.database.run(agent_lists.agent_listings, telegram_user_id=c.user.id)
    await reply_long(c.message, listings_text(result))


@handles_message()
async def notifications_command(c: Command) -> None:
    """/notifications: unread notifications, which are then marked read."""
    result = await c.rt.database.run(
        agent_lists.read_notifications,
        telegram_user_id=c.user.id,
        default_timezone=c.rt.settings.default_timezone,
    )
    await reply_long(c.message, notifications_text(result))


def register(app: App) -> None:
    """Add /schedule, /listings and /notifications to the application."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("schedule", schedule_command, filters=private))
    app.add_handler(CommandHandler("listings", listings_command, filters=private))
    app.add_handler(CommandHandler("notifications", notifications_command, filters=private))
