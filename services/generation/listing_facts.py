"""The facts the writers consume: plain frozen values, no ORM.

The DB-backed service turns a listing row and an agent row into these, so the writers and the
checks never touch a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_AGE_RESTRICTED = re.compile(
    r"\b(?:55|62)\s?(?:\+|plus\b|(?:and|&)\s+(?:over|older|up|better)\b)"
    r"|\bactive[- ]adult\b"
    r"|\bage[- ](?:restricted|qualified)\b"
    r"|\bhousing for older persons\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """Everything a writer may say about a home; anything else would be an invented fact."""

    source_id: str
    address: str
    city: str
    state: str
    zip_code: str
    price: Decimal | None
    beds: int | None
    baths: Decimal | None
    sqft: int | None
    garage: int | None
    plan_name: str | None
    community: str | None
    key_features: tuple[str, ...]
    description: str | None
    status: str
    image_urls: tuple[str, ...]
    source_url: str | None
    previous_price: Decimal | None = None

    @property
    def age_restricted(self) -> bool:
        """True when the listing itself says it is in a 55+ / active-adult community."""
        haystack = " ".join(
            [self.community or "", self.description or "", *self.key_features, self.plan_name or ""]
        )
        return bool(_AGE_RESTRICTED.search(haystack))

    def to_prompt_dict(self) -> dict[str, Any]:
        """JSON-ready facts for a model prompt, with display strings beside raw numbers."""
        return {
            "source_id": self.source_id,
            "address": self.address,
            "city": self.city,
            "state": self.state,
            "zip_code": self.zip_code,
            "price": _num(self.price),
            "price_display": format_price(self.price) if self.price is not None else None,
            "previous_price": _num(self.previous_price),
            "previous_price_display": (
                format_price(self.previous_price) if self.previous_price is not None else None
            ),
            "beds": self.beds,
            "baths": _num(self.baths),
            "sqft": self.sqft,
            "sqft_display": format_sqft(self.sqft) if self.sqft is not None else None,
            "garage_spaces": self.garage,
            "plan_name": self.plan_name,
            "community": self.community,
            "age_restricted_community": self.age_restricted,
            "key_features": list(self.key_features),
            "description": self.description,
            "status": self.status,
            "photo_count": len(self.image_urls),
            "source_url": self.source_url,
        }


DEFAULT_BUILDER_NAME = "Holiday Builders"


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """The agent a draft is written for: the call to action and the disclosure use these.

    `builder` is the home builder every post credits (`BUILDER_NAME`); `license_number` the
    agent's real-estate license, named in the disclosure when set.
    """

    name: str
    email: str
    company: str | None
    phone: str | None
    license_number: str | None = None
    builder: str = DEFAULT_BUILDER_NAME

    def to_prompt_dict(self) -> dict[str, Any]:
        """JSON-ready agent details for a model prompt."""
        return {
            "name": self.name,
            "email": self.email,
            "brokerage": self.company,
            "phone": self.phone,
            "license_number": self.license_number,
            "home_builder": self.builder,
        }


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def format_price(price: Decimal) -> str:
    """'$349,990' (cents only when there are any)."""
    if price == price.to_integral_value():
        return f"${int(price):,}"
    return f"${price:,.2f}"


def format_baths(baths: Decimal) -> str:
    """'2.5' or '2' — never '2.0'."""
    normalized = baths.normalize()
    if normalized == normalized.to_integral_value():
        return str(int(normalized))
    return format(normalized, "f")


def format_sqft(sqft: int) -> str:
    """'1,850'."""
    return f"{sqft:,}"


def plural(count: int | Decimal, singular: str, plural_form: str | None = None) -> str:
    """'1 bath', '2.5 baths'."""
    shown = format_baths(Decimal(count)) if isinstance(count, Decimal) else str(count)
    word = singular if Decimal(count) == 1 else (plural_form or singular + "s")
    return f"{shown} {word}"
