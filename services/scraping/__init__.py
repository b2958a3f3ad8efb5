"""Listing ingestion from the builder's site: polite fetching, sitemap and parsing (crawl,
database-free), then the pass that saves homes, assigns agents, notifies and withdraws drafts."""

from services.scraping.crawl import ProgressCallback, crawl, needs_fetch
from services.scraping.features import derive_key_features
from services.scraping.fetcher import (
    DEFAULT_USER_AGENT,
    FetchCache,
    FetchError,
    FetchResult,
    HttpStatusError,
    NetworkError,
    PoliteFetcher,
    RedirectError,
    RobotsDisallowedError,
    TooLargeError,
)
from services.scraping.models import (
    CrawlFailure,
    CrawlProgress,
    CrawlResult,
    ListingStatus,
    ParsedCommunity,
    ParsedHome,
    SitemapEntry,
)
from services.scraping.parser import ParseError, parse_community, parse_home
from services.scraping.sitemap import (
    SitemapError,
    normalize_home_url,
    read_sitemap,
    source_id_from_url,
)

__all__ = [
    "DEFAULT_USER_AGENT",
    "CrawlFailure",
    "CrawlProgress",
    "CrawlResult",
    "FetchCache",
    "FetchError",
    "FetchResult",
    "HttpStatusError",
    "ListingStatus",
    "NetworkError",
    "ParseError",
    "ParsedCommunity",
    "ParsedHome",
    "PoliteFetcher",
    "ProgressCallback",
    "RedirectError",
    "RobotsDisallowedError",
    "SitemapEntry",
    "SitemapError",
    "TooLargeError",
    "crawl",
    "derive_key_features",
    "needs_fetch",
    "normalize_home_url",
    "parse_community",
    "parse_home",
    "read_sitemap",
    "source_id_from_url",
]
