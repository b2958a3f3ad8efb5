"""Plain value objects produced by the scraper (no database types here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

ListingStatus = Literal["active", "upcoming", "sold"]
"""Statuses the builder's page badge can express (`off_market` is decided by the caller)."""

CrawlPhase = Literal["sitemap", "homes", "done"]


@dataclass(frozen=True)
class ParsedHome:
    """Everything one home page says, as plain Python values; a missing field is None."""

    source_id: str
    source_url: str
    status: ListingStatus | None
    plan_name: str | None
    beds: int | None
    baths: Decimal | None
    garage: int | None
    sqft: int | None
    price: Decimal | None
    address: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    latitude: float | None
    longitude: float | None
    community: str | None
    school_district: str | None
    community_description: str | None
    plan_description: str | None
    description: str | None
    key_features: list[str] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    # The value to remember and hand back to `crawl` as the known lastmod: the sitemap's
    # <lastmod> when the crawl had one, else the page's own modification time.
    source_lastmod: datetime | None = None
    facts: dict[str, str] = field(default_factory=dict)
    # The page's own modification time (meta article:modified_time or JSON-LD dateModified).
    page_modified: datetime | None = None


@dataclass(frozen=True)
class SitemapEntry:
    """One home listed in the sitemap: normalised URL, slug id, and <lastmod> in UTC."""

    url: str
    source_id: str
    lastmod: datetime | None


@dataclass(frozen=True)
class CrawlFailure:
    """A URL the pass could not use (or used with a caveat, in `CrawlResult.warnings`)."""

    url: str
    reason: str
    status: int | None = None  # the HTTP status when the server answered with an error


@dataclass(frozen=True)
class CrawlProgress:
    """Progress of a pass: `done` of `total` items in `phase`."""

    done: int
    total: int
    phase: CrawlPhase


@dataclass(frozen=True)
class CrawlResult:
    """Outcome of one pass.

    `entries` is every home in the sitemap; it is complete only when `sitemap_ok` is true,
    so a caller must never mark homes as gone from a pass whose sitemap failed.
    `homes` holds the homes fetched and parsed in this pass (new or changed lastmod).
    `requests_made` counts every HTTP request this pass sent, robots.txt and retries
    included; `robots_requests` is the robots.txt part of it.
    `warnings` lists pages that were ingested with a caveat (e.g. non-UTF-8 bytes).
    `deadline_reached`: the pass stopped at its deadline after `fetched` of the
    `to_fetch` homes that needed fetching; the others are not in `homes`.
    """

    entries: list[SitemapEntry]
    homes: list[ParsedHome]
    failures: list[CrawlFailure]
    requests_made: int
    sitemap_ok: bool
    duration_s: float
    warnings: list[CrawlFailure] = field(default_factory=list)
    robots_requests: int = 0
    sitemap_requests: int = 0
    unchanged: int = 0
    deadline_reached: bool = False
    to_fetch: int = 0
    fetched: int = 0


@dataclass(frozen=True)
class ParsedCommunity:
    """What a community page says that listings lack: its name, description and hours."""

    source_url: str
    name: str | None
    description: str | None
    sales_hours: list[str] = field(default_factory=list)
