"""`rltr-mktg connect-account` (being built with publishing; see issue 6)."""

from __future__ import annotations

import argparse

from services.errors import ServiceError
from services.settings import Settings


async def connect_account(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a token with the Graph API and store it encrypted."""
    raise ServiceError(
        "Connecting accounts from the command line is not available yet (issue 6); "
        "ask the agent to use /connect in the bot."
    )
