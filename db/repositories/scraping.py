"""The statements of a scrape pass: listing upserts, price history, assignment, withdrawals.

Every function runs inside the caller's unit of work and issues few statements: the
listings of a batch are written with one multi-row `INSERT … ON CONFLICT (source_id) DO
UPDATE`, and id lists are sent in chunks that stay under both drivers' parameter limits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Agent,
    AgentListing,
    AgentServiceArea,
    ContentPiece,
    Listing,
    ListingPriceChange,
    ListingStatusChange,
    PostSchedule,
)
from db.status import (
    AreaKind,
    ContentPurpose,
    ContentStatus,
    ListingStatus,
    ScheduleStatus,
)

T = TypeVar("T")

# Well under SQLite's 32,766 and asyncpg's 32,767 bound parameters per statement.
ID_CHUNK = 1000

# Columns a scrape writes; `id`, `source_id` and `scraped_at` are kept on update.
LISTING_COLUMNS: tuple[str, ...] = (
    "source_url",
    "address",
    "city",
    "state",
    "zip_code",
    "price",
    "beds",
    "baths",
    "sqft",
    "description",
    "key_features",
    "image_urls",
    "status",
    "community",
    "plan_name",
    "garage",
    "latitude",
    "longitude",
    "school_district",
    "facts",
    "source_lastmod",
    "content_hash",
    "missed_passes",
    "last_updated_at",
)

# Drafts that were never posted and can simply be withdrawn.
WITHDRAWABLE: tuple[str, ...] = (
    ContentStatus.DRAFT.value,
    ContentStatus.PENDING_APPROVAL_AGENT.value,
    ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value,
    ContentStatus.PENDING_AI_REVISION.value,
)
# Statuses a listing leaves when it goes off the market (sold stays sold).
ON_MARKET: tuple[str, ...] = (ListingStatus.ACTIVE.value, ListingStatus.UPCOMING.value)


@dataclass(frozen=True)
class ListingState:
    """What a pass needs to know about a stored listing to decide what to write."""

    id: uuid.UUID
    source_id: str
    source_lastmod: datetime | None
    content_hash: str | None
    status: str | None
    price: Decimal | None
    missed_passes: int


@dataclass(frozen=True)
class ListingBrief:
    """The few facts a notification about a listing mentions."""

    id: uuid.UUID
    address: str
    city: str
    price: Decimal | None
    beds: int | None
    baths: Decimal | None


@dataclass(frozen=True)
class AgentAreas:
    """An active agent and the areas they market (lower-cased); both empty means everything."""

    agent: Agent
    cities: frozenset[str]
    communities: frozenset[str]


@dataclass(frozen=True)
class WithdrawnPiece:
    """A draft withdrawn because its home left the market."""

    piece_id: uuid.UUID
    agent_id: uuid.UUID
    listing_id: uuid.UUID
    from_status: str
    version: int


def _chunks(items: Sequence[T], size: int = ID_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dialect_insert(session: AsyncSession) -> Any:
    name = session.get_bind().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


_STATE_COLUMNS = (
    Listing.id,
    Listing.source_id,
    Listing.source_lastmod,
    Listing.content_hash,
    Listing.status,
    Listing.price,
    Listing.missed_passes,
)


def _state(row: Any) -> ListingState:
    return ListingState(
        id=row[0],
        source_id=row[1],
        source_lastmod=row[2],
        content_hash=row[3],
        status=row[4],
        price=row[5],
        missed_passes=int(row[6] or 0),
    )


async def all_listing_states(session: AsyncSession) -> dict[str, ListingState]:
    """source_id → state of every stored listing (one SELECT of a few narrow columns)."""
    result = await session.execute(select(*_STATE_COLUMNS))
    return {row[1]: _state(row) for row in result.all()}


async def listing_states(
    session: AsyncSession, source_ids: Sequence[str]
) -> dict[str, ListingState]:
    """source_id → state of the stored listings among `source_ids`."""
    found: dict[str, ListingState] = {}
    for chunk in _chunks(list(source_ids)):
        result = await session.execute(
            select(*_STATE_COLUMNS).where(Listing.source_id.in_(list(chunk)))
        )
        found.update({row[1]: _state(row) for row in result.all()})
    return found


async def upsert_listings(
    session: AsyncSession, rows: Sequence[dict[str, Any]]
) -> dict[str, uuid.UUID]:
    """Insert or update listings by source_id in one statement; returns source_id → id.

    Each row carries `id`, `source_id`, `scraped_at` and every column of LISTING_COLUMNS;
    on conflict only LISTING_COLUMNS are overwritten.
    """
    if not rows:
        return {}
    ins = _dialect_insert(session)
    stmt = ins(Listing).values(list(rows))
    stmt = stmt.on_conflict_do_update(
        index_elements=[Listing.source_id],
        set_={name: getattr(stmt.excluded, name) for name in LISTING_COLUMNS},
    ).returning(Listing.source_id, Listing.id)
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return {source_id: listing_id for source_id, listing_id in result.all()}


async def update_lastmods(
    session: AsyncSession, changes: Sequence[tuple[uuid.UUID, datetime | None]]
) -> None:
    """Remember a new sitemap lastmod for homes whose content did not change (executemany)."""
    if not changes:
        return
    await session.execute(
        update(Listing),
        [{"id": listing_id, "source_lastmod": lastmod} for listing_id, lastmod in changes],
    )


async def add_price_changes(
    session: AsyncSession,
    changes: Sequence[tuple[uuid.UUID, Decimal | None, Decimal | None]],
    now: datetime,
) -> None:
    """One price-history row per change (one multi-row INSERT)."""
    if not changes:
        return
    await session.execute(
        insert(ListingPriceChange).values(
            [
                {
                    "id": uuid.uuid4(),
                    "listing_id": listing_id,
                    "old_price": old,
                    "new_price": new,
                    "changed_at": now,
                }
                for listing_id, old, new in changes
            ]
        )
    )


async def add_status_changes(
    session: AsyncSession,
    changes: Sequence[tuple[uuid.UUID, str, str]],
    now: datetime,
) -> list[tuple[uuid.UUID, uuid.UUID, str, str]]:
    """One status-history row per (listing id, old, new); returns (row id, listing id, old,
    new), the row id naming the event."""
    if not changes:
        return []
    made = [(uuid.uuid4(), listing_id, old, new) for listing_id, old, new in changes]
    await session.execute(
        insert(ListingStatusChange).values(
            [
                {
                    "id": change_id,
                    "listing_id": listing_id,
                    "old_status": old,
                    "new_status": new,
                    "changed_at": now,
                }
                for change_id, listing_id, old, new in made
            ]
        )
    )
    return made


async def active_agents_with_areas(
    session: AsyncSession, agent_id: uuid.UUID | None = None
) -> list[AgentAreas]:
    """Every active agent (or only `agent_id`) with the cities and communities they market."""
    stmt = select(Agent).where(Agent.is_active.is_(True))
    if agent_id is not None:
        stmt = stmt.where(Agent.id == agent_id)
    agents = (await session.execute(stmt)).scalars()
    by_id = {agent.id: agent for agent in agents}
    if not by_id:
        return []
    areas: dict[uuid.UUID, tuple[set[str], set[str]]] = {a: (set(), set()) for a in by_id}
    result = await session.execute(
        select(AgentServiceArea.agent_id, AgentServiceArea.kind, AgentServiceArea.value).where(
            AgentServiceArea.agent_id.in_(list(by_id))
        )
    )
    for agent_id, kind, value in result.all():
        cities, communities = areas[agent_id]
        (cities if kind == AreaKind.CITY.value else communities).add(str(value).lower())
    return [
        AgentAreas(agent=by_id[a], cities=frozenset(c), communities=frozenset(m))
        for a, (c, m) in areas.items()
    ]


async def assign_listings(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], now: datetime
) -> int:
    """Assign (agent_id, listing_id) pairs; returns how many were not assigned before."""
    added = 0
    ins = _dialect_insert(session)
    for chunk in _chunks(list(dict.fromkeys(pairs)), 5000):
        stmt = ins(AgentListing).values(
            [{"agent_id": a, "listing_id": lst, "assigned_at": now} for a, lst in chunk]
        )
        result = await session.execute(stmt.on_conflict_do_nothing())
        added += int(result.rowcount)  # type: ignore[attr-defined]
    return added


async def on_market_places(session: AsyncSession) -> list[tuple[uuid.UUID, str, str | None]]:
    """(id, city, community) of every active or upcoming listing."""
    result = await session.execute(
        select(Listing.id, Listing.city, Listing.community).where(Listing.status.in_(ON_MARKET))
    )
    return [(row[0], row[1], row[2]) for row in result.all()]


async def assigned_agents(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, Agent]]:
    """(listing_id, agent) for the active agents each listing is assigned to."""
    pairs: list[tuple[uuid.UUID, Agent]] = []
    for chunk in _chunks(list(listing_ids)):
        result = await session.execute(
            select(AgentListing.listing_id, Agent)
            .join(Agent, Agent.id == AgentListing.agent_id)
            .where(AgentListing.listing_id.in_(list(chunk)), Agent.is_active.is_(True))
            .order_by(AgentListing.listing_id, Agent.id)
        )
        pairs.extend((listing_id, agent) for listing_id, agent in result.all())
    return pairs


async def listing_briefs(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ListingBrief]:
    """id → the facts a notification mentions."""
    briefs: dict[uuid.UUID, ListingBrief] = {}
    for chunk in _chunks(list(listing_ids)):
        result = await session.execute(
            select(
                Listing.id,
                Listing.address,
                Listing.city,
                Listing.price,
                Listing.beds,
                Listing.baths,
            ).where(Listing.id.in_(list(chunk)))
        )
        for row in result.all():
            briefs[row[0]] = ListingBrief(row[0], row[1], row[2], row[3], row[4], row[5])
    return briefs


async def reset_missed_passes(session: AsyncSession, listing_ids: Sequence[uuid.UUID]) -> None:
    """The sitemap lists these homes again: their count of missed passes starts over."""
    for chunk in _chunks(list(listing_ids)):
        await session.execute(
            update(Listing)
            .where(Listing.id.in_(list(chunk)), Listing.missed_passes > 0)
            .values(missed_passes=0)
            .execution_options(synchronize_session=False)
        )


async def record_missed_pass(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID], *, off_market_after: int
) -> list[uuid.UUID]:
    """Count one more pass these homes were missing from the sitemap.

    The count stops at `off_market_after` (so a long-gone home costs no writes); homes that
    reach it while on the market become `off_market`. Returns the ids that just did.
    """
    gone: list[uuid.UUID] = []
    for chunk in _chunks(list(listing_ids)):
        ids = list(chunk)
        await session.execute(
            update(Listing)
            .where(Listing.id.in_(ids), Listing.missed_passes < off_market_after)
            .values(missed_passes=Listing.missed_passes + 1)
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            update(Listing)
            .where(
                Listing.id.in_(ids),
                Listing.missed_passes >= off_market_after,
                or_(Listing.status.in_(ON_MARKET), Listing.status.is_(None)),
            )
            .values(status=ListingStatus.OFF_MARKET.value)
            .returning(Listing.id)
            .execution_options(synchronize_session=False)
        )
        gone.extend(result.scalars().all())
    return gone


async def withdrawal_candidates(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID], *, just_sold: bool = False
) -> list[WithdrawnPiece]:
    """The not-yet-posted drafts of these homes, locked: waiting for a decision, for
    marketing or for a rewrite, and approved drafts none of whose posts has gone out.

    A home that left the market keeps its `just sold` draft, written for exactly that
    moment; `just_sold` asks for only those instead (the home is for sale again).

    The withdrawal itself (services.status_machine.WITHDRAW*) checks "none has gone out"
    again: a post claimed after this read keeps its draft approved. On PostgreSQL this
    read locks the drafts (FOR UPDATE), so no claim takes one of their posts from then on
    (a claim locks the piece FOR KEY SHARE and skips a locked one) and one in flight is
    waited for.
    """
    if not listing_ids:
        return []
    started = exists().where(
        PostSchedule.content_piece_id == ContentPiece.id,
        PostSchedule.status.in_([ScheduleStatus.SENT.value, ScheduleStatus.SUCCESS.value]),
    )
    withdrawable = or_(
        ContentPiece.status.in_(WITHDRAWABLE),
        and_(ContentPiece.status == ContentStatus.APPROVED_FOR_POSTING.value, ~started),
    )
    withdrawn: list[WithdrawnPiece] = []
    for chunk in _chunks(listing_ids):
        candidates = (
            await session.execute(
                select(
                    ContentPiece.id,
                    ContentPiece.agent_id,
                    ContentPiece.listing_id,
                    ContentPiece.status,
                    ContentPiece.version,
                )
                .where(
                    ContentPiece.listing_id.in_(list(chunk)),
                    withdrawable,
                    ContentPiece.purpose == ContentPurpose.JUST_SOLD.value
                    if just_sold
                    else ContentPiece.purpose != ContentPurpose.JUST_SOLD.value,
                )
                .with_for_update()
            )
        ).all()
        withdrawn.extend(WithdrawnPiece(r[0], r[1], r[2], str(r[3]), int(r[4])) for r in candidates)
    return withdrawn


async def cancel_listing_posts(
    session: AsyncSession, listing_ids: Sequence[uuid.UUID], now: datetime
) -> None:
    """Cancel every pending post of these homes' drafts (a sold home is never advertised,
    whatever its draft's status)."""
    for chunk in _chunks(listing_ids):
        await session.execute(
            update(PostSchedule)
            .where(
                PostSchedule.status == ScheduleStatus.PENDING.value,
                PostSchedule.content_piece_id.in_(
                    select(ContentPiece.id).where(
                        ContentPiece.listing_id.in_(list(chunk)),
                        ContentPiece.purpose != ContentPurpose.JUST_SOLD.value,
                    )
                ),
            )
            .values(status=ScheduleStatus.CANCELLED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
