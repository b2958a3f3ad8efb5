"""The printable flyer behind a flyer-text draft: a one-page US Letter PDF and its PNG preview.

The main photo is downloaded through the outbound guard (public addresses or the builder's
own site, redirects checked hop by hop), bounded in bytes and time; a photo that cannot be
had leaves a placeholder on the flyer instead of holding it back. Rendering runs in a worker
thread so the event loop keeps answering taps. Flyers are sent to the agent only: nothing
here publishes.
"""

from __future__ import annotations

import asyncio
import logging
import re

from pydantic import ValidationError

from db.repositories.delivery import DraftRow
from db.status import ContentType
from services.drafting.draft_writing import agent_profile, listing_facts
from services.generation.content import FlyerText, content_from_json
from services.generation.listing_facts import DEFAULT_BUILDER_NAME
from services.notifying.notifier import FlyerAttachment
from services.outbound import OutboundClient, OutboundError
from services.rendering.flyer_pdf import flyer_sheet, render_flyer

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TIMEOUT_S = 20.0
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 .,#-]+")


class FlyerPrinter:
    """Renders the flyer of a flyer-text draft; `site_url` is LISTINGS_BASE_URL."""

    def __init__(
        self,
        *,
        site_url: str | None,
        builder: str = DEFAULT_BUILDER_NAME,
        max_photo_bytes: int = MAX_PHOTO_BYTES,
        timeout_s: float = PHOTO_TIMEOUT_S,
    ) -> None:
        self.site_url = site_url
        self.builder = builder
        self.max_photo_bytes = max_photo_bytes
        self.timeout_s = timeout_s

    async def download_photo(self, url: str) -> bytes | None:
        """The photo's bytes, or None (logged) when the guard refuses it, it is too large,
        slow, missing or not an image."""
        try:
            async with OutboundClient(self.site_url) as client:
                found = await client.fetch_bounded(
                    url, scope="public", max_bytes=self.max_photo_bytes, timeout_s=self.timeout_s
                )
        except OutboundError as exc:
            log.warning("flyer photo not downloaded", extra={"url": url, "reason": exc.reason})
            return None
        if not 200 <= found.status < 300 or not found.content_type.startswith("image/"):
            log.warning(
                "flyer photo not downloaded",
                extra={"url": url, "status": found.status, "content_type": found.content_type},
            )
            return None
        return found.body

    async def __call__(self, row: DraftRow) -> FlyerAttachment | None:
        """The PDF and preview for a flyer-text draft (None for any other draft)."""
        piece, agent, listing = row.piece, row.agent, row.listing
        if piece.content_type != ContentType.FLYER_TEXT:
            return None
        try:
            text = content_from_json("flyer_text", dict(piece.generated_text))
        except ValidationError:
            log.warning("flyer text unreadable; no PDF", extra={"piece_id": str(piece.id)})
            return None
        assert isinstance(text, FlyerText)
        urls = list(piece.associated_image_urls or listing.image_urls or [])
        photo = await self.download_photo(urls[0]) if urls else None
        sheet = flyer_sheet(
            listing_facts(listing),
            text,
            agent_profile(agent, builder=self.builder),
            builder_name=self.builder,
            license_number=agent.license_number,
            photo=photo,
        )
        files = await asyncio.to_thread(render_flyer, sheet)
        return FlyerAttachment(
            pdf=files.pdf, preview_png=files.preview_png, filename=flyer_filename(listing.address)
        )


def flyer_filename(address: str) -> str:
    """'Flyer - 5127 SW 88th Place.pdf' (only safe characters)."""
    cleaned = " ".join(_UNSAFE_NAME.sub(" ", address).split())[:80] or "home"
    return f"Flyer - {cleaned}.pdf"
