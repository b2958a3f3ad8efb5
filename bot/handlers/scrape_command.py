"""Admin /scrape: one pass now, one message edited with live progress, then the summary."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Message
from telegram.error import TelegramError
from telegram.ext import CommandHandler, filters

from bot.app_type import App
from bot.handler_kit import Command, handles_message
from bot.jobs.scrape_job import run_now
from bot.render import bold, escape, fit_text
from services.scraping.scrape_pass import (
    ALREADY_RUNNING,
    ScrapeAlreadyRunning,
    ScrapeProgress,
    ScrapeSummary,
    scrape_running,
)

log = logging.getLogger(__name__)

EDIT_INTERVAL_S = 1.0
"""At most one edit of the progress message per second (Telegram's per-chat pace)."""
MAX_FAILURES_SHOWN = 5
STARTING = "🔎 Checking the builder's site…"
CRASHED = (
    "❌ The scrape stopped with an error; the details are in the bot's log. "
    "Try /scrape again in a few minutes."
)


def progress_text(update: ScrapeProgress) -> str:
    """One line for the live message, e.g. "🔎 Checking 12/40 homes…"."""
    if update.phase == "sitemap":
        return "🔎 Reading the builder's sitemap…"
    if update.phase == "homes":
        return f"🔎 Checking {update.done:,}/{update.total:,} homes…"
    if update.phase == "saving":
        return f"💾 Saving {update.done:,}/{update.total:,} homes…"
    return "✅ Finishing…"


def summary_text(summary: ScrapeSummary, base_url: str) -> str:
    """The pass's summary as the final message (HTML)."""
    if summary.site_unreachable:
        failure = summary.failures[0] if summary.failures else None
        why = f" ({escape(failure.reason)})" if failure else ""
        return (
            f"❌ Could not read the builder's sitemap at {escape(base_url)}{why}. "
            "Check LISTINGS_BASE_URL, then try /scrape again."
        )
    lines = [
        f"✅ {bold('Scrape finished')} in {summary.duration_s:.1f} s",
        f"Checked {summary.checked:,} homes: {summary.new:,} new, {summary.changed:,} changed, "
        f"{summary.unchanged:,} unchanged.",
        f"Price changes: {summary.price_changes:,} · Sold/off market: {summary.sold:,} · "
        f"Failed: {summary.failed:,}",
        f"Requests made: {summary.requests:,}",
    ]
    note = summary.deadline_note()
    if note:
        lines.insert(1, f"⏱ {escape(note)}")
    if not summary.sitemap_ok:
        lines.append("⚠️ The sitemap was not read completely, so no home was marked off the market.")
    if summary.failures:
        lines.append("")
        lines.append(bold("Failed:"))
        for failure in summary.failures[:MAX_FAILURES_SHOWN]:
            lines.append(f"• {escape(failure.url)} — {escape(failure.reason)}")
        hidden = len(summary.failures) - MAX_FAILURES_SHOWN
        if hidden > 0:
            lines.append(f"… and {hidden:,} more (see the bot's log).")
    return fit_text("\n".join(lines))


class LiveMessage:
    """Shows the latest progress in one message, edited at most once per `interval` seconds.

    The pass only records its progress (it never waits for Telegram); a ticker edits the
    message when the text changed.
    """

    def __init__(self, message: Message, interval: float = EDIT_INTERVAL_S) -> None:
        self._message = message
        self._interval = interval
        self._latest: str | None = None
        self._shown = message.text_html if message.text else ""
        self._last_edit = asyncio.get_running_loop().time()
        self._ticker: asyncio.Task[None] | None = None

    def __call__(self, update: ScrapeProgress) -> None:
        self._latest = progress_text(update)

    def start(self) -> None:
        """Start editing in the background."""
        self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._latest is not None and self._latest != self._shown:
                await self._edit(self._latest)

    async def _edit(self, text: str) -> None:
        self._last_edit = asyncio.get_running_loop().time()
        self._shown = text
        try:
            await self._message.edit_text(text)
        except TelegramError as exc:  # e.g. flood control: the next edit shows newer news
            log.info("scrape progress edit skipped", extra={"error": str(exc)})

    async def finish(self, text: str) -> None:
        """Stop the ticker and show `text`, keeping the pace of one edit per interval."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        wait = self._last_edit + self._interval - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
        await self._edit(text)


@handles_message(admin=True)
async def scrape_command(c: Command) -> None:
    """/scrape: check the builder's site now; one message shows progress, then the summary."""
    if scrape_running():
        await c.reply(escape(ALREADY_RUNNING))
        return
    rt = c.rt
    live = LiveMessage(await c.reply(STARTING))
    live.start()
    try:
        summary = await run_now(rt, progress=live)
    except ScrapeAlreadyRunning as exc:  # the scheduled job started in the meantime
        await live.finish(escape(exc.message))
        return
    except Exception:
        log.exception("/scrape pass failed")
        await live.finish(CRASHED)
        return
    log.info("scrape pass (from /scrape)", extra=summary.log_fields())
    await live.finish(summary_text(summary, rt.settings.listings_base))


def register(app: App) -> None:
    """Add /scrape to the application."""
    app.add_handler(CommandHandler("scrape", scrape_command, filters=filters.ChatType.PRIVATE))
