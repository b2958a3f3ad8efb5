"""Where everything on a flyer page goes, computed once for both the PDF and the PNG preview.

Every block has a fixed place or a budget, and text that would overflow its budget is set
smaller, then cut with "…": the flyer is always exactly one page.
"""

from __future__ import annotations

from services.generation.listing_facts import format_price, format_sqft, plural
from services.rendering.flyer_body import place_body
from services.rendering.flyer_images import load_photo, qr_image
from services.rendering.flyer_page import (
    ACCENT,
    BAND,
    CONTENT_W,
    INK,
    MARGIN,
    MUTED,
    PAGE_H,
    PAGE_W,
    RULE,
    Box,
    FlyerLayout,
    Picture,
)
from services.rendering.flyer_sheet import FlyerSheet
from services.rendering.fonts import printable, string_width
from services.rendering.text_fit import chars_that_fit, clip, fit_block, fit_line

PHOTO_H = 270.0
PLACEHOLDER_H = 72.0
FOOTER_H = 116.0
QR_SIZE = 80.0
URL_W = 190.0
EQUAL_HOUSING = "Equal Housing Opportunity"


def flyer_layout(sheet: FlyerSheet) -> FlyerLayout:
    """The page for `sheet`: photo band, headline, price and facts, body, footer."""
    page = FlyerLayout()
    y = _photo_band(page, sheet)
    y = _heading(page, sheet, y + 16)
    footer_top = PAGE_H - MARGIN - FOOTER_H
    page.boxes.append(Box(MARGIN, y + 6, CONTENT_W, 0.75, RULE))
    page.truncated |= place_body(page, sheet, top=y + 16, bottom=footer_top - 10)
    _footer(page, sheet, footer_top)
    return page


def _photo_band(page: FlyerLayout, sheet: FlyerSheet) -> float:
    photo = load_photo(sheet.photo)
    if photo is None:
        page.boxes.append(Box(MARGIN, MARGIN, CONTENT_W, PLACEHOLDER_H, BAND))
        page.lines(
            ["Photo coming soon"],
            PAGE_W / 2,
            MARGIN + PLACEHOLDER_H / 2 - 8,
            14,
            color=MUTED,
            anchor="center",
        )
        return MARGIN + PLACEHOLDER_H
    ratio = photo.width / photo.height
    band_h = min(PHOTO_H, CONTENT_W / ratio)  # a wide panorama needs less height
    w, h = (
        (CONTENT_W, CONTENT_W / ratio) if ratio >= CONTENT_W / band_h else (band_h * ratio, band_h)
    )
    if w < CONTENT_W:  # a tall photo sits centred on a quiet band
        page.boxes.append(Box(MARGIN, MARGIN, CONTENT_W, band_h, BAND))
    page.pictures.append(Picture(MARGIN + (CONTENT_W - w) / 2, MARGIN, w, h, photo, "photo"))
    return MARGIN + band_h


def _heading(page: FlyerLayout, sheet: FlyerSheet, top: float) -> float:
    lines, size, cut = fit_block(
        printable(sheet.headline), (26, 24, 22, 20, 18), CONTENT_W, 2, bold=True
    )
    y = page.lines(lines, MARGIN, top, size, leading=1.15, bold=True)
    address = printable(
        f"{sheet.address}, {sheet.city}, {sheet.state} {sheet.zip_code}".strip(" ,")
    )
    text, size, cut_address = fit_line(address, (12.5, 11, 10), CONTENT_W)
    y = page.lines([text], MARGIN, y + 4, size, color=MUTED)
    sub = printable(sheet.subheadline)
    cut_sub = False
    # The writer's subheadline usually repeats the address and price printed here already.
    if sub and printable(sheet.address).casefold() not in sub.casefold():
        sub_lines, size, cut_sub = fit_block(sub, (11.5, 10.5), CONTENT_W, 2)
        y = page.lines(sub_lines, MARGIN, y, size, color=MUTED)
    page.truncated |= cut or cut_address or cut_sub
    return _price_row(page, sheet, y + 8)


