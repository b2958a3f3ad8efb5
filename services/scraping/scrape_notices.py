"""What agents are told about homes a pass saw: the wording of the new-home, price-change
and left-the-market notifications, and the price-change notifications themselves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import scraping as repo
from db.status import ListingStatus, NotificationType
from services.notifying.notification_rows import notify
from services.scraping.listing_events import PriceChange


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


async def announce_prices(
    session: AsyncSession,
    changes: Sequence[PriceChange],
    values_by_id: dict[uuid.UUID, dict[str, Any]],
) -> None:
    """Tell each agent assigned to a home that its price changed."""
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
