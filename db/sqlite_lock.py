"""SQLite serves one long-running process: a lock file next to the database says which.

`rltr-mktg run` and `rltr-mktg worker` hold an exclusive `flock` on `<database>.lock` for
as long as they run; the operating system drops it when the process ends, however it ends.
Short commands (migrate, add-agent, scrape…) do not take it: they may run next to the bot.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from db.errors import DatabaseError
from db.session import normalize_url


class DatabaseInUse(DatabaseError):
    """Another process runs on this SQLite database."""

    def __init__(self, database: Path) -> None:
        super().__init__(
            f"Another rltr-mktg process is already running on the SQLite database {database}; "
            "SQLite serves one process only: stop that one, or set DATABASE_URL to PostgreSQL "
            "to run several."
        )
        self.database = database


def lock_path(url: str) -> Path | None:
    """The lock file of a SQLite database file, or None (PostgreSQL, in-memory)."""
    parsed = normalize_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if name.startswith("file:"):
        return None
    return Path(name).resolve().with_name(Path(name).name + ".lock")


@contextmanager
def single_process(url: str) -> Iterator[None]:
    """Hold the database's lock file while the block runs; `DatabaseInUse` when another
    process holds it. A no-op on PostgreSQL, which several processes share."""
    path = lock_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(path.with_name(path.name.removesuffix(".lock"))) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
