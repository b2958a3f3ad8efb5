"""`rltr-mktg add-user`: a dashboard login for an agent or an admin.

The password is read from stdin (the first line; a hidden prompt on a terminal), never
from the command line, where it would end up in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from services.context import open_database
from services.dashboard_auth import add_user
from services.errors import InvalidInputError
from services.settings import Settings


def read_password(stream: TextIO | None = None) -> str:
    """The password: a hidden prompt on a terminal, else the first line of stdin."""
    stream = stream or sys.stdin
    if stream.isatty():
        password = getpass.getpass("Password for the dashboard (input hidden): ")
    else:
        password = stream.readline().rstrip("\r\n")
    if not password:
        raise InvalidInputError(
            "No password on stdin; type it when asked, or pipe it in as the first line."
        )
    return password


async def add_dashboard_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create the login and say where to sign in."""
    password = read_password()
    async with open_database(settings) as database, database.unit_of_work() as session:
        user = await add_user(
            session,
            email=args.email,
            password=password,
            agent_email=args.agent,
            is_admin=args.admin,
        )
    sees = "every agent's data" if args.admin else f"the data of agent {args.agent.lower()}"
    print(f"Dashboard login {user.email} created; it sees {sees}.")
    print(f"Sign in at {settings.public_base_url()}/login")
    return 0
