"""What each dashboard page shows, read for one viewer (an agent's user or an admin).

Every read passes `viewer.scope(...)` to the repositories: a user linked to an agent gets
that agent's rows whatever the request asks for; an admin gets everyone's, or one agent's
when the filter names one. Pages are keyset-paginated: a page's `next_cursor` is the
position of its last row, and the next page starts right after it.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import dashboard_audit as audit_repo
from db.repositories import dashboard_drafts as drafts_repo
from db.repositories import dashboard_listings as listings_repo
from db.repositories import dashboard_posts as posts_repo
from db.repositories._keyset import Cursor
from db.repositories.dashboard_audit import AuditFilter, AuditRow
from db.repositories.dashboard_drafts import DraftCard, PieceLog, PiecePost
from db.repositories.dashboard_listings import ListingLine, PriceHistoryEntry
from db.repositories.dashboard_posts import PostLine
from db.status import ApprovalAction, ContentStatus, ContentType, ListingStatus, ScheduleStatus
from services.context import Database
from services.dashboard_auth import Viewer
from services.rendering.price_svg import PricePoint, price_steps
from services.status_display import DISPLAY, dashboard_buttons

DRAFTS_PER_PAGE = 20
POSTS_PER_PAGE = 50
AUDIT_PER_PAGE = 50
LISTINGS_PER_PAGE = 20
DRAFTS_PER_LISTING = 5
NEXT_POSTS = 5
CSV_CHUNK = 5000

S = ContentStatus
# The dashboard's words for each status (services.status_display).
STATUS_LABELS: dict[str, str] = {s.value: row.label for s, row in DISPLAY.items()}
ACTION_LABELS: dict[str, str] = {
    ApprovalAction.APPROVED: "Approved",
    ApprovalAction.REJECTED: "Rejected",
    ApprovalAction.REQUESTED_REVISIONS: "Asked for changes",
    ApprovalAction.SENT_TO_MARKETING: "Sent to marketing",
    ApprovalAction.RECORDED_MARKETING_APPROVAL: "Marketing approved",
    ApprovalAction.EDITED: "Edited",
}
LISTING_STATUSES = tuple(s.value for s in ListingStatus)
CSV_COLUMNS = (
    "time",
    "agent",
    "agent_email",
    "action",
    "from_status",
    "to_status",
    "version",
    "home",
    "draft_id",
    "feedback",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def buttons_for(status: str, content_type: str) -> tuple[str, ...]:
    """The actions the dashboard offers on a draft in `status`: those of the Telegram
    buttons, but Revise (a conversation) and Flyer text; flyer text is only ever dismissed."""
    return tuple(b.value.replace("_", "-") for b in dashboard_buttons(status, content_type))


_PLATFORM_TEXTS = (("facebook_text", "Facebook"), ("instagram_text", "Instagram"))
_FLYER_PARTS = (
    ("headline", "Headline"),
    ("subheadline", "Subheadline"),
    ("description", "Description"),
    ("call_to_action", "Call to action"),
    ("agent_contact", "Agent contact"),
)


def platform_texts(generated_text: dict[str, Any], content_type: str) -> list[tuple[str, str]]:
    """(label, text) pairs: each platform's post exactly as it will be published, or the
    flyer text's parts (bullets as one "• " list)."""
    if content_type == ContentType.FLYER_TEXT:
        parts = [
            (label, str(generated_text[key]))
            for key, label in _FLYER_PARTS
            if generated_text.get(key)
        ]
        bullets = [str(b) for b in generated_text.get("bullets") or []]
        if bullets:
            at = sum(1 for label, _ in parts if label in ("Headline", "Subheadline"))
            parts.insert(at, ("Bullets", "\n".join(f"• {b}" for b in bullets)))
        return parts
    texts = [
        (label, str(generated_text[key]))
        for key, label in _PLATFORM_TEXTS
        if isinstance(generated_text.get(key), str) and generated_text[key].strip()
    ]
    if texts:
        return texts
    body = "\n\n".join(
        str(generated_text[k]) for k in ("headline", "body") if generated_text.get(k)
    )
    return [("Post", body)] if body else []


