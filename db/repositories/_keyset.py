"""Keyset pagination: the next page starts after the last row shown, found by an index.

A page is ordered by (a time, the row id); the cursor is that pair from the page's last
row. `(time, id) < (cursor)` is a row-value comparison, which PostgreSQL answers from an
index on (time, id) and SQLite (3.15+) understands too; the ids only break ties.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, tuple_

Cursor = tuple[datetime, uuid.UUID]


def _pair(when: Any, row_id: Any, cursor: Cursor) -> tuple[Any, Any]:
    left = tuple_(when, row_id)
    right = tuple_(
        bindparam(None, cursor[0], type_=when.type), bindparam(None, cursor[1], type_=row_id.type)
    )
    return left, right


def before(when: Any, row_id: Any, cursor: Cursor) -> ColumnElement[bool]:
    """Rows that come after `cursor` in a newest-first listing."""
    left, right = _pair(when, row_id, cursor)
    return left < right  # type: ignore[no-any-return]


def after(when: Any, row_id: Any, cursor: Cursor) -> ColumnElement[bool]:
    """Rows that come after `cursor` in an oldest-first listing."""
    left, right = _pair(when, row_id, cursor)
    return left > right  # type: ignore[no-any-return]
