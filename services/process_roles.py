"""Which long-running processes may share one database, and in which role.

PostgreSQL is shared by any number of processes (PRODUCT.md §9), with one exception:
Telegram hands a bot's updates to one long poll only, so in polling mode exactly one
`rltr-mktg run` takes updates and any other process is a `rltr-mktg worker`. SQLite
serves one process (db/sqlite_lock.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from db.process_locks import POLLING, try_advisory_lock
from db.session import create_engine, normalize_url
from db.sqlite_lock import single_process
from services.settings import ConfigError

ANOTHER_POLLER = (
    "TELEGRAM_MODE=polling: another `rltr-mktg run` already takes this bot's updates from "
    "the same database, and Telegram gives them to one poller only; start this one as "
    "`rltr-mktg worker`, or set TELEGRAM_MODE=webhook to run several behind a load balancer."
)


@asynccontextmanager
async def process_role(url: str, *, polling: bool) -> AsyncIterator[None]:
    """Hold this process's place for as long as it runs.

    SQLite: the database's lock file (`DatabaseInUse` when taken). PostgreSQL with
    `polling`: the polling lock (a ConfigError naming what to do when taken).
    """
    with single_process(url):
        if not polling or normalize_url(url).get_backend_name() != "postgresql":
            yield
            return
        engine = create_engine(url, null_pool=True)
        try:
            async with try_advisory_lock(engine, POLLING) as held:
                if not held:
                    raise ConfigError(ANOTHER_POLLER)
                yield
        finally:
            await engine.dispose()
