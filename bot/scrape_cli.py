"""`rltr-mktg scrape`: one pass now, a progress bar on stderr, then a summary table."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from services.context import Database, open_database
from services.drafting.listing_drafts import DraftMaker, DraftRun
from services.generation.writer_factory import build_writer, close_writer
from services.scraping.listing_events import PriceChange, StatusChange
from services.scraping.scrape_pass import (
    FetcherFactory,
    ScrapeProgress,
    ScrapeRunningElsewhere,
    ScrapeSummary,
    run_scrape_pass,
)
from services.settings import Settings

EXIT_UNREACHABLE = 2
MAX_FAILURES_SHOWN = 10
_PLAIN_EVERY_S = 2.0  # how often plain (non-TTY) progress lines are printed at most

_LABELS = {
    "sitemap": "Reading the sitemap",
    "homes": "Checking homes",
    "saving": "Saving",
}


class DraftingEvents:
    """The drafts service as the pass's ListingEvents, counting the drafts it wrote."""

    def __init__(self, maker: DraftMaker) -> None:
        self.maker = maker
        self.created = 0
        self.failed = 0

    def _count(self, run: DraftRun) -> None:
        self.created += len(run.created)
        self.failed += run.failed

    async def on_new(self, listing_ids: Sequence[uuid.UUID]) -> None:
        """Drafts for new homes."""
        self._count(await self.maker.new_listings(listing_ids))

    async def on_price_change(self, changes: Sequence[PriceChange]) -> None:
        """Price-improvement drafts for price drops."""
        self._count(await self.maker.price_drops(changes))

    async def on_sold(self, listing_ids: Sequence[uuid.UUID]) -> None:
        """The pass itself withdraws the drafts of sold homes; the service may add more."""
        await self.maker.on_sold(listing_ids)

    async def on_status_change(self, changes: Sequence[StatusChange]) -> None:
        """`now selling`, `just sold` and back-on-the-market drafts."""
        self._count(await self.maker.lifecycle(changes))


@asynccontextmanager
async def listing_events(database: Database, settings: Settings) -> AsyncIterator[DraftingEvents]:
    """Drafts for new homes and price drops during a CLI scrape, as the bot's job makes them.

    The drafts wait in the database; the running bot's delivery job pushes them to agents.
    """
    key = settings.openai_api_key
    writer = build_writer(
        api_key=key.get_secret_value() if key is not None else None,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
    )
    try:
        yield DraftingEvents(
            DraftMaker(
                database,
                writer,
                default_timezone=settings.default_timezone,
                builder_name=settings.builder_name,
            )
        )
    finally:
        await close_writer(writer)


class _ProgressDisplay:
    """A rich progress bar on a terminal; plain, throttled lines otherwise (e.g. CI logs)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = console.is_terminal
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._last_line = 0.0
        self._last_phase = ""

    def __enter__(self) -> Self:
        if self._live:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, update: ScrapeProgress) -> None:
        if update.phase == "done":
            return
        if self._progress is not None:
            self._bar(update, self._progress)
        else:
            self._line(update)

    def _bar(self, update: ScrapeProgress, progress: Progress) -> None:
        task = self._tasks.get(update.phase)
        if task is None:
            task = progress.add_task(_LABELS[update.phase], total=update.total)
            self._tasks[update.phase] = task
        progress.update(task, completed=update.done, total=update.total)

    def _line(self, update: ScrapeProgress) -> None:
        now = time.monotonic()
        finished = update.done >= update.total
        new_phase = update.phase != self._last_phase
        if not (new_phase or finished or now - self._last_line >= _PLAIN_EVERY_S):
            return
        if update.phase == "sitemap":
            text = "sitemap read" if finished else "reading the sitemap…"
        elif update.phase == "homes":
            text = f"checked {update.done}/{update.total} homes"
        else:
            text = f"saved {update.done}/{update.total} homes"
        self._console.print(f"scrape: {text}", highlight=False, soft_wrap=True)
        self._last_line, self._last_phase = now, update.phase


def summary_table(summary: ScrapeSummary, drafts: DraftingEvents | None = None) -> Table:
    """The pass's counters (and the drafts written, if any hook ran) as a table."""
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("Checked", f"{summary.checked:,}"),
        ("New", f"{summary.new:,}"),
        ("Changed", f"{summary.changed:,}"),
        ("Unchanged", f"{summary.unchanged:,}"),
        ("Price changes", f"{summary.price_changes:,}"),
        ("Sold / off market", f"{summary.sold:,}"),
        ("Failed", f"{summary.failed:,}"),
        ("Requests made", f"{summary.requests:,}"),
        ("Duration", f"{summary.duration_s:.1f} s"),
    ]
    if drafts is not None:
        rows.insert(6, ("Drafts written", f"{drafts.created:,}"))
        if drafts.failed:
            rows.insert(7, ("Drafts to retry", f"{drafts.failed:,}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _print_summary(
    console: Console, summary: ScrapeSummary, base_url: str, drafts: DraftingEvents | None
) -> None:
    console.print(f"Scrape of {base_url}", highlight=False, soft_wrap=True)
    console.print(summary_table(summary, drafts))
    note = summary.deadline_note()
    if note:
        console.print(note, highlight=False, soft_wrap=True)
    if not summary.sitemap_ok:
        console.print(
            "The sitemap was not read completely, so no home was marked off the market.",
            highlight=False,
        )
    for failure in summary.failures[:MAX_FAILURES_SHOWN]:
        console.print(f"Failed: {failure.url} — {failure.reason}", highlight=False, soft_wrap=True)
    hidden = len(summary.failures) - MAX_FAILURES_SHOWN
    if hidden > 0:
        console.print(f"… and {hidden} more failures (see the log).", highlight=False)


async def run_scrape_once(
    settings: Settings,
    *,
    fetcher_factory: FetcherFactory | None = None,
    out: Console | None = None,
    err: Console | None = None,
) -> int:
    """One scrape pass with a progress bar and a summary; returns the exit code.

    0 when the pass ran (also when some homes failed: they are listed), 2 with one
    sentence on stderr when the builder's sitemap cannot be read at all.
    """
    out = out or Console()
    err = err or Console(stderr=True)
    base_url = settings.listings_base
    async with (
        open_database(settings) as database,
        listing_events(database, settings) as events,
    ):
        try:
            with _ProgressDisplay(err) as display:
                summary = await run_scrape_pass(
                    database,
                    base_url=base_url,
                    fetcher_factory=fetcher_factory,
                    progress=display,
                    events=events,
                    deadline_s=settings.scrape_pass_deadline_minutes * 60.0,
                )
        except ScrapeRunningElsewhere as exc:
            # Not a failure: that process's pass brings the listings up to date.
            out.print(exc.message, highlight=False)
            return 0
    if summary.site_unreachable:
        failure = summary.failures[0] if summary.failures else None
        where = failure.url if failure else f"{base_url}/homes-sitemap.xml"
        why = f" ({failure.reason})" if failure else ""
        print(
            f"rltr-mktg: could not read the builder's sitemap at {where}{why}; check "
            "LISTINGS_BASE_URL and the network, then run `rltr-mktg scrape` again.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    _print_summary(out, summary, base_url, events)
    return 0
