"""/settings with notification toggles, and /times, /quiet, /timezone, /license, /reminders."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.app_type import App
from bot.callback_data import Action, CallbackSigner, pattern
from bot.edits import redraw
from bot.handler_kit import INVALID_BUTTON, Command, Tap, handles_button, handles_message
from bot.render import bold, code, escape, italic
from services import agent_settings
from services.agent_settings import TOGGLE_KEYS, AgentSettings

log = logging.getLogger(__name__)


def toggle_extra(key: str, enabled: bool) -> str:
    """Callback `extra` for "set notification `key` to `enabled`", e.g. "price.0"."""
    return f"{key}.{int(enabled)}"


def parse_toggle_extra(extra: str) -> tuple[str, bool] | None:
    """`"price.0"` → `("price", False)`; None when it is not a toggle we know."""
    key, sep, flag = extra.rpartition(".")
    if not sep or key not in TOGGLE_KEYS or flag not in ("0", "1"):
        return None
    return key, flag == "1"


def _join_times(times: Sequence[str]) -> str:
    return times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]


def reminder_words(hours: float) -> str:
    """'after 24 hours', 'after 1.5 hours', 'off'."""
    if hours <= 0:
        return "off"
    shown = f"{hours:g}"
    return f"after {shown} hour{'s' if hours != 1 else ''}"


def settings_text(s: AgentSettings, default_reminder_hours: float = 24.0) -> str:
    """The /settings message (HTML)."""
    default = " " + italic("(default)")
    quiet = f"{s.quiet_hours[0]}–{s.quiet_hours[1]}" if s.quiet_hours else "off"
    lines = [
        "⚙️ " + bold("Your settings"),
        "",
        bold("Telegram messages") + ": tap a button below to turn a kind on or off. "
        "Everything is still kept in /notifications.",
    ]
    drafts_off = [t for t in s.toggles if t.key == "draft" and not t.enabled]
    if drafts_off:
        lines.append(italic("New drafts are off: drafts wait for you in /drafts."))
    lines += [
        "",
        f"🕘 {bold('Posting times')}: {escape(_join_times(s.posting_times))}"
        + (default if s.posting_times_is_default else ""),
        f"Change: {code('/times 09:00 17:30')} (one to four times a day)",
        "",
        f"🌙 {bold('Quiet hours')}: {escape(quiet)}",
        f"Change: {code('/quiet 21:00 07:00')} or {code('/quiet off')}",
        "",
        f"🌎 {bold('Time zone')}: {escape(s.timezone)}"
        + (default if s.timezone_is_default else ""),
        f"Change: {code('/timezone America/Chicago')}",
        "",
        f"🪪 {bold('License number')}: "
        + (escape(s.license_number) if s.license_number else italic("not set")),
        f"Change: {code('/license SL3412345')} or {code('/license off')} "
        "(every post and flyer names it)",
        "",
        f"⏰ {bold('Draft reminders')}: "
        + escape(
            reminder_words(default_reminder_hours if s.reminder_hours is None else s.reminder_hours)
        )
        + (default if s.reminder_hours is None else ""),
        f"Change: {code('/reminders 12')} or {code('/reminders off')}",
    ]
    return "\n".join(lines)


def settings_keyboard(signer: CallbackSigner, s: AgentSettings) -> InlineKeyboardMarkup:
    """One button per notification kind; each sets the opposite of what it shows."""
    rows = [
        [
            InlineKeyboardButton(
                f"{'🔔' if t.enabled else '🔕'} {t.label}: {'on' if t.enabled else 'off'}",
                callback_data=signer.encode(
                    Action.SETTINGS, s.agent_id, 0, toggle_extra(t.key, not t.enabled)
                ),
            )
        ]
        for t in s.toggles
    ]
    return InlineKeyboardMarkup(rows)


@handles_message()
async def settings_command(c: Command) -> None:
    """/settings: the agent's settings with toggle buttons."""
    s = await c.rt.database.run(
        agent_settings.load_settings,
        telegram_user_id=c.user.id,
        default_timezone=c.rt.settings.default_timezone,
    )
    await c.reply(
        settings_text(s, c.rt.settings.draft_reminder_hours),
        reply_markup=settings_keyboard(c.rt.signer, s),
    )