def _price_row(page: FlyerLayout, sheet: FlyerSheet, top: float) -> float:
    price = format_price(sheet.price) if sheet.price is not None else "Price on request"
    page.lines([price], MARGIN, top, 22, bold=True, color=ACCENT)
    facts = "  ·  ".join(_facts(sheet))
    price_w = string_width(price, 22, bold=True) + 18
    y = top + 22 * 1.2
    if facts:
        # Beside the price when it fits there, else on its own line below.
        if string_width(facts, 12.5) <= CONTENT_W - price_w:
            page.lines([facts], MARGIN + price_w, top + 22 * 0.9 - 12.5 * 0.9, 12.5)
        else:
            text, size, cut = fit_line(facts, (12.5, 11, 10), CONTENT_W)
            y = page.lines([text], MARGIN, y, size)
            page.truncated |= cut
    where = [
        f"Plan: {printable(sheet.plan_name)}" if sheet.plan_name else "",
        f"Community: {printable(sheet.community)}" if sheet.community else "",
    ]
    where_text = "  ·  ".join(w for w in where if w.partition(": ")[2])
    if where_text:
        text, size, cut = fit_line(where_text, (11, 10), CONTENT_W)
        y = page.lines([text], MARGIN, y + 2, size, color=MUTED)
        page.truncated |= cut
    return y


def _facts(sheet: FlyerSheet) -> list[str]:
    facts = []
    if sheet.beds is not None:
        facts.append(plural(sheet.beds, "bed"))
    if sheet.baths is not None:
        facts.append(plural(sheet.baths, "bath"))
    if sheet.sqft is not None:
        facts.append(f"{format_sqft(sheet.sqft)} sq ft")
    if sheet.garage:
        facts.append(f"{sheet.garage}-car garage")
    return facts


def _footer(page: FlyerLayout, sheet: FlyerSheet, top: float) -> None:
    page.boxes.append(Box(MARGIN, top, CONTENT_W, 0.75, RULE))
    qr = qr_image(sheet.listing_url)
    text_right = PAGE_W - MARGIN - (QR_SIZE + 20 if qr is not None else 0)
    col_w = (text_right - MARGIN - 16) / 2
    agent = [
        (printable(sheet.agent_name), (15.0, 13.0, 11.0), True, INK),
        (printable(sheet.agent_phone or ""), (11.0, 9.5, 8.0), False, INK),
        (printable(sheet.agent_email), (11.0, 9.5, 8.0), False, INK),
    ]
    lic = printable(sheet.license_number or "")
    firm = [
        (printable(sheet.brokerage or ""), (11.0, 9.5, 8.0), True, INK),
        (f"License #{lic}" if lic else "", (9.5, 8.0), False, MUTED),
        (f"Home built by {printable(sheet.builder_name)}", (9.5, 8.0), False, MUTED),
        (EQUAL_HOUSING, (9.5,), True, MUTED),
    ]
    for x, rows in ((MARGIN, agent), (MARGIN + col_w + 16, firm)):
        y = top + 12
        for text, sizes, bold, color in rows:
            if not text:
                continue
            shown, size, cut = fit_line(text, sizes, col_w, bold=bold)
            y = page.lines([shown], x, y, size, leading=1.45, bold=bold, color=color)
            page.truncated |= cut
    if qr is not None and sheet.listing_url:
        right = PAGE_W - MARGIN
        page.pictures.append(Picture(right - QR_SIZE, top + 6, QR_SIZE, QR_SIZE, qr, "qr"))
        # Right-aligned under the code and wider than it: a typical link fits on two lines.
        url = printable(sheet.listing_url)
        url_lines, cut = clip(_url_lines(url), 3, 6.5, URL_W)
        page.truncated |= cut
        page.lines(url_lines, right, top + QR_SIZE + 10, 6.5, color=MUTED, anchor="right")


def _url_lines(url: str) -> list[str]:
    # A link has no spaces: break it after a "/" where one is near the end of the line.
    lines = []
    while url:
        line = url[: chars_that_fit(url, 6.5, URL_W)]
        slash = line.rfind("/", 0, len(line) - 1) + 1
        if len(line) < len(url) and slash > len(line) // 2:
            line = line[:slash]
        lines.append(line)
        url = url[len(line) :]
    return lines
