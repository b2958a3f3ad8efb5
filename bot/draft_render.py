"""How a draft looks in Telegram: the post as it will appear, facts, warnings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render import (
    bold,
    escape,
    fit_caption,
    fit_text,
    fmt_dt,
    italic,
    link,
    money,
    split_message,
)
from db.status import ContentPurpose, ContentStatus, ContentType
from services.approval import ScheduledPost
from services.notifying.notifier import DraftView, ListingSummary
from services.status_display import FLYER_DISMISSED_LINE, display

_PURPOSE_TITLE = {
    ContentPurpose.NEW_LISTING: "New listing post",
    ContentPurpose.PRICE_IMPROVEMENT: "Price improvement post",
    ContentPurpose.FLYER: "Flyer text",
    ContentPurpose.NOW_SELLING: "Now selling post",
    ContentPurpose.JUST_SOLD: "Just sold post",
    ContentPurpose.BACK_ON_MARKET: "Back on the market post",
}
_PLATFORM = {"facebook": "Facebook", "instagram": "Instagram"}
# Between the blocks of a draft message. The last block is the footer: the hint while the
# draft waits for the agent, then the status line of each decision.
BLOCK = "\n\n"
_POST_HINT = "Approve to schedule it, Revise to tell me what to change, or Reject."
_FLYER_HINT = "Revise to tell me what to change, or Dismiss. Flyer text is never posted."


def _num(value: Any) -> str:
    text = f"{value}"
    return text[:-2] if text.endswith(".0") else text


def facts_line(listing: ListingSummary) -> str:
    """'3 bd · 2.5 ba · 1,850 sq ft · 2-car garage · $349,990' (escaped)."""
    parts: list[str] = []
    if listing.beds is not None:
        parts.append(f"{listing.beds} bd")
    if listing.baths is not None:
        parts.append(f"{_num(listing.baths.normalize())} ba")
    if listing.sqft is not None:
        parts.append(f"{listing.sqft:,} sq ft")
    if listing.garage:
        parts.append(f"{listing.garage}-car garage")
    parts.append(money(listing.price))
    return escape(" · ".join(parts))


def _where(listing: ListingSummary) -> str:
    place = f"{listing.address}, {listing.city}, {listing.state} {listing.zip_code}"
    extra = " · ".join(x for x in (listing.community, listing.plan_name) if x)
    line = escape(place)
    if listing.source_url:
        line = link(place, listing.source_url)
    return line + (f"\n{escape(extra)}" if extra else "")


def _post_section(text: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, platform in (("facebook_text", "facebook"), ("instagram_text", "instagram")):
        body = text.get(key)
        if isinstance(body, str) and body.strip():
            out.append(f"{bold('— ' + _PLATFORM[platform] + ' —')}\n{escape(body.strip())}")
    if not out:
        headline = str(text.get("headline", "")).strip()
        body = str(text.get("body", "")).strip()
        out.append("\n".join(x for x in (bold(headline) if headline else "", escape(body)) if x))
    return out


def _flyer_section(text: dict[str, Any]) -> list[str]:
    lines = [bold(str(text.get("headline", "")))]
    if text.get("subheadline"):
        lines.append(italic(str(text["subheadline"])))
    bullets = text.get("bullets") or []
    lines += [f"• {escape(str(b))}" for b in bullets]
    for key in ("description", "call_to_action", "agent_contact"):
        if text.get(key):
            lines.append(escape(str(text[key])))
    return ["\n".join(lines)]


def _warnings(warnings: Sequence[dict[str, Any]]) -> str:
    lines = []
    for w in warnings:
        message = str(w.get("message") or "")
        suggestion = w.get("suggestion")
        icon = "ℹ️" if w.get("kind") == "writer_note" else "⚠️"
        line = f"{icon} {escape(message)}"
        if suggestion:
            line += f" {italic('Try: ' + str(suggestion))}"
        lines.append(line)
    return "\n".join(lines)


def render_draft(draft: DraftView, footer: str | None = None) -> list[str]:
    """The draft as one or more HTML messages; the last one carries the buttons.

    `footer` (a status line) takes the place of the hint at the end.
    """
    title = _PURPOSE_TITLE.get(draft.purpose, "Draft")  # type: ignore[call-overload]
    if draft.content_type == ContentType.FLYER_TEXT:
        title = "Flyer text"
    header_lines = [
        f"📝 {bold(title)} · v{draft.version}",
        f"🏠 {_where(draft.listing)}",
        facts_line(draft.listing),
    ]
    if draft.waiting:
        header_lines.append(f"⏳ Waiting for you for {escape(draft.waiting)}")
    header = "\n".join(header_lines)
    blocks = [header]
    if draft.feedback:
        blocks.append(italic(f"Rewritten from your feedback: “{draft.feedback}”"))
    if draft.content_type == ContentType.FLYER_TEXT:
        blocks += _flyer_section(draft.generated_text)
    else:
        blocks += _post_section(draft.generated_text)
    if draft.warnings:
        blocks.append(_warnings(draft.warnings))
    if footer is None:
        flyer = draft.content_type == ContentType.FLYER_TEXT
        footer = italic(_FLYER_HINT if flyer else _POST_HINT)
    blocks.append(footer)
    return split_message(BLOCK.join(blocks))


def photo_caption(draft: DraftView) -> str:
    """A short caption for the photos sent before the draft, within Telegram's caption limit
    (a scraped address has no length limit on SQLite, and Telegram refuses the photos)."""
    return fit_caption(escape(f"📷 Photos for {draft.listing.address}, {draft.listing.city}"))


def status_line(
    status: str,
    scheduled: Sequence[ScheduledPost] = (),
    timezone: str = "UTC",
    content_type: str = ContentType.SOCIAL_MEDIA_POST,
) -> str:
    """The line appended to a draft message after a decision (words: services.status_display)."""
    row = display(status)
    line = row.line if row else None
    if content_type != ContentType.SOCIAL_MEDIA_POST and status == ContentStatus.REJECTED:
        line = FLYER_DISMISSED_LINE
    if status == ContentStatus.APPROVED_FOR_POSTING and scheduled:
        where = "; ".join(
            f"{escape(_PLATFORM.get(s.platform, s.platform))} ({escape(s.account_name)}) "
            f"{escape(fmt_dt(s.at, timezone))}"
            for s in scheduled
        )
        return "✅ " + bold("Approved") + f" — scheduled: {where}"
    if line is None:
        return escape(status)
    icon, headline, tail = line
    return f"{icon} {bold(headline)}{escape(tail)}"


def with_status(shown_html: str, line: str, *, awaiting_agent: bool) -> str:
    """The draft message as a tap saw it, with `line` as its new footer.

    While the draft waited for the agent (`awaiting_agent`: its buttons were those of
    that status), its last block is the hint render_draft put there, and `line` takes its
    place; after that, each decision's line comes below the earlier ones.
    """
    body = shown_html.rsplit(BLOCK, 1)[0] if awaiting_agent else shown_html
    return fit_text(body + BLOCK + line)
