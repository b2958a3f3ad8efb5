"""Admin look-ups and per-agent switches: /agents, /areas, /marketing, /setlicense, /stats,
/failed."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence

from telegram.ext import CommandHandler, filters

from bot.app_type import App
from bot.handler_kit import Command, handles_message
from bot.handlers.lists import platform_name
from bot.handlers.replies import reply_long
from bot.render import bold, code, escape, fmt_dt, italic
from db.status import ListingStatus, ScheduleStatus
from services import admin_reports, agent_admin
from services.admin_reports import AgentSummary, FailedPostRow, Stats
from services.errors import InvalidInputError
from services.status_display import DISPLAY

MAX_ERROR_CHARS = 300

_LISTING_WORDS: dict[str, str] = {
    ListingStatus.ACTIVE: "active",
    ListingStatus.UPCOMING: "coming soon",
    ListingStatus.SOLD: "sold",
    ListingStatus.OFF_MARKET: "off market",
}
_DRAFT_WORDS: dict[str, str] = {s.value: row.count_word for s, row in DISPLAY.items()}
_POST_WORDS: dict[str, str] = {
    ScheduleStatus.SUCCESS: "published",
    ScheduleStatus.FAILED: "failed",
    ScheduleStatus.PENDING: "waiting",
    ScheduleStatus.SENT: "publishing",
    ScheduleStatus.CANCELLED: "cancelled",
}


def area_words(areas: Iterable[tuple[str, str]]) -> str:
    """`[("city", "ocala")]` → "city Ocala" (not escaped)."""
    return ", ".join(f"{kind} {string.capwords(value)}" for kind, value in areas)


def agent_block(a: AgentSummary) -> str:
    """One agent in /agents (HTML)."""
    if a.linked:
        link_state = "✅ linked"
    elif a.invite_pending:
        link_state = "⏳ invite pending"
    else:
        link_state = "❌ not linked, no open invite"
    accounts = f"{a.active_accounts} account" + ("" if a.active_accounts == 1 else "s")
    facts = [
        link_state,
        f"marketing sign-off {'on' if a.requires_marketing_approval else 'off'}",
        accounts,
    ]
    head = f"{bold(a.name)} — {escape(a.email)}"
    if not a.active:
        head += " " + italic("(inactive)")
    lines = [head, "  " + escape(" · ".join(facts))]
    areas = area_words(a.service_areas) if a.service_areas else "all homes (no service areas)"
    lines.append("  Areas: " + escape(areas))
    if a.unreachable:
        lines.append(
            "  ⚠️ Unreachable: they blocked the bot; messages resume after they send /start."
        )
    return "\n".join(lines)


def agents_text(agents: Sequence[AgentSummary]) -> str:
    """The /agents message (HTML)."""
    if not agents:
        return "👥 No agents yet. Add one with " + code("/addagent chris@example.com Chris Doe")
    blocks = [f"👥 {bold('Agents')} ({len(agents)})"] + [agent_block(a) for a in agents]
    return "\n\n".join(blocks)


def _counts(counts: Mapping[str, int], words: Mapping[str, str]) -> str:
    ordered = [k for k in words if counts.get(k)] + sorted(k for k in counts if k not in words)
    if not ordered:
        return "none"
    return " · ".join(f"{words.get(k, k)} {counts[k]}" for k in ordered if counts[k])


def stats_text(s: Stats) -> str:
    """The /stats message (HTML)."""
    publishing = "⏸ paused (/resume to restart)" if s.publishing_paused else "▶️ running"
    agents = f"{s.agents_active} active, {s.agents_linked} linked"
    if s.agents_unreachable:
        agents += f", {s.agents_unreachable} unreachable"
    posts = _counts(s.posts_by_status, _POST_WORDS)
    return "\n".join(
        [
            f"📊 {bold('At a glance')}",
            "",
            f"{bold('Publishing')}: {publishing}",
            f"{bold('Agents')}: {escape(agents)}",
            f"{bold('Homes')}: {escape(_counts(s.listings_by_status, _LISTING_WORDS))}",
            f"{bold('Drafts')}: {escape(_counts(s.drafts_by_status, _DRAFT_WORDS))}",
            f"{bold('Posts, last 7 days')}: {escape(posts)}",
            f"{bold('Posts coming up')}: {s.upcoming_posts}",
        ]
    )


def failed_text(rows: Sequence[FailedPostRow], timezone: str) -> str:
    """The /failed message (HTML)."""
    if not rows:
        return "✅ No failed posts in the last 14 days."
    lines = [f"❌ {bold('Failed posts')} {italic(f'(last 14 days, newest first, {timezone})')}"]
    for row in rows:
        post = row.post
        when = fmt_dt(row.updated_at or post.scheduled_at, timezone)
        where = f"{platform_name(post.platform)} · {post.account_name}"
        lines.append("")
        lines.append(
            f"• {escape(when)} — {bold(row.agent_name)} — {escape(where)}\n"
            f"  {escape(post.address)}, {escape(post.city)}"
        )
        error = (post.error_message or "no error recorded")[:MAX_ERROR_CHARS]
        lines.append("  " + italic(error))
    return "\n".join(lines)


def _command_text(c: Command) -> str:
    """What follows the command word, exactly as typed (quotes and spaces kept)."""
    parts = (c.message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


@handles_message(admin=True)
async def agents_command(c: Command) -> None:
    """/agents: every agent and their status."""
    agents = await c.rt.database.run(admin_reports.agents_overview)
    await reply_long(c.message, agents_text(agents))


@handles_message(admin=True)
async def areas_command(c: Command) -> None:
    """/areas <email> city:Ocala community:"Marion Oaks" (or `all`)."""
    command = agent_admin.parse_areas_command(_command_text(c))
    changed = await c.rt.database.run(agent_admin.set_areas, command)
    who = f"{bold(changed.name)} ({escape(changed.email)})"
    if not changed.service_areas:
        await c.reply(f"📍 {who} has no service areas now: every home is theirs.")
        return
    await c.reply(
        f"📍 Service areas for {who}: {escape(area_words(changed.service_areas))}. "
        "New homes in these areas are assigned to them."
    )


@handles_message(admin=True)
async def marketing_command(c: Command) -> None:
    """/marketing <email> on|off: require marketing sign-off after Approve."""
    if len(c.args) != 2:
        raise InvalidInputError(agent_admin.MARKETING_USAGE)
    required = agent_admin.parse_on_off(c.args[1])
    changed = await c.rt.database.run(
        agent_admin.set_marketing_approval, email=c.args[0], required=required
    )
    who = bold(changed.name)
    if changed.requires_marketing_approval:
        text = (
            f"✅ Marketing sign-off is on for {who}: after Approve, a draft waits for "
            "the “Marketing approved” button before it is scheduled."
        )
    else:
        text = f"Marketing sign-off is off for {who}: approved drafts are scheduled at once."
    await c.reply(text)


@handles_message(admin=True)
async def setlicense_command(c: Command) -> None:
    """/setlicense <email> <number> (or `off`): the agent's license number."""
    if len(c.args) < 2:
        raise InvalidInputError(agent_admin.LICENSE_ADMIN_USAGE)
    changed = await c.rt.database.run(
        agent_admin.set_license, email=c.args[0], text=" ".join(c.args[1:])
    )
    who = bold(changed.name)
    if changed.license_number is None:
        await c.reply(f"🪪 License number cleared for {who}.")
        return
    await c.reply(
        f"🪪 License number for {who}: {escape(changed.license_number)}. "
        "Their new drafts and flyers name it."
    )


@handles_message(admin=True)
async def stats_command(c: Command) -> None:
    """/stats: numbers at a glance."""
    stats = await c.rt.database.run(admin_reports.collect_stats)
    await c.reply(stats_text(stats))


@handles_message(admin=True)
async def failed_command(c: Command) -> None:
    """/failed: posts that failed in the last 14 days."""
    rows = await c.rt.database.run(admin_reports.recent_failures)
    await reply_long(c.message, failed_text(rows, c.rt.settings.default_timezone))


def register(app: App) -> None:
    """Add the admin look-ups and switches to the application."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("agents", agents_command, filters=private))
    app.add_handler(CommandHandler("areas", areas_command, filters=private))
    app.add_handler(CommandHandler("marketing", marketing_command, filters=private))
    app.add_handler(CommandHandler("setlicense", setlicense_command, filters=private))
    app.add_handler(CommandHandler("stats", stats_command, filters=private))
    app.add_handler(CommandHandler("failed", failed_command, filters=private))
