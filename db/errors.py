"""The data layer's own errors; callers never see driver exceptions."""

from __future__ import annotations


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