# -- cursors -----------------------------------------------------------------------------


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The position after a row, for a `?after=` link."""
    return f"{at.astimezone(UTC).isoformat()}~{row_id.hex}"


def decode_cursor(text: str | None) -> Cursor | None:
    """A position from a link; None (the first page) when it is missing or garbled."""
    if not text:
        return None
    when, sep, hexid = text.partition("~")
    if not sep:
        return None
    try:
        at = datetime.fromisoformat(when)
        row_id = uuid.UUID(hex=hexid)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return at, row_id


def _next(rows: Sequence[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """The page (first `limit` rows) and the cursor of the next one (None on the last)."""
    page = list(rows[:limit])
    if len(rows) <= limit or not page:
        return page, None
    at, row_id = key(page[-1])
    return page, encode_cursor(at, row_id)


# -- overview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """The first page: counts, what needs attention, the latest scrape, the next posts."""

    drafts_by_status: list[tuple[str, str, int]]
    waiting_for_agent: int
    waiting_for_marketing: int
    failed_drafts: int
    inactive_accounts: int
    latest_listing_change: datetime | None
    listings_by_status: dict[str, int]
    next_posts: list[PostLine]


async def overview(
    session: AsyncSession, viewer: Viewer, *, agent: uuid.UUID | None = None
) -> Overview:
    """Numbers at a glance for the viewer's scope."""
    scope = viewer.scope(agent)
    counts = await drafts_repo.count_by_status(session, agent_id=scope)
    ordered = [(s.value, STATUS_LABELS[s], counts.get(s.value, 0)) for s in ContentStatus]
    return Overview(
        drafts_by_status=[row for row in ordered if row[2]],
        waiting_for_agent=counts.get(S.PENDING_APPROVAL_AGENT.value, 0),
        waiting_for_marketing=counts.get(S.PENDING_EXTERNAL_MARKETING_APPROVAL.value, 0),
        failed_drafts=counts.get(S.POSTING_FAILED.value, 0),
        inactive_accounts=await posts_repo.count_inactive_accounts(session, agent_id=scope),
        latest_listing_change=await listings_repo.latest_change(session, agent_id=scope),
        listings_by_status=await listings_repo.count_by_status(session, agent_id=scope),
        next_posts=await posts_repo.upcoming(
            session, agent_id=scope, after_cursor=None, limit=NEXT_POSTS
        ),
    )


# -- drafts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftsPage:
    """A page of drafts."""

    drafts: list[DraftCard]
    next_cursor: str | None


async def drafts_page(
    session: AsyncSession,
    viewer: Viewer,
    *,
    status: str | None,
    agent: uuid.UUID | None,
    cursor: str | None,
) -> DraftsPage:
    """Drafts in `status` (None: all), most recently changed first."""
    rows = await drafts_repo.list_drafts(
        session,
        agent_id=viewer.scope(agent),
        status=status,
        after=decode_cursor(cursor),
        limit=DRAFTS_PER_PAGE + 1,
    )
    page, following = _next(rows, DRAFTS_PER_PAGE, lambda d: (d.updated_at, d.piece_id))
    return DraftsPage(page, following)


@dataclass(frozen=True)
class DraftDetail:
    """One draft with its posts and its audit trail."""

    draft: DraftCard
    posts: list[PiecePost]
    history: list[PieceLog]


async def draft_detail(
    session: AsyncSession, viewer: Viewer, piece_id: uuid.UUID
) -> DraftDetail | None:
    """A draft the viewer may see, or None (also when it is another agent's)."""
    scope = viewer.scope()
    draft = await drafts_repo.get_draft(session, agent_id=scope, piece_id=piece_id)
    if draft is None:
        return None
    return DraftDetail(
        draft=draft,
        posts=await drafts_repo.piece_posts(session, agent_id=scope, piece_id=piece_id),
        history=await drafts_repo.piece_logs(session, agent_id=scope, piece_id=piece_id),
    )


async def agent_choices(session: AsyncSession, viewer: Viewer) -> list[tuple[uuid.UUID, str]]:
    """The agents an admin can filter by (nothing for an agent's user)."""
    return await drafts_repo.agent_choices(session) if viewer.is_admin else []


# -- schedule and posts ------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """The posts of one day in the viewer's time zone."""

    day: date
    posts: list[PostLine]


@dataclass(frozen=True)
class SchedulePage:
    """Upcoming posts, grouped by day."""

    days: list[Day]
    next_cursor: str | None


async def schedule_page(
    session: AsyncSession, viewer: Viewer, *, agent: uuid.UUID | None, cursor: str | None
) -> SchedulePage:
    """Posts still to go out, soonest first, by day."""
    rows = await posts_repo.upcoming(
        session,
        agent_id=viewer.scope(agent),
        after_cursor=decode_cursor(cursor),
        limit=POSTS_PER_PAGE + 1,
    )
    page, following = _next(rows, POSTS_PER_PAGE, lambda p: (p.scheduled_at, p.post_id))
    zone = ZoneInfo(viewer.timezone)
    days = [
        Day(day, list(posts))
        for day, posts in groupby(page, key=lambda p: p.scheduled_at.astimezone(zone).date())
    ]
    return SchedulePage(days, following)


@dataclass(frozen=True)
class PostsPage:
    """Published posts, or failed ones."""

    show: str
    posts: list[PostLine]
    next_cursor: str | None


async def posts_page(
    session: AsyncSession,
    viewer: Viewer,
    *,
    failed: bool,
    agent: uuid.UUID | None,
    cursor: str | None,
) -> PostsPage:
    """Published posts with their links, or failures with their reason; latest first."""
    status = ScheduleStatus.FAILED.value if failed else ScheduleStatus.SUCCESS.value
    rows = await posts_repo.finished(
        session,
        agent_id=viewer.scope(agent),
        status=status,
        before_cursor=decode_cursor(cursor),
        limit=POSTS_PER_PAGE + 1,
    )
    page, following = _next(rows, POSTS_PER_PAGE, lambda p: (p.scheduled_at, p.post_id))
    return PostsPage("failed" if failed else "published", page, following)


