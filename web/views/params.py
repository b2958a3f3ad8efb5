"""Reading a dashboard request's query and form values; anything unreadable is ignored."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date

from aiohttp import web


def uuid_or_none(value: object) -> uuid.UUID | None:
    """A UUID from text, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def choice(value: object, allowed: Iterable[str]) -> str | None:
    """`value` when it is one of `allowed`, else None."""
    return value if isinstance(value, str) and value in set(allowed) else None


def day(value: object) -> date | None:
    """A YYYY-MM-DD day, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def text(value: object, *, limit: int = 200) -> str | None:
    """Trimmed text (at most `limit` characters), or None when empty."""
    if not isinstance(value, str):
        return None
    value = value.strip()[:limit]
    return value or None


def number(value: object) -> int | None:
    """A non-negative integer, or None."""
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def piece_id(request: web.Request) -> uuid.UUID:
    """The draft id of the path, or 404."""
    found = uuid_or_none(request.match_info.get("piece_id"))
    if found is None:
        raise web.HTTPNotFound()
    return found


def local_path(value: object, default: str) -> str:
    """A path on this site to go back to (never another site), else `default`."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) < 2000
    ):
        return value
    return default


def query_without(query: Mapping[str, str], *names: str) -> dict[str, str]:
    """The query's values minus `names` (for links that keep the other filters)."""
    return {k: v for k, v in query.items() if k not in names and v}
