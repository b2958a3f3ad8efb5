"""Errors that services raise for a person to read.

Each message is one sentence that says what to do next; handlers and the CLI show it
as it is.
"""

from __future__ import annotations

# An agent an administrator deactivated can no longer act on anything.
ACCOUNT_DEACTIVATED = "Your account is deactivated; ask your administrator."


class ServiceError(Exception):
    """An expected failure with a message fit to show to a person."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable

    @property
    def message(self) -> str:
        """The sentence to show."""
        return str(self.args[0])


class NotAllowedError(ServiceError):
    """The person may not do this."""


class InvalidInputError(ServiceError):
    """What the person typed cannot be used."""


class ConflictError(ServiceError):
    """The thing already changed (stale button, double tap, duplicate)."""