# -- audit -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    """The audit filter as the viewer gave it (dates are days in the viewer's zone)."""

    agent: uuid.UUID | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def for_viewer(self, viewer: Viewer, *, until: datetime | None = None) -> AuditFilter:
        """The repository filter: the viewer's scope and the days as UTC instants."""
        zone = ZoneInfo(viewer.timezone)
        since = end = None
        if self.date_from is not None:
            since = datetime.combine(self.date_from, time(), zone).astimezone(UTC)
        if self.date_to is not None:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), zone).astimezone(UTC)
        if until is not None and (end is None or until < end):
            end = until
        return AuditFilter(viewer.scope(self.agent), self.action, since, end)


@dataclass(frozen=True)
class AuditPage:
    """A page of the audit log."""

    rows: list[AuditRow]
    next_cursor: str | None


async def audit_page(
    session: AsyncSession, viewer: Viewer, query: AuditQuery, *, cursor: str | None
) -> AuditPage:
    """Audit rows matching the filter, newest first."""
    rows = await audit_repo.audit_rows(
        session,
        query.for_viewer(viewer),
        after=decode_cursor(cursor),
        limit=AUDIT_PER_PAGE + 1,
    )
    page, following = _next(rows, AUDIT_PER_PAGE, lambda r: (r.at, r.log_id))
    return AuditPage(page, following)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (a formula) gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def audit_csv_line(row: AuditRow, zone: ZoneInfo) -> list[object]:
    """One audit row as CSV cells (time in the viewer's zone, ISO 8601); every text cell
    passes `safe_cell` (the time, the version and the id cannot start a formula)."""
    return [
        row.at.astimezone(zone).isoformat(timespec="seconds"),
        safe_cell(row.agent_name),
        safe_cell(row.agent_email),
        safe_cell(row.action_type),
        safe_cell(row.from_status),
        safe_cell(row.to_status),
        "" if row.version is None else row.version,
        safe_cell(f"{row.address}, {row.city}"),
        row.piece_id,
        safe_cell(row.feedback),
    ]


async def audit_csv(
    database: Database, viewer: Viewer, query: AuditQuery, *, now: datetime
) -> AsyncIterator[str]:
    """The audit rows the filter shows as CSV text, a chunk at a time.

    Each chunk is one short read (keyset: the next starts after the last row sent), so
    memory stays flat and no transaction stays open while the text goes out. Rows written
    after `now` are left out: the export is the log as it was when it was asked for.
    """
    which = query.for_viewer(viewer, until=now)
    zone = ZoneInfo(viewer.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    cursor: Cursor | None = None
    while True:
        async with database.unit_of_work() as session:
            rows = await audit_repo.audit_rows(session, which, after=cursor, limit=CSV_CHUNK)
        for row in rows:
            writer.writerow(audit_csv_line(row, zone))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < CSV_CHUNK:
            return
        cursor = (rows[-1].at, rows[-1].log_id)


# -- listings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingCard:
    """A home with its price over time and its drafts."""

    listing: ListingLine
    prices: list[PricePoint]
    changes: list[PriceHistoryEntry]
    drafts: list[DraftCard] = field(default_factory=list)


@dataclass(frozen=True)
class ListingsPage:
    """A page of homes."""

    listings: list[ListingCard]
    next_cursor: str | None


async def listings_page(
    session: AsyncSession,
    viewer: Viewer,
    *,
    status: str | None,
    search: str | None,
    agent: uuid.UUID | None,
    cursor: str | None,
    now: datetime,
) -> ListingsPage:
    """Homes, most recently changed first, each with its price history and drafts."""
    scope = viewer.scope(agent)
    rows = await listings_repo.list_listings(
        session,
        agent_id=scope,
        status=status,
        search=search,
        after=decode_cursor(cursor),
        limit=LISTINGS_PER_PAGE + 1,
    )
    page, following = _next(rows, LISTINGS_PER_PAGE, lambda x: (x.changed_at, x.listing_id))
    ids = [line.listing_id for line in page]
    histories = await listings_repo.price_histories(session, ids)
    cards = await drafts_repo.cards_for_listings(
        session, agent_id=scope, listing_ids=ids, per_listing=DRAFTS_PER_LISTING
    )
    by_listing: dict[uuid.UUID, list[DraftCard]] = {}
    for card in cards:
        by_listing.setdefault(card.listing_id, []).append(card)
    listings = []
    for line in page:
        changes = histories.get(line.listing_id, [])
        steps = price_steps(
            [(c.at, c.old_price, c.new_price) for c in changes], line.price, now, line.first_seen
        )
        listings.append(ListingCard(line, steps, changes, by_listing.get(line.listing_id, [])))
    return ListingsPage(listings, following)
