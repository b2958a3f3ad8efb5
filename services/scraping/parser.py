"""Parsing holidaybuilders.com home pages (WordPress + Yoast + UIkit) into `ParsedHome`.

Selectors follow specs/HOLIDAYBUILDERS_SITE.md; each has a looser fallback because the
live site will differ in details. A missing field is None; only a page that is not a
home page at all (no address and no stats) or is visibly truncated raises `ParseError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from services.scraping.encoding import decode_bytes
from services.scraping.features import derive_key_features
from services.scraping.models import ListingStatus, ParsedCommunity, ParsedHome
from services.scraping.sitemap import parse_lastmod, source_id_from_url
from services.scraping.soup_index import IndexedSoup


class ParseError(Exception):
    """The page cannot be understood as a home page (the crawler counts it and goes on)."""


_CLOSING_TAG = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_MONEY = re.compile(r"\$\s*(\d{1,3}(?:,\d{3})+|\d{4,})(\.\d{1,2})?(?![\d.,]*[A-Za-z\d])")
_STATE_ZIP = re.compile(
    r"^(?P<state>[A-Za-z]{2}|Florida)\.?(?:\s+(?P<zip>\d{5}(?:-\d{4})?))?$", re.I
)
_NO_COMMA_CITY = re.compile(r"^(?P<city>.*?)\s+(?P<state>[A-Z]{2})\s+(?P<zip>\d{5}(?:-\d{4})?)$")
_COMMUNITY_HEADING = re.compile(r"^.*?\bhomes?\s+(?:for\s+sale\s+)?in\s+(?P<name>.+)$", re.I)
_STATE_SUFFIX = re.compile(r",?\s+[A-Z]{2}$")
_DATE_MODIFIED = re.compile(r'"dateModified"\s*:\s*"([^"]+)"')
_WP_SIZE = re.compile(r"-(\d+)x(\d+)(?=\.[A-Za-z0-9]+$)")
_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)$", re.IGNORECASE)
_SKIP_IMAGE = re.compile(
    r"(?<![a-z])(?:logo|logos|icon|icons|favicon|sprite|spinner|loader|loading|placeholder|"
    r"blank|pixel|avatar|gravatar|emoji|badge)(?![a-z])"
)
_GALLERY_ATTRS = ("uk-slideshow", "uk-slider", "uk-lightbox")
_GALLERY_CLASS = re.compile(r"gallery|slideshow|slider|carousel|swiper|photos", re.IGNORECASE)
_LISTING_LINK = re.compile(r"/new-homes-for-sale/[^/?#]+|/new-home-communities/")
_CHROME = frozenset({"header", "footer", "nav", "aside"})
_BREADCRUMB_MARKET = "/new-home-markets/"
_BREADCRUMB_COMMUNITY = "/new-home-communities/"


def _page(html: bytes | str) -> tuple[IndexedSoup, str]:
    text = decode_bytes(html).text if isinstance(html, bytes) else html
    return IndexedSoup(BeautifulSoup(text, "lxml")), text


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(text.split())
    return cleaned or None


def _text(element: Tag | NavigableString | None) -> str | None:
    return _clean(element.get_text(" ", strip=True)) if isinstance(element, Tag) else None


def _attr(element: Tag, name: str) -> str | None:
    value = element.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _decimal(text: str | None) -> Decimal | None:
    if not text:
        return None
    text = text.replace("½", ".5").replace(" .5", ".5")
    match = _NUMBER.search(text)
    if match is None:
        return None
    try:
        return Decimal(match.group(0).replace(",", ""))
    except InvalidOperation:
        return None


def _int(text: str | None) -> int | None:
    value = _decimal(text)
    return int(value) if value is not None else None


# -- fields ---------------------------------------------------------------------------------


def _status(page: IndexedSoup) -> ListingStatus | None:
    for badge in page.select("div.uk-position-relative div.uk-position-bottom-center"):
        if _links_elsewhere(badge):  # another home's card carries its own badge
            continue
        status = status_from_badge(_text(badge))
        if status is not None:
            return status
    return None


def status_from_badge(text: str | None) -> ListingStatus | None:
    """'Move In Ready' → active, 'Coming Soon' → upcoming, 'Sold Out' → sold, else None."""
    if not text:
        return None
    words = " ".join(text.lower().replace("-", " ").split())
    if "sold" in words:
        return "sold"
    if "coming soon" in words or "under construction" in words:
        return "upcoming"
    if "move in ready" in words or "quick move in" in words or "available now" in words:
        return "active"
    return None


def _plan_name(page: IndexedSoup) -> str | None:
    name = _text(page.select_one("h1.text-blue.font-tertiary span"))
    return name or _text(page.select_one("h1.text-blue.font-tertiary"))


def _stats(page: IndexedSoup) -> dict[str, str]:
    stats: dict[str, str] = {}
    items = page.select("div.background-gray-blue.uk-padding-small div.uk-flex.uk-flex-center")
    for item in items:
        label, value = _text(item.find("span")), _text(item.find("h3"))
        if not label or not value:
            continue
        key = stat_key(label)
        if key is not None and key not in stats:
            stats[key] = value
    return stats


def stat_key(label: str) -> str | None:
    """The stat a grid label names: 'beds', 'baths', 'half_baths', 'garage', 'sqft' or None."""
    key = re.sub(r"[\s.]", "", label.lower())
    if "half" in key and "bath" in key:
        return "half_baths"
    if "bed" in key:
        return "beds"
    if "bath" in key:
        return "baths"
    if key in ("car", "cars") or "garage" in key:
        return "garage"
    if "sqft" in key or "squarefe" in key or key == "sf":
        return "sqft"
    return None


def _price(page: IndexedSoup) -> Decimal | None:
    element = page.select_one(
        "div.uk-section-default.uk-section-small div.uk-text-right > h3.text-red"
    )
    if element is None:
        element = next((h for h in page.select("h3.text-red") if "$" in h.get_text()), None)
    return price_from_text(_current_price_text(element)) if element is not None else None


def _current_price_text(element: Tag) -> str:
    # A struck-through amount is the old price; only what is left is the current one.
    parts = [
        str(s)
        for s in element.find_all(string=True)
        if not any(p.name in ("del", "s", "strike") for p in s.parents if isinstance(p, Tag))
    ]
    return " ".join(parts)


def price_from_text(text: str | None) -> Decimal | None:
    """'$349,990' → Decimal('349990'); 'Call for pricing', 'From the $300s' → None.

    With several amounts (a range, 'was … now …') the lowest is the asking price.
    """
    if not text:
        return None
    amounts = [
        Decimal(m.group(1).replace(",", "") + (m.group(2) or "")) for m in _MONEY.finditer(text)
    ]
    amounts = [a for a in amounts if a >= 1000]
    return min(amounts) if amounts else None


def _breadcrumb_links(page: IndexedSoup, marker: str) -> list[str]:
    links = page.select("p#breadcrumbs a[href], #breadcrumbs a[href], .breadcrumb a[href]")
    names = []
    for link in links:
        href = _attr(link, "href") or ""
        name = _text(link)
        if marker in href and name:
            names.append(name)
    return names


def _city_state_zip(page: IndexedSoup) -> tuple[str | None, str | None, str | None]:
    line = _text(
        page.select_one("a.google-map-link h5.text-ligh-gray")
        or page.select_one("a.google-map-link h5.text-light-gray")
        or page.select_one("a.google-map-link h5")
    )
    city = state = zip_code = None
    if line:
        head, sep, tail = line.rpartition(",")
        match = _STATE_ZIP.match(tail.strip()) if sep else None
        if match:
            city = _clean(head)
            state, zip_code = match.group("state").upper(), match.group("zip")
            state = "FL" if state == "FLORIDA" else state
        else:
            loose = _NO_COMMA_CITY.match(line)
            if loose:
                city, state, zip_code = (
                    _clean(loose.group("city")),
                    loose.group("state"),
                    loose.group("zip"),
                )
    if not city:
        markets = _breadcrumb_links(page, _BREADCRUMB_MARKET)
        if markets:
            city = _STATE_SUFFIX.sub("", markets[0]).strip() or None
    return city, state, zip_code


def _coordinates(page: IndexedSoup) -> tuple[float | None, float | None]:
    marker = page.select_one("div#map div.marker[data-lat][data-lng]") or page.select_one(
        "[data-lat][data-lng]"
    )
    if marker is None:
        return None, None
    try:
        lat = float(_attr(marker, "data-lat") or "")
        lng = float(_attr(marker, "data-lng") or "")
    except ValueError:
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0):
        return None, None
    return lat, lng


def _community(page: IndexedSoup) -> str | None:
    heading = _text(page.select_one("div#overview h2.text-blue.title"))
    if heading:
        match = _COMMUNITY_HEADING.match(heading)
        return _clean(match.group("name")) if match else heading
    communities = _breadcrumb_links(page, _BREADCRUMB_COMMUNITY)
    return communities[-1] if communities else None


def _facts(page: IndexedSoup) -> dict[str, str]:
    facts: dict[str, str] = {}
    for value_el in page.select(
        "div#overview div.background-gray-blue div.font-secondary.font15.lh1"
    ):
        label_el = value_el.find_next_sibling("div")
        label = _text(label_el) if isinstance(label_el, Tag) else None
        value = _text(value_el)
        if label and value and label not in facts:
            facts[label] = value
    return facts


def _paragraphs(elements: list[Tag]) -> str | None:
    texts = [t for t in (_text(p) for p in elements) if t]
    return "\n\n".join(dict.fromkeys(texts)) or None


def _community_description(page: IndexedSoup) -> str | None:
    paragraphs = page.select('div#overview div.uk-overflow-auto[style*="150px"] p')
    return _paragraphs(paragraphs or page.select("div#overview div.uk-overflow-auto p"))


def _plan_description(page: IndexedSoup) -> str | None:
    return _paragraphs(
        page.select("div.uk-section.uk-section-default.uk-section-small div.uk-container-alt > p")
    )


def combine_descriptions(plan: str | None, community: str | None) -> str | None:
    """The home's description: the plan's words first, then the community's."""
    parts = [p for p in (plan, community) if p]
    return "\n\n".join(dict.fromkeys(parts)) or None


