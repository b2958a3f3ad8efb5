"""The `rltr-mktg` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import NoReturn

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.logging_setup import setup_logging
from db import migrate as migrations
from db.errors import DatabaseError
from services.crypto import generate_key
from services.errors import ServiceError
from services.redaction import redact
from services.settings import ConfigError, Settings, load_settings, make_data_dir

EXIT_CONFIG = 2

log = logging.getLogger(__name__)

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]


class CliError(Exception):
    """A failure the CLI reports in one sentence with exit code 2."""


def _fail(message: str) -> NoReturn:
    raise CliError(message)


async def _migrate(settings: Settings) -> None:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        make_data_dir(settings.data_dir)
    try:
        await migrations.upgrade(url)
    except (OSError, OperationalError, DBAPIError, DatabaseError) as exc:
        _fail(
            f"DATABASE_URL: cannot reach the database ({_reason(exc)}); check that the server "
            "is running and the URL is right."
        )


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return text[:200]


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Apply migrations, then run the bot and its jobs until stopped."""
    return await _run(settings, take_updates=True)


async def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Like `run`, without taking Telegram updates: the jobs and the web side."""
    return await _run(settings, take_updates=False)


async def _run(settings: Settings, *, take_updates: bool) -> int:
    settings.require_bot_token()
    await _migrate(settings)
    from telegram.error import InvalidToken, NetworkError

    from db.sqlite_lock import DatabaseInUse
    from rltr_mktg.process import run_process

    try:
        await run_process(settings, take_updates=take_updates)
    except DatabaseInUse as exc:
        _fail(str(exc))
    except InvalidToken:
        _fail(
            "TELEGRAM_BOT_TOKEN was refused by Telegram; copy it again from @BotFather "
            "(/mybots → API Token)."
        )
    except NetworkError as exc:
        _fail(
            f"Cannot reach the Telegram Bot API at {settings.telegram_api_base_url} "
            f"({_reason(exc)}); check the network or TELEGRAM_API_BASE_URL."
        )
    return 0


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Apply pending migrations."""
    await _migrate(settings)
    print("Database is up to date.")
    return 0


async def cmd_scrape(settings: Settings, args: argparse.Namespace) -> int:
    """One scrape pass with a progress bar and a summary."""
    await _migrate(settings)
    from bot.scrape_cli import run_scrape_once

    return await run_scrape_once(settings)


async def cmd_add_agent(settings: Settings, args: argparse.Namespace) -> int:
    """Create an agent and print their invite link."""
    await _migrate(settings)
    from services.context import open_database
    from services.onboarding import add_agent, invite_link

    async with open_database(settings) as database, database.unit_of_work() as session:
        new = await add_agent(
            session, email=args.email, name=args.name, phone=args.phone, company=args.company
        )
    username = await _bot_username(settings)
    print(f"Agent {new.agent.name} <{new.agent.email}> created.")
    if username:
        print(f"Invite link (single use, valid 7 days): {invite_link(username, new.invite_token)}")
    else:
        print(f"Invite token (single use, valid 7 days): {new.invite_token}")
        print("The agent sends /start <token> to the bot.")
    return 0


async def _bot_username(settings: Settings) -> str | None:
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    try:
        async with bot:
            return bot.username
    except (TelegramError, OSError):
        return None


async def cmd_connect_account(settings: Settings, args: argparse.Namespace) -> int:
    """Validate a token against the Graph API and store it encrypted."""
    await _migrate(settings)
    from bot.accounts_cli import connect_account

    return await connect_account(settings, args)


async def cmd_add_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create a dashboard login; the password is the first line of stdin."""
    await _migrate(settings)
    from bot.users_cli import add_dashboard_user

    return await add_dashboard_user(settings, args)


async def cmd_generate_key(settings: Settings, args: argparse.Namespace) -> int:
    """Print a new encryption key."""
    print(generate_key())
    return 0


async def cmd_rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    """Re-encrypt every stored token under the first key of ENCRYPTION_KEY."""
    await _migrate(settings)
    from services.context import open_database
    from services.token_rotation import rotate_all_tokens

    async with open_database(settings) as database, database.unit_of_work() as session:
        count = await rotate_all_tokens(session, database.cipher)
    print(f"Re-encrypted {count} account token(s) under the newest key.")
    return 0


async def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Check configuration and every outside service; say what is wrong."""
    from bot.doctor import run_doctor

    return await run_doctor(settings)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="rltr-mktg",
        description="Telegram marketing assistant for real estate agents.",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        return p

    add("run", cmd_run, "Apply migrations, then run the bot and its jobs until stopped.")
    add(
        "worker",
        cmd_worker,
        "Like run, without taking Telegram updates: the jobs and the web side, for a second "
        "process next to a polling bot (PostgreSQL).",
    )
    add("migrate", cmd_migrate, "Apply pending database migrations.")
    add("scrape", cmd_scrape, "Run one scrape pass of the builder site now and print a summary.")
    p = add("add-agent", cmd_add_agent, "Create an agent and print their single-use invite link.")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--phone")
    p.add_argument("--company", help="brokerage name, shown in every post's disclosure")
    p = add(
        "connect-account",
        cmd_connect_account,
        "Connect a Facebook Page or Instagram account; the token is read from stdin.",
    )
    p.add_argument("--agent", required=True, metavar="EMAIL")
    p.add_argument("--platform", required=True, choices=["facebook", "instagram"])
    p.add_argument("--account-id", required=True)
    p.add_argument("--expires-at", metavar="ISO", help="token expiry, e.g. 2027-01-31T00:00:00Z")
    p = add(
        "add-user",
        cmd_add_user,
        "Create a dashboard login for an agent or an admin; the password is read from stdin.",
    )
    p.add_argument("--email", required=True)
    p.add_argument("--agent", metavar="AGENT_EMAIL", help="the agent whose data this login sees")
    p.add_argument("--admin", action="store_true", help="the login sees every agent's data")
    add("generate-key", cmd_generate_key, "Print a new encryption key for ENCRYPTION_KEY.")
    add("rotate-key", cmd_rotate_key, "Re-encrypt stored tokens under the newest key.")
    add("doctor", cmd_doctor, "Check configuration, database, Telegram, OpenAI and Graph API.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `rltr-mktg`."""
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level.upper())
    try:
        settings = load_settings()
        if args.func is not cmd_generate_key:
            settings.encryption_keys()
        return int(asyncio.run(args.func(settings, args)))
    except (ConfigError, CliError, ServiceError) as exc:
        print(f"rltr-mktg: {redact(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception:
        # Through the log handler, so that the traceback is redacted like every other line.
        log.critical("rltr-mktg stopped on an unexpected error", exc_info=True)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
