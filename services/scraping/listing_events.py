"""What a scrape pass tells the rest of the product, after each batch is committed: new
homes, price changes, homes that left the market and status changes (`ListingEvents`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol

log = logging.getLogger(__name__)


class PriceChange(NamedTuple):
    """A listing's price moved from `old` to `new` (either may be None: no price shown)."""

    listing_id: uuid.UUID
    old: Decimal | None
    new: Decimal | None


class StatusChange(NamedTuple):
    """A stored listing's status moved from `old` to `new`; `change_id` names the event (its
    status-history row), so whoever acts on it can do so once."""

    change_id: uuid.UUID
    listing_id: uuid.UUID
    old: str
    new: str


class ListingEvents(Protocol):
    """What the rest of the product hears from a pass, after the data is committed.

    Called once per saved batch (and once for homes that left the sitemap). What a
    method returns is ignored; an exception is logged and does not stop the pass. The
    ids are listings on the market (a home first seen already sold raises no `on_new`).
    """

    async def on_new(self, listing_ids: Sequence[uuid.UUID]) -> object:
        """New homes were saved and assigned to agents."""
        ...

    async def on_price_change(self, changes: Sequence[PriceChange]) -> object:
        """Homes still on the market changed price."""
        ...

    async def on_sold(self, listing_ids: Sequence[uuid.UUID]) -> object:
        """Homes became `sold` (badge) or `off_market` (gone from the sitemap)."""
        ...

    async def on_status_change(self, changes: Sequence[StatusChange]) -> object:
        """Stored homes changed status (after `on_sold` for the same batch)."""
        ...


async def emit(
    events: ListingEvents | None,
    new: Sequence[uuid.UUID],
    prices: Sequence[PriceChange],
    sold: Sequence[uuid.UUID],
    statuses: Sequence[StatusChange] = (),
) -> None:
    """Hand committed changes to the hook; its failures are logged, never raised."""
    if events is None:
        return
    calls: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    if new:
        calls.append(("on_new", lambda: events.on_new(list(new))))
    if prices:
        calls.append(("on_price_change", lambda: events.on_price_change(list(prices))))
    if sold:
        calls.append(("on_sold", lambda: events.on_sold(list(sold))))
    if statuses:
        calls.append(("on_status_change", lambda: events.on_status_change(list(statuses))))
    for name, call in calls:
        try:
            await call()
        except Exception:
            log.exception("listing events hook %s failed; the pass goes on", name)
