"""One scrape pass end to end: crawl the builder's site, then write what changed.

The pass reads what it knows (one SELECT), crawls with no transaction open, then saves
the fetched homes in batches, each batch one short unit of work: listings upserted in
one statement, price history, assignment of new homes to agents, notifications, and the
withdrawal of drafts for homes that were sold. A home's lastmod is written only with
the data it describes, so a pass that dies half-way leaves every saved batch whole and
the next pass fetches the rest again. Homes missing from a sitemap that was read
completely are counted last; on the second consecutive miss they go `off_market`.

Listing events (new home, price change, sold, any status change, each recorded in the
listing's status history) go to a `ListingEvents` hook after each batch commits; the drafts
service implements it. Nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.process_locks import SCRAPE_LOCK, try_advisory_lock
from db.repositories import ingest as repo
from db.repositories import transitions
from db.repositories.transitions import Request
from db.status import ListingStatus, NotificationType
from services import status_machine as machine
from services.context import Database
from services.errors import ConflictError
from services.notifying.notification_rows import notify
from services.scraping.crawl import crawl
from services.scraping.fetcher import FetchCache, PoliteFetcher
from services.scraping.listing_events import ListingEvents, PriceChange, StatusChange, emit
from services.scraping.models import (
    CrawlFailure,
    CrawlProgress,
    CrawlResult,
    ParsedHome,
    SitemapEntry,
)
from services.settings import DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES

log = logging.getLogger(__name__)

BATCH_SIZE = 200
"""Homes saved per unit of work (≈ 5,000 bound parameters in the upsert)."""
OFF_MARKET_AFTER = 2
"""Consecutive passes a home may be missing from the sitemap before it goes off_market."""

ALREADY_RUNNING = "A scrape pass is already running; wait for its summary, then try again."
RUNNING_ELSEWHERE = (
    "Another process is scraping the builder's site; its summary is in that process's log."
)
WITHDRAWN_SOLD = "Withdrawn automatically: the home is sold"
WITHDRAWN_OFF_MARKET = "Withdrawn automatically: the home is off the market"
REQUIRED_FIELDS: tuple[tuple[str, str], ...] = (
    ("address", "street address"),
    ("city", "city"),
    ("state", "state"),
    ("zip_code", "zip code"),
)

ScrapePhase = Literal["sitemap", "homes", "saving", "done"]


class ScrapeAlreadyRunning(ConflictError):
    """Another pass holds the lock in this process."""


class ScrapeRunningElsewhere(ScrapeAlreadyRunning):
    """Another process sharing the database is running a pass."""


@dataclass(frozen=True)
class ScrapeProgress:
    """Progress of a pass: `done` of `total` items in `phase`.

    Phases: `sitemap` (0/1 then 1/1), `homes` (pages fetched), `saving` (homes written),
    `done` (once, at the end).
    """

    phase: ScrapePhase
    done: int
    total: int


ProgressCallback = Callable[[ScrapeProgress], Awaitable[None] | None]
FetcherFactory = Callable[[str], PoliteFetcher]
"""Makes the pass's fetcher for the builder's base URL (the only site it may fetch from)."""


@dataclass(frozen=True)
class ScrapeSummary:
    """What one pass did.

    `checked`: homes in the sitemap; `unchanged`: homes not fetched (same lastmod) or
    fetched with identical content; `sold`: homes that left the market in this pass,
    `off_market` of them because they vanished from the sitemap; `failed`: pages or
    sitemaps that could not be used (details in `failures`); `requests`: every HTTP
    request made, robots.txt and retries included. `deadline_reached`: the pass stopped
    at its deadline (`deadline_s`) after `fetched` of the `to_fetch` homes to fetch.
    """

    checked: int
    new: int
    changed: int
    unchanged: int
    price_changes: int
    sold: int
    failed: int
    requests: int
    duration_s: float
    failures: list[CrawlFailure] = field(default_factory=list)
    off_market: int = 0
    sitemap_ok: bool = True
    warnings: list[CrawlFailure] = field(default_factory=list)
    deadline_reached: bool = False
    deadline_s: float | None = None
    to_fetch: int = 0
    fetched: int = 0

    @property
    def site_unreachable(self) -> bool:
        """The sitemap could not be read at all, so nothing was checked."""
        return not self.sitemap_ok and self.checked == 0

    def deadline_note(self) -> str | None:
        """One sentence when the pass stopped at its deadline, else None."""
        if not self.deadline_reached:
            return None
        limit = "its deadline"
        if self.deadline_s is not None and self.deadline_s >= 60:
            limit = f"the {round(self.deadline_s / 60)}-minute deadline"
        if self.site_unreachable:
            return f"Stopped at {limit} while reading the sitemap; the next pass starts over."
        return (
            f"Stopped at {limit} after {self.fetched:,} of {self.to_fetch:,} homes; "
            "the rest will be fetched next pass."
        )

    def log_fields(self) -> dict[str, Any]:
        """The counters as flat key/values for one structured log line."""
        return {
            "checked": self.checked,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "price_changes": self.price_changes,
            "sold": self.sold,
            "off_market": self.off_market,
            "failed": self.failed,
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "sitemap_ok": self.sitemap_ok,
            "deadline_reached": self.deadline_reached,
            "fetched": self.fetched,
            "to_fetch": self.to_fetch,
        }


_PASS_LOCK = asyncio.Lock()
_FETCH_CACHES: dict[str, FetchCache] = {}


def scrape_running(lock: asyncio.Lock | None = None) -> bool:
    """Whether a pass is running in this process."""
    return (lock or _PASS_LOCK).locked()


def default_fetcher(base_url: str) -> PoliteFetcher:
    """A polite fetcher for `base_url` whose robots.txt rules and sitemap validators outlive
    the pass.

    Sharing the cache per site is what makes an unchanged site cost only the sitemap
    request(s) on the next scheduled pass.
    """
    cache = _FETCH_CACHES.setdefault(base_url.rstrip("/"), FetchCache())
    return PoliteFetcher(base_url, cache=cache)


# -- listing values ------------------------------------------------------------------------


def missing_required(home: ParsedHome) -> list[str]:
    """Names of the NOT NULL address fields the page did not give."""
    return [label for attr, label in REQUIRED_FIELDS if not (getattr(home, attr) or "").strip()]


def listing_values(home: ParsedHome, now: datetime) -> dict[str, Any]:
    """The listing columns a pass writes for a parsed home (content_hash included)."""
    values: dict[str, Any] = {
        "source_url": home.source_url,
        "address": (home.address or "").strip(),
        "city": (home.city or "").strip(),
        "state": (home.state or "").strip(),
        "zip_code": (home.zip_code or "").strip(),
        "price": home.price,
        "beds": home.beds,
        "baths": home.baths,
        "sqft": home.sqft,
        "description": home.description,
        "key_features": list(home.key_features),
        "image_urls": list(home.image_urls),
        # A home page without a badge is still a home for sale.
        "status": home.status or ListingStatus.ACTIVE.value,
        "community": home.community,
        "plan_name": home.plan_name,
        "garage": home.garage,
        "latitude": home.latitude,
        "longitude": home.longitude,
        "school_district": home.school_district,
        "facts": dict(home.facts),
    }
    values["content_hash"] = content_hash(values)
    values.update(source_lastmod=home.source_lastmod, missed_passes=0, last_updated_at=now)
    return values


def content_hash(values: dict[str, Any]) -> str:
    """SHA-256 over the parsed fields: equal hashes mean nothing worth writing changed."""
    payload = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _same_price(a: Decimal | None, b: Decimal | None) -> bool:
    return a == b if a is not None and b is not None else a is b


# -- notification text ---------------------------------------------------------------------


def money(price: Decimal | None) -> str:
    """ "$349,990", or words when the site shows no price."""
    return f"${price:,.0f}" if price is not None else "no price shown"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def new_home_message(values: dict[str, Any]) -> str:
    """ "New home: 5127 SW 88th Place, Ocala — $289,990, 3 bd/2 ba"."""
    parts = [money(values.get("price"))]
    beds, baths = values.get("beds"), values.get("baths")
    if beds is not None or baths is not None:
        bd = "?" if beds is None else str(beds)
        ba = "?" if baths is None else _number(baths)
        parts.append(f"{bd} bd/{ba} ba")
    return f"New home: {values['address']}, {values['city']} — {', '.join(parts)}"


def price_change_message(address: str, city: str, old: Decimal | None, new: Decimal | None) -> str:
    """ "Price change: 5127 SW 88th Place, Ocala — $289,990 → $279,990"."""
    return f"Price change: {address}, {city} — {money(old)} → {money(new)}"


def left_market_message(address: str, city: str, status: str, withdrawn: int) -> str:
    """Sold or off the market, and how many of the agent's drafts were withdrawn."""
    if status == ListingStatus.SOLD:
        text = f"Sold: {address}, {city} is sold out."
    else:
        text = f"Off the market: {address}, {city} is no longer on the builder's site."
    if withdrawn:
        text += f" {withdrawn} draft{'s' if withdrawn != 1 else ''} withdrawn."
    return text


