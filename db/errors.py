"""The data layer's own errors; callers never see driver exceptions."""

from __future__ import annotations

import asyncpg.exceptions
from sqlalchemy import exc as sa_exc


class DatabaseError(Exception):
    """Base class of data-layer errors."""


class DatabaseUrlError(DatabaseError):
    """The database URL cannot be understood."""


class DatabaseUnavailableError(DatabaseError):
    """The database cannot be reached."""


class DuplicateError(DatabaseError):
    """A row with the same unique value already exists."""

    def __init__(self, entity: str, field: str, value: object) -> None:
        super().__init__(f"A {entity} with {field} {value!r} already exists.")
        self.entity = entity
        self.field = field
        self.value = value


class NotFoundError(DatabaseError):
    """The row asked for does not exist."""


# asyncpg's errors for a server that is gone, shutting down or not accepting connections
# yet (a restart), or out of connection slots.
_UNREACHABLE = (
    OSError,
    TimeoutError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the database cannot be reached now: a refused,
    lost or timed-out connection, or a server restarting; not a mistake in a statement."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, asyncpg.exceptions.InterfaceError) and "closed" in str(seen):
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return False
