"""The database's readiness probe (the bot's own probes are in bot/readiness.py)."""

from __future__ import annotations

import asyncio
import logging

from db.repositories.ping import ping
from services.context import Database

log = logging.getLogger(__name__)

DATABASE_TIMEOUT_S = 2.0


async def database_problem(database: Database, timeout_s: float = DATABASE_TIMEOUT_S) -> str | None:
    """None when the database answers `SELECT 1` within `timeout_s`, else what went wrong.

    The answer is served to anyone who can reach /readyz, so it names only the kind of
    failure; the details go to the log.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await ping(database.engine)
    except TimeoutError:
        return f"the database did not answer within {timeout_s:g} s"
    except Exception as exc:
        log.warning("database readiness check failed", extra={"error": str(exc)[:300]})
        return f"cannot reach the database ({type(exc).__name__})"
    return None