# -- the pass ------------------------------------------------------------------------------


class _Reporter:
    """Calls the progress callback (sync or async); a failing callback never stops the pass."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._failed = False

    async def __call__(self, phase: ScrapePhase, done: int, total: int) -> None:
        if self._callback is None:
            return
        try:
            maybe = self._callback(ScrapeProgress(phase=phase, done=done, total=total))
            if inspect.isawaitable(maybe):
                await maybe
        except Exception:
            if not self._failed:
                log.warning("scrape progress callback failed; the pass goes on", exc_info=True)
            self._failed = True

    async def crawl(self, progress: CrawlProgress) -> None:
        if progress.phase != "done":  # the pass is done only once it is saved
            await self(progress.phase, progress.done, progress.total)


@dataclass
class _Batch:
    """What saving one batch did, and the events to raise once it is committed."""

    written: set[str] = field(default_factory=set)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    price_changes: int = 0
    announced_new: list[uuid.UUID] = field(default_factory=list)
    announced_prices: list[PriceChange] = field(default_factory=list)
    left_market: list[uuid.UUID] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)


def _acquire(lock: asyncio.Lock | None) -> asyncio.Lock:
    guard = lock if lock is not None else _PASS_LOCK
    if guard.locked():
        raise ScrapeAlreadyRunning(ALREADY_RUNNING)
    return guard


@asynccontextmanager
async def _across_processes(database: Database) -> AsyncIterator[None]:
    """The pass lock shared by every process on the database, held for the whole pass."""
    async with try_advisory_lock(database.engine, SCRAPE_LOCK) as held:
        if not held:
            raise ScrapeRunningElsewhere(RUNNING_ELSEWHERE)
        yield


async def run_scrape_pass(
    database: Database,
    *,
    base_url: str,
    fetcher_factory: FetcherFactory | None = None,
    progress: ProgressCallback | None = None,
    events: ListingEvents | None = None,
    now: datetime | None = None,
    lock: asyncio.Lock | None = None,
    batch_size: int = BATCH_SIZE,
    deadline_s: float | None = DEFAULT_SCRAPE_PASS_DEADLINE_MINUTES * 60.0,
) -> ScrapeSummary:
    """Crawl `base_url` and bring the listings up to date; never two passes at once.

    `fetcher_factory(base_url)` makes the pass's fetcher (default: `default_fetcher`);
    `now` stamps every row written (default: the current time). Raises
    `ScrapeAlreadyRunning` at once when a pass holds `lock` (default: the process lock).
    Failed pages do not raise: they are counted in the summary. After `deadline_s`
    (None: no deadline) fetching stops; what was fetched is saved, and the homes not
    reached keep their old lastmod, so the next pass fetches them.
    """
    guard = _acquire(lock)
    async with guard, _across_processes(database):
        started = time.monotonic()
        report = _Reporter(progress)
        known = await _known(database)
        # An off-market home that reappears is fetched again to learn its badge.
        lastmods = {
            sid: st.source_lastmod
            for sid, st in known.items()
            if st.status != ListingStatus.OFF_MARKET.value
        }
        factory = fetcher_factory or default_fetcher
        async with factory(base_url) as fetcher:
            result = await crawl(
                fetcher, base_url, lastmods, progress=report.crawl, deadline_s=deadline_s
            )
        summary = await _save_result(
            database, result, known, report, events, now or utcnow(), batch_size, started
        )
        return replace(summary, deadline_s=deadline_s)


async def save_crawl_result(
    database: Database,
    result: CrawlResult,
    *,
    progress: ProgressCallback | None = None,
    events: ListingEvents | None = None,
    now: datetime | None = None,
    lock: asyncio.Lock | None = None,
    batch_size: int = BATCH_SIZE,
) -> ScrapeSummary:
    """The writing half of a pass, for a crawl made elsewhere (e.g. one crawl, two databases).

    Takes the same lock as `run_scrape_pass`; `duration_s` covers the writing only.
    """
    guard = _acquire(lock)
    async with guard, _across_processes(database):
        started = time.monotonic()
        known = await _known(database)
        return await _save_result(
            database,
            result,
            known,
            _Reporter(progress),
            events,
            now or utcnow(),
            batch_size,
            started,
        )


async def _known(database: Database) -> dict[str, repo.ListingState]:
    async with database.unit_of_work() as session:
        return await repo.all_listing_states(session)


async def _save_result(
    database: Database,
    result: CrawlResult,
    known: dict[str, repo.ListingState],
    report: _Reporter,
    events: ListingEvents | None,
    now: datetime,
    batch_size: int,
    started: float,
) -> ScrapeSummary:
    failures = list(result.failures)
    by_id: dict[str, ParsedHome] = {}  # one row per source_id: ON CONFLICT needs it
    for home in result.homes:
        missing = missing_required(home)
        if missing:
            reason = f"the page shows no {', '.join(missing)}; not saved"
            log.warning("scrape: %s skipped: %s", home.source_url, reason)
            failures.append(CrawlFailure(home.source_url, reason))
        else:
            by_id[home.source_id] = home
    homes = list(by_id.values())

    total = _Batch()
    size = max(1, batch_size)
    await report("saving", 0, len(homes))
    for start in range(0, len(homes), size):
        batch = await _save_batch(database, homes[start : start + size], now)
        _merge(total, batch)
        await emit(
            events,
            batch.announced_new,
            batch.announced_prices,
            batch.left_market,
            batch.status_changes,
        )
        await report("saving", min(start + size, len(homes)), len(homes))
    sold = len(total.left_market)

    gone, gone_changes = await _settle_missing(
        database, known, result.entries, result.sitemap_ok, total, now
    )
    await emit(events, [], [], gone, gone_changes)
    await report("done", len(homes), len(homes))

    summary = ScrapeSummary(
        checked=len(result.entries),
        new=total.new,
        changed=total.changed,
        unchanged=result.unchanged + total.unchanged,
        price_changes=total.price_changes,
        sold=sold + len(gone),
        off_market=len(gone),
        failed=len(failures),
        requests=result.requests_made,
        duration_s=time.monotonic() - started,
        failures=failures,
        sitemap_ok=result.sitemap_ok,
        warnings=list(result.warnings),
        deadline_reached=result.deadline_reached,
        to_fetch=result.to_fetch,
        fetched=result.fetched,
    )
    log.debug("scrape pass finished", extra=summary.log_fields())
    return summary


def _merge(total: _Batch, batch: _Batch) -> None:
    total.written |= batch.written
    total.new += batch.new
    total.changed += batch.changed
    total.unchanged += batch.unchanged
    total.price_changes += batch.price_changes
    total.left_market += batch.left_market


def _unchanged(old: repo.ListingState, values: dict[str, Any]) -> bool:
    return (
        old.content_hash == values["content_hash"]
        and old.status == values["status"]
        and old.missed_passes == 0
    )


async def _save_batch(database: Database, homes: Sequence[ParsedHome], now: datetime) -> _Batch:
    out = _Batch()
    async with database.unit_of_work() as session:
        states = await repo.listing_states(session, [h.source_id for h in homes])
        rows: list[dict[str, Any]] = []
        lastmods: list[tuple[uuid.UUID, datetime | None]] = []
        pending: dict[str, tuple[dict[str, Any], repo.ListingState | None]] = {}
        for home in homes:
            values = listing_values(home, now)
            old = states.get(home.source_id)
            if old is not None and _unchanged(old, values):
                if old.source_lastmod != home.source_lastmod:
                    lastmods.append((old.id, home.source_lastmod))
                out.unchanged += 1
                continue
            listing_id = old.id if old is not None else uuid.uuid4()
            rows.append(
                {"id": listing_id, "source_id": home.source_id, "scraped_at": now, **values}
            )
            pending[home.source_id] = (values, old)

        ids = await repo.upsert_listings(session, rows)
        await repo.update_lastmods(session, lastmods)

        new: list[tuple[uuid.UUID, dict[str, Any]]] = []
        history: list[PriceChange] = []
        statuses: list[tuple[uuid.UUID, str, str]] = []
        leaving: dict[uuid.UUID, str] = {}
        values_by_id: dict[uuid.UUID, dict[str, Any]] = {}
        for source_id, (values, old) in pending.items():
            listing_id = ids[source_id]
            values_by_id[listing_id] = values
            out.written.add(source_id)
            if old is None:
                out.new += 1
                new.append((listing_id, values))
                continue
            out.changed += 1
            if old.status is not None and old.status != values["status"]:
                statuses.append((listing_id, old.status, values["status"]))
            sold_now = values["status"] == ListingStatus.SOLD and old.status != ListingStatus.SOLD
            if sold_now:
                leaving[listing_id] = ListingStatus.SOLD.value
            if not _same_price(old.price, values["price"]):
                change = PriceChange(listing_id, old.price, values["price"])
                history.append(change)
                if values["status"] != ListingStatus.SOLD:
                    out.announced_prices.append(change)
        await repo.add_price_changes(session, history, now)
        out.status_changes = [
            StatusChange(*row) for row in await repo.add_status_changes(session, statuses, now)
        ]
        out.price_changes = len(history)
        out.announced_new = await _assign_new(session, new, now)
        await _announce_prices(session, out.announced_prices, values_by_id)
        out.left_market = await _leave_market(session, leaving, now)
    return out


def _matches(areas: repo.AgentAreas, values: dict[str, Any]) -> bool:
    if not areas.cities and not areas.communities:
        return True
    city = str(values.get("city") or "").strip().lower()
    community = str(values.get("community") or "").strip().lower()
    return (bool(city) and city in areas.cities) or (
        bool(community) and community in areas.communities
    )


async def _assign_new(
    session: AsyncSession, new: Sequence[tuple[uuid.UUID, dict[str, Any]]], now: datetime
) -> list[uuid.UUID]:
    """Assign new homes to matching agents and tell them; returns the on-market ids."""
    if not new:
        return []
    agents = await repo.active_agents_with_areas(session)
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    on_market: list[uuid.UUID] = []
    for listing_id, values in new:
        announce = values["status"] != ListingStatus.SOLD
        if announce:
            on_market.append(listing_id)
        for areas in agents:
            if not _matches(areas, values):
                continue
            pairs.append((areas.agent.id, listing_id))
            if announce:
                await notify(
                    session,
                    areas.agent,
                    NotificationType.LISTING_INGESTED,
                    new_home_message(values),
                    related_entity_id=listing_id,
                )
    await repo.assign_listings(session, pairs, now)
    return on_market


async def assign_existing_listings(session: AsyncSession, agent_id: uuid.UUID) -> int:
    """Give an agent the homes on the market that match their areas; idempotent.

    For onboarding or a change of areas: new homes are assigned by the pass itself.
    Returns how many listings were newly assigned.
    """
    found = await repo.active_agents_with_areas(session, agent_id)
    if not found:
        return 0
    areas = found[0]
    pairs = [
        (agent_id, listing_id)
        for listing_id, city, community in await repo.on_market_places(session)
        if _matches(areas, {"city": city, "community": community})
    ]
    return await repo.assign_listings(session, pairs, utcnow())


async def _announce_prices(
    session: AsyncSession,
    changes: Sequence[PriceChange],
    values_by_id: dict[uuid.UUID, dict[str, Any]],
) -> None:
    if not changes:
        return
    by_listing = {c.listing_id: c for c in changes}
    for listing_id, agent in await repo.assigned_agents(session, list(by_listing)):
        change, values = by_listing[listing_id], values_by_id[listing_id]
        await notify(
            session,
            agent,
            NotificationType.LISTING_PRICE_CHANGED,
            price_change_message(values["address"], values["city"], change.old, change.new),
            related_entity_id=listing_id,
        )


async def withdraw_drafts(
    session: AsyncSession, feedback_by_listing: dict[uuid.UUID, str], now: datetime
) -> list[repo.WithdrawnPiece]:
    """Reject the not-yet-posted drafts of homes that left the market, each with an audit
    row carrying its listing's sentence, and cancel every pending post of these homes.

    The drafts are read locked first (db.repositories.ingest.withdrawal_candidates), so the
    status each one is withdrawn from is the one its audit row names."""
    listing_ids = list(feedback_by_listing)
    withdrawn: list[repo.WithdrawnPiece] = []
    for w in await repo.withdrawal_candidates(session, listing_ids):
        t = (
            machine.WITHDRAW_APPROVED
            if w.from_status in machine.WITHDRAW_APPROVED.from_statuses
            else machine.WITHDRAW
        )
        req = Request(
            w.piece_id,
            feedback=feedback_by_listing[w.listing_id],
            audit_from=w.from_status,
            now=now,
        )
        if await transitions.apply_in(session, t, req) is not None:
            withdrawn.append(w)
    if listing_ids:
        await repo.cancel_listing_posts(session, listing_ids, now)
    return withdrawn


async def _leave_market(
    session: AsyncSession, statuses: dict[uuid.UUID, str], now: datetime
) -> list[uuid.UUID]:
    """Withdraw the drafts of homes that left the market and tell their agents."""
    if not statuses:
        return []
    feedback = {
        listing_id: WITHDRAWN_SOLD if status == ListingStatus.SOLD else WITHDRAWN_OFF_MARKET
        for listing_id, status in statuses.items()
    }
    withdrawn = await withdraw_drafts(session, feedback, now)
    per_agent = Counter((w.agent_id, w.listing_id) for w in withdrawn)
    briefs = await repo.listing_briefs(session, list(statuses))
    for listing_id, agent in await repo.assigned_agents(session, list(statuses)):
        brief = briefs[listing_id]
        await notify(
            session,
            agent,
            NotificationType.LISTING_SOLD,
            left_market_message(
                brief.address,
                brief.city,
                statuses[listing_id],
                per_agent[(agent.id, listing_id)],
            ),
            related_entity_id=listing_id,
        )
    if withdrawn:
        log.info(
            "drafts withdrawn for homes off the market",
            extra={"drafts": len(withdrawn), "listings": len(statuses)},
        )
    return list(statuses)


async def _settle_missing(
    database: Database,
    known: dict[str, repo.ListingState],
    entries: Sequence[SitemapEntry],
    sitemap_ok: bool,
    written: _Batch,
    now: datetime,
) -> tuple[list[uuid.UUID], list[StatusChange]]:
    """Count homes missing from the sitemap; reset the count of homes seen again. Returns
    the homes that went off the market and their status changes.

    Nothing is counted from a sitemap that was not read completely, nor from one that
    lists no home at all while we know some (a broken site, not a sold-out builder).
    """
    seen = {entry.source_id for entry in entries}
    reset = [
        st.id
        for sid, st in known.items()
        if sid in seen and st.missed_passes > 0 and sid not in written.written
    ]
    missing: list[uuid.UUID] = []
    if sitemap_ok and (seen or not known):
        missing = [
            st.id
            for sid, st in known.items()
            if sid not in seen and st.missed_passes < OFF_MARKET_AFTER
        ]
    elif sitemap_ok:
        log.warning("scrape: the sitemap lists no homes; not counting any listing as missing")
    if not reset and not missing:
        return [], []
    old_status = {st.id: st.status for st in known.values()}
    async with database.unit_of_work() as session:
        await repo.reset_missed_passes(session, reset)
        gone = await repo.record_missed_pass(session, missing, off_market_after=OFF_MARKET_AFTER)
        await _leave_market(session, dict.fromkeys(gone, ListingStatus.OFF_MARKET.value), now)
        rows = await repo.add_status_changes(
            session,
            [
                (
                    listing_id,
                    old_status.get(listing_id) or ListingStatus.ACTIVE.value,
                    ListingStatus.OFF_MARKET.value,
                )
                for listing_id in gone
            ],
            now,
        )
    return gone, [StatusChange(*row) for row in rows]
