"""Checks made before any Graph call, so a post bound to fail is never sent.

Each image is fetched once through the outbound guard (services/outbound.py: public
addresses or the builder's site only, redirects checked hop by hop, bounded in size and
time, bounded concurrency) and opened with Pillow. An HTTP status is shown only for
images on the builder's own site: for any other host it would tell whoever wrote the
page what that host answers, so the agent reads that the image could not be checked.
Instagram takes only JPEG with a width/height ratio between 4:5 and 1.91:1, and at most
10 photos (specs/EXTERNAL_APIS.md §2.2); Facebook photos must be under 10 MB (§3).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PIL import Image

from services.outbound import OutboundClient, OutboundError, OutboundRefused, ResponseTooLarge
from services.publishing.graph_errors import Platform

log = logging.getLogger(__name__)

INSTAGRAM_MAX_BYTES = 8 * 1024 * 1024
FACEBOOK_MAX_BYTES = 10 * 1000 * 1000 - 1
INSTAGRAM_MIN_RATIO = 0.8
INSTAGRAM_MAX_RATIO = 1.91
INSTAGRAM_MAX_IMAGES = 10
INSTAGRAM_CAPTION_CHARS = 2200
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
IMAGE_MAX_REDIRECTS = 3
# Facebook's documented post text limit (Pages API); not in our spec table, but long known.
FACEBOOK_MESSAGE_CHARS = 63206

_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w.@])@[A-Za-z0-9_.]+")


@dataclass(frozen=True)
class ImageCheck:
    """The images that can be posted, in the given order, and one sentence per image left out."""

    usable: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Fetched:
    index: int
    url: str
    problem: str | None


def check_caption(text: str, platform: Platform) -> list[str]:
    """Return one sentence per caption limit the text breaks on `platform` (empty if fine)."""
    problems: list[str] = []
    if platform == "instagram":
        if len(text) > INSTAGRAM_CAPTION_CHARS:
            problems.append(
                f"The caption has {len(text):,} characters but Instagram allows "
                f"{INSTAGRAM_CAPTION_CHARS:,}; shorten it by "
                f"{len(text) - INSTAGRAM_CAPTION_CHARS:,}."
            )
        hashtags = len(_HASHTAG.findall(text))
        if hashtags > INSTAGRAM_MAX_HASHTAGS:
            problems.append(
                f"The caption has {hashtags} hashtags but Instagram allows "
                f"{INSTAGRAM_MAX_HASHTAGS}; remove {hashtags - INSTAGRAM_MAX_HASHTAGS}."
            )
        mentions = len(_MENTION.findall(text))
        if mentions > INSTAGRAM_MAX_MENTIONS:
            problems.append(
                f"The caption tags {mentions} accounts with @ but Instagram allows "
                f"{INSTAGRAM_MAX_MENTIONS}; remove {mentions - INSTAGRAM_MAX_MENTIONS}."
            )
    elif len(text) > FACEBOOK_MESSAGE_CHARS:
        problems.append(
            f"The text has {len(text):,} characters but Facebook allows "
            f"{FACEBOOK_MESSAGE_CHARS:,}; shorten it."
        )
    return problems


async def check_images(
    client: OutboundClient,
    urls: Sequence[str],
    *,
    platform: Platform,
    max_bytes: int | None = None,
    concurrency: int = 4,
    timeout_s: float = 20.0,
) -> ImageCheck:
    """Fetch each distinct URL once and keep those `platform` will accept, in order.

    `client` is the guarded session for downloads; `timeout_s` bounds each image, its
    redirects included. `max_bytes` defaults to the platform's limit (8 MiB Instagram,
    under 10 MB Facebook).
    Instagram keeps at most 10 photos. Never raises for a bad image: it becomes a problem.
    """
    limit = max_bytes or (INSTAGRAM_MAX_BYTES if platform == "instagram" else FACEBOOK_MAX_BYTES)
    distinct = list(dict.fromkeys(urls))
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int, url: str) -> _Fetched:
        async with gate:
            problem = await _check_one(client, index, url, platform, limit, timeout_s)
        return _Fetched(index, url, problem)

    results = await asyncio.gather(*(one(i, u) for i, u in enumerate(distinct, start=1)))
    usable = [r.url for r in results if r.problem is None]
    problems = [r.problem for r in results if r.problem is not None]
    if platform == "instagram" and len(usable) > INSTAGRAM_MAX_IMAGES:
        left_out = len(usable) - INSTAGRAM_MAX_IMAGES
        problems.append(
            f"Instagram takes at most {INSTAGRAM_MAX_IMAGES} photos in a post, so the last "
            f"{left_out} were left out."
        )
        usable = usable[:INSTAGRAM_MAX_IMAGES]
    return ImageCheck(usable=usable, problems=problems)


async def _check_one(
    client: OutboundClient,
    index: int,
    url: str,
    platform: Platform,
    limit: int,
    timeout_s: float,
) -> str | None:
    name = f"Photo {index}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{name} is not a web link ({_short(url)}); use a link starting with https://."
    not_checked = (
        f"{name} could not be checked ({_short(url)}); check that the link opens publicly "
        "in a browser."
    )
    try:
        got = await client.fetch_bounded(
            url,
            scope="public",
            max_bytes=limit,
            timeout_s=timeout_s,
            max_redirects=IMAGE_MAX_REDIRECTS,
        )
    except ResponseTooLarge as exc:
        return _too_big_sentence(name, exc.declared, limit, platform, at_least=exc.read)
    except OutboundRefused:
        return not_checked
    except OutboundError as exc:
        log.info("preflight fetch of photo %d failed: %s", index, exc.reason)
        if not client.guard.on_site(url):
            return not_checked
        return (
            f"{name} could not be downloaded ({_short(url)}); check that the link opens publicly."
        )
    if got.status != 200:
        if not (client.guard.on_site(url) and client.guard.on_site(got.final_url)):
            return not_checked
        return (
            f"{name} could not be downloaded (HTTP {got.status} from {_short(url)}); "
            "check that the link opens publicly."
        )
    ctype = got.content_type
    if ctype.startswith("text/") or ctype in ("application/json", "application/xhtml+xml"):
        return (
            f"{name} links to a web page, not a picture ({_short(url)}); "
            "use the direct link to the image file."
        )
    return _inspect(name, got.body, platform)


def _inspect(name: str, data: bytes, platform: Platform) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or "unknown"
                width, height = img.size
                img.verify()
    except Exception:  # Pillow raises many types for a file that is not a readable image
        return f"{name} is not a readable picture; use a JPEG photo."
    if platform != "instagram":
        return None
    if fmt != "JPEG":
        return f"{name} is a {fmt} file but Instagram takes only JPEG; convert it or pick another."
    ratio = width / height if height else 0.0
    if not INSTAGRAM_MIN_RATIO <= ratio <= INSTAGRAM_MAX_RATIO:
        shape = "too tall" if ratio < INSTAGRAM_MIN_RATIO else "too wide"
        return (
            f"{name} is {shape} for Instagram ({width}×{height}, ratio {ratio:.2f}; allowed "
            f"{INSTAGRAM_MIN_RATIO}–{INSTAGRAM_MAX_RATIO}); crop it or pick another."
        )
    return None


def _too_big_sentence(
    name: str,
    declared: int | None,
    limit: int,
    platform: Platform,
    *,
    at_least: int | None = None,
) -> str | None:
    size = declared if declared is not None else at_least
    if size is None or size <= limit:
        return None
    svc = "Instagram" if platform == "instagram" else "Facebook"
    limit_mb = f"{limit / 1_048_576:.0f} MB"
    if declared is None:
        return f"{name} is larger than the {limit_mb} {svc} accepts; use a smaller version."
    return (
        f"{name} is {size / 1_048_576:.1f} MB but {svc} accepts up to {limit_mb}; "
        "use a smaller version."
    )


def _short(url: str, width: int = 80) -> str:
    return url if len(url) <= width else url[: width - 1] + "…"
