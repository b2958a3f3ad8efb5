"""`rltr-mktg scrape` (the scrape pass is being wired to the database; see issue 3)."""

from __future__ import annotations

from services.errors import ServiceError
from services.settings import Settings


async def run_scrape_once(settings: Settings) -> int:
    """One scrape pass with a progress bar and a summary."""
    raise ServiceError(
        "The scrape command is not wired to the database yet (issue 3); "
        "run the bot with `rltr-mktg run` instead."
    )
