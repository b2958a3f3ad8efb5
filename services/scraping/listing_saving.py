"""Saving a batch of parsed homes in one unit of work: the listing columns and their content
hash, one upsert, price and status history, then assignment, notices and withdrawals."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from db.repositories import scraping as repo
from db.status import ListingStatus
from services.context import Database
from services.scraping.agent_assignment import assign_new
from services.scraping.listing_events import PriceChange, StatusChange
from services.scraping.models import ParsedHome
from services.scraping.scrape_notices import announce_prices
from services.scraping.withdrawals import back_on_market, leave_market

# A home in one of these statuses is not for sale.
_OFF_MARKET = (ListingStatus.SOLD.value, ListingStatus.OFF_MARKET.value)

REQUIRED_FIELDS: tuple[tuple[str, str], ...] = (
    ("address", "street address"),
    ("city", "city"),
    ("state", "state"),
    ("zip_code", "zip code"),
)


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


@dataclass
class SavedBatch:
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


def merge_batch(total: SavedBatch, batch: SavedBatch) -> None:
    """Add one saved batch's counts to the pass total."""
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


async def save_batch(database: Database, homes: Sequence[ParsedHome], now: datetime) -> SavedBatch:
    """Save `homes` in one unit of work; returns what changed and the events to raise."""
    out = SavedBatch()
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
        returning: list[uuid.UUID] = []
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
            elif old.status in _OFF_MARKET and values["status"] not in (None, *_OFF_MARKET):
                returning.append(listing_id)
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
        out.announced_new = await assign_new(session, new, now)
        await announce_prices(session, out.announced_prices, values_by_id)
        out.left_market = await leave_market(session, leaving, now)
        await back_on_market(session, returning, now)
    return out