def _walk_json(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_json(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_json(item)


def _is_page_node(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.endswith("Page") for k in names)


def json_ld_date_modified(raw_scripts: list[str]) -> datetime | None:
    """`dateModified` from JSON-LD blocks (object, `@graph` or list), tolerating bad JSON.

    The page's own node (WebPage, ItemPage…) wins over any other node's date.
    """
    fallback: datetime | None = None
    for raw in raw_scripts:
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            # Malformed JSON-LD (the site has some): the date is still readable.
            for match in _DATE_MODIFIED.finditer(raw):
                fallback = fallback or parse_lastmod(match.group(1))
            continue
        for node in _walk_json(data):
            value = node.get("dateModified")
            when = parse_lastmod(value) if isinstance(value, str) else None
            if when is None:
                continue
            if _is_page_node(node):
                return when
            fallback = fallback or when
    return fallback


def _page_modified(page: IndexedSoup) -> datetime | None:
    for prop in ("article:modified_time", "og:updated_time"):
        meta = page.select_one(f'meta[property="{prop}"][content]')
        when = parse_lastmod(_attr(meta, "content")) if meta is not None else None
        if when is not None:
            return when
    scripts = [s.get_text() for s in page.select('script[type="application/ld+json"]')]
    return json_ld_date_modified(scripts)


# -- images ---------------------------------------------------------------------------------


def _largest_from_srcset(srcset: str | None) -> str | None:
    best: tuple[float, str] | None = None
    for candidate in (srcset or "").split(","):
        bits = candidate.split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            size = float(bits[1][:-1])
        if best is None or size > best[0]:
            best = (size, bits[0])
    return best[1] if best else None


def _image_source(element: Tag) -> str | None:
    if element.name == "a":
        href = _attr(element, "href")
        return href if href and _IMAGE_EXT.search(urlsplit(href).path) else None
    for attr in ("srcset", "data-srcset"):
        best = _largest_from_srcset(_attr(element, attr))
        if best and not best.startswith("data:"):
            return best
    for attr in ("data-src", "data-lazy-src", "data-original", "src"):
        value = _attr(element, attr)
        if value and not value.startswith("data:"):
            return value
    return None


def _links_elsewhere(element: Tag) -> bool:
    """Inside a link to another home or a community (a "similar homes" card)."""
    for parent in element.parents:
        if isinstance(parent, Tag) and parent.name == "a":
            href = _attr(parent, "href") or ""
            return _LISTING_LINK.search(href) is not None
    return False


def _in_gallery(element: Tag) -> bool:
    for parent in element.parents:
        if not isinstance(parent, Tag):
            continue
        if any(parent.has_attr(a) for a in _GALLERY_ATTRS):
            return True
        classes: list[str] = list(parent.get_attribute_list("class") or [])
        if any(_GALLERY_CLASS.search(c) for c in classes):
            return True
    return False


def _in_chrome(element: Tag) -> bool:
    return any(isinstance(p, Tag) and p.name in _CHROME for p in element.parents)


def _skip_image(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith((".svg", ".ico")) or bool(_SKIP_IMAGE.search(path.rsplit("/", 1)[-1]))


def _image_key(url: str) -> tuple[str, int]:
    """A key shared by WordPress size variants of one upload, and the variant's size."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    match = _WP_SIZE.search(parts.path)
    size = int(match.group(1)) * int(match.group(2)) if match else 10**12  # original: largest
    return f"{host}{_WP_SIZE.sub('', parts.path)}", size


def _images(page: IndexedSoup, page_url: str) -> list[str]:
    base = page_url
    base_tag = page.select_one("base[href]")
    if isinstance(base_tag, Tag):
        base = urljoin(page_url, _attr(base_tag, "href") or "")

    raw: list[str] = [
        _attr(m, "content") or ""
        for m in page.select('meta[property="og:image"], meta[property="og:image:secure_url"]')
    ]
    elements = [
        tag
        for tag in page.tags
        if tag.name == "img"
        or (tag.name == "a" and _image_source(tag) is not None)
        or (tag.name == "source" and tag.has_attr("srcset"))
        or tag.has_attr("data-src")
        or tag.has_attr("data-srcset")
    ]
    own = [e for e in elements if not _in_chrome(e) and not _links_elsewhere(e)]
    gallery = [e for e in own if _in_gallery(e)]
    if not gallery:
        gallery = [e for e in own if e.name == "img"]
    raw += [src for src in (_image_source(e) for e in gallery) if src]

    chosen: dict[str, tuple[int, str]] = {}
    for src in raw:
        if not src or src.startswith("data:"):
            continue
        absolute = urljoin(base, src.strip())
        if urlsplit(absolute).scheme not in ("http", "https") or _skip_image(absolute):
            continue
        key, size = _image_key(absolute)
        if key not in chosen or size > chosen[key][0]:
            chosen[key] = (size, absolute)
    return [url for _, url in chosen.values()]


# -- entry points ---------------------------------------------------------------------------


def _source_id(url: str) -> str:
    source_id = source_id_from_url(url)
    if source_id is None:
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if not segments:
            raise ParseError(f"no home slug in the URL {url}")
        source_id = segments[-1].lower()
    return source_id


def parse_home(html: bytes | str, url: str) -> ParsedHome:
    """Parse one home page. Raises `ParseError` for a page that is not a (whole) home page."""
    page, text = _page(html)
    if not _CLOSING_TAG.search(text[-16384:]):
        raise ParseError("page is truncated (no closing </body> or </html>)")
    stats = _stats(page)
    address = _text(page.select_one("a.google-map-link h2.text-blue"))
    if address is None and not stats:
        raise ParseError("no address and no home facts: not a home page")

    city, state, zip_code = _city_state_zip(page)
    latitude, longitude = _coordinates(page)
    facts = _facts(page)
    plan_description = _plan_description(page)
    community_description = _community_description(page)
    garage = _int(stats.get("garage"))
    baths = _decimal(stats.get("baths"))
    half_baths = _int(stats.get("half_baths"))
    if baths is not None and half_baths:
        baths += Decimal(half_baths) / 2
    modified = _page_modified(page)
    school = next((v for k, v in facts.items() if "school" in k.lower()), None)
    return ParsedHome(
        source_id=_source_id(url),
        source_url=url,
        status=_status(page),
        plan_name=_plan_name(page),
        beds=_int(stats.get("beds")),
        baths=baths,
        garage=garage,
        sqft=_int(stats.get("sqft")),
        price=_price(page),
        address=address,
        city=city,
        state=state,
        zip_code=zip_code,
        latitude=latitude,
        longitude=longitude,
        community=_community(page),
        school_district=school,
        community_description=community_description,
        plan_description=plan_description,
        description=combine_descriptions(plan_description, community_description),
        key_features=derive_key_features(plan_description, community_description, garage=garage),
        image_urls=_images(page, url),
        source_lastmod=modified,
        facts=facts,
        page_modified=modified,
    )


def _hours_lines(block: Tag) -> list[str]:
    lines: list[str] = []
    for paragraph in block.find_all("p") or [block]:
        current: list[str] = []
        for node in paragraph.descendants:
            if isinstance(node, Tag) and node.name == "br":
                lines.append(" ".join(current))
                current = []
            elif isinstance(node, NavigableString):
                current.append(str(node))
        lines.append(" ".join(current))
    return [c for c in (_clean(line) for line in lines) if c]


def parse_community(html: bytes | str, url: str) -> ParsedCommunity:
    """Parse a community page: name, description and sales-centre hours (deduplicated)."""
    page, _ = _page(html)
    name = _text(page.select_one("h1.text-blue.font-tertiary") or page.select_one("h1"))
    hours: list[str] = []
    for icon in page.select("i.fa-clock, i.fa-clock-o"):
        # The hours are in the div right after the icon's parent; tolerate one more wrapper.
        holder = icon.parent
        for _ in range(3):
            if not isinstance(holder, Tag):
                break
            block = holder.find_next_sibling("div")
            if isinstance(block, Tag):
                hours += _hours_lines(block)
                break
            holder = holder.parent
    description = _paragraphs(page.select("div.uk-overflow-auto p")) or _paragraphs(
        page.select("div#overview p")
    )
    return ParsedCommunity(
        source_url=url, name=name, description=description, sales_hours=list(dict.fromkeys(hours))
    )
