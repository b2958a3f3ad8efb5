"""Error replies as Telegram words them (``ApiError`` carries the HTTP status), and results
that come with a ``description``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


ERR_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


ERR_BLOCKED = "Forbidden: bot was blocked by the user"


class ApiError(Exception):
    """An error reply: HTTP status == ``error_code``, as Telegram sends it."""

    def __init__(
        self, code: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = dict(parameters) if parameters else None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            out["parameters"] = self.parameters
        return out


@dataclass
class Described:
    """A method's result with the envelope's ``description`` (e.g. "Webhook was set")."""

    result: Any
    description: str


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")
