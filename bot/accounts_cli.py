"""`rltr-mktg connect-account`: validate a token with the Graph API and store it encrypted.

The token is read from stdin (hidden prompt on a terminal), never from the command line,
where it would end up in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import TextIO

from services import social_accounts
from services.context import open_database
from services.errors import InvalidInputError
from services.publishing.graph_resources import GraphResources
from services.settings import Settings


def read_token(stream: TextIO | None = None) -> str:
    """The token from stdin: a hidden prompt on a terminal, else the first non-empty line."""
    stream = stream or sys.stdin
    if stream.isatty():
        token = getpass.getpass("Access token (input hidden): ")
    else:
        token = next((line.strip() for line in stream if line.strip()), "")
    token = token.strip()
    if not token:
        raise InvalidInputError(
            "No access token on stdin; pipe it in, e.g. `rltr-mktg connect-account … < token.txt`."
        )
    return token


def parse_expiry(value: str | None) -> datetime | None:
    """An ISO date or date-time (UTC when no zone is given), or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"--expires-at {value!r} is not an ISO date; write it like 2027-01-31T00:00:00Z."
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def connect_account(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a token with the Graph API and store it encrypted; print what was connected."""
    platform = social_accounts.parse_platform(args.platform)
    expires_at = parse_expiry(args.expires_at)
    token = read_token()
    async with open_database(settings) as database:
        async with database.unit_of_work() as session:
            agent = await social_accounts.agent_by_email(session, args.agent)
        graph = GraphResources.open(settings.graph_api_base_url)
        try:
            done = await social_accounts.connect(
                database,
                graph.client,
                agent_id=agent.id,
                platform=platform,
                account_id=args.account_id,
                token=token,
                expires_at=expires_at,
            )
        finally:
            await graph.aclose()
    acc = done.account
    verb = "Reconnected" if done.reconnected else "Connected"
    expiry = (
        f"token expires {acc.token_expires_at.isoformat()}"
        if acc.token_expires_at is not None
        else "token does not expire"
    )
    print(f"{verb} {acc.service} {acc.display_name} ({acc.account_id}) for {agent.name}; {expiry}.")
    return 0