@handles_button(Action.SETTINGS)
async def on_settings_button(t: Tap) -> None:
    """A toggle tap: answer at once, store the choice, redraw the message in place."""
    toggle = parse_toggle_extra(t.data.extra)
    if toggle is None:
        log.warning("refused settings callback", extra={"telegram_user_id": t.user.id})
        await t.answer(INVALID_BUTTON)
        return
    await t.answer()
    key, enabled = toggle
    s = await t.rt.database.run(
        agent_settings.set_notification,
        agent_id=t.data.entity_id,
        telegram_user_id=t.user.id,
        key=key,
        enabled=enabled,
        default_timezone=t.rt.settings.default_timezone,
    )
    if t.message is not None:
        # A double tap asks for the same state twice: redraw ignores the unchanged message.
        await redraw(
            t.message,
            settings_text(s, t.rt.settings.draft_reminder_hours),
            settings_keyboard(t.rt.signer, s),
        )


@handles_message()
async def times_command(c: Command) -> None:
    """/times 09:00 17:30: the agent's daily posting times."""
    s = await c.rt.database.run(
        agent_settings.set_posting_times,
        telegram_user_id=c.user.id,
        args=c.args,
        default_timezone=c.rt.settings.default_timezone,
    )
    await c.reply(
        f"🕘 Posting times set: {escape(_join_times(s.posting_times))} "
        f"({escape(s.timezone)}). Posts you approve from now on go out at these times."
    )


@handles_message()
async def quiet_command(c: Command) -> None:
    """/quiet 21:00 07:00 or /quiet off."""
    s = await c.rt.database.run(
        agent_settings.set_quiet_hours,
        telegram_user_id=c.user.id,
        args=c.args,
        default_timezone=c.rt.settings.default_timezone,
    )
    if s.quiet_hours is None:
        await c.reply("🔔 Quiet hours are off: messages arrive as soon as they are ready.")
        return
    start, end = s.quiet_hours
    await c.reply(
        f"🌙 Quiet hours set: {start}–{end} ({escape(s.timezone)}). "
        f"Drafts and notifications that come in then wait until {end}."
    )


@handles_message()
async def timezone_command(c: Command) -> None:
    """/timezone America/Chicago."""
    s = await c.rt.database.run(
        agent_settings.set_timezone,
        telegram_user_id=c.user.id,
        name=" ".join(c.args),
        default_timezone=c.rt.settings.default_timezone,
    )
    await c.reply(
        f"🌎 Time zone set: {escape(s.timezone)}. Posting times "
        f"({escape(_join_times(s.posting_times))}) and quiet hours now follow it."
    )


@handles_message()
async def license_command(c: Command) -> None:
    """/license SL3412345 or /license off."""
    s = await c.rt.database.run(
        agent_settings.set_license,
        telegram_user_id=c.user.id,
        text=" ".join(c.args),
        default_timezone=c.rt.settings.default_timezone,
    )
    if s.license_number is None:
        await c.reply("🪪 License number cleared: new posts no longer show one.")
        return
    await c.reply(
        f"🪪 License number set: {escape(s.license_number)}. New drafts and revisions "
        "carry it next to your brokerage."
    )


@handles_message()
async def reminders_command(c: Command) -> None:
    """/reminders 12 or /reminders off."""
    s = await c.rt.database.run(
        agent_settings.set_reminder_hours,
        telegram_user_id=c.user.id,
        text=" ".join(c.args),
        default_timezone=c.rt.settings.default_timezone,
    )
    hours = s.reminder_hours or 0.0
    if hours <= 0:
        await c.reply("⏰ Draft reminders are off.")
        return
    await c.reply(
        f"⏰ A draft you have not answered gets one reminder {reminder_words(hours)} "
        "(after quiet hours, if they are on)."
    )


def register(app: App) -> None:
    """Add the settings commands and the toggle buttons to the application."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("settings", settings_command, filters=private))
    app.add_handler(CommandHandler("times", times_command, filters=private))
    app.add_handler(CommandHandler("quiet", quiet_command, filters=private))
    app.add_handler(CommandHandler("timezone", timezone_command, filters=private))
    app.add_handler(CommandHandler("license", license_command, filters=private))
    app.add_handler(CommandHandler("reminders", reminders_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_settings_button, pattern=pattern(Action.SETTINGS)))
