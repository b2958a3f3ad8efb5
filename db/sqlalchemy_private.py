"""The one place that uses SQLAlchemy below its public API (tested with SQLAlchemy 2.1).

db/driver.py runs a tap's statements straight on asyncpg, and db/session.py repairs the pool
for them, with three things SQLAlchemy does not offer publicly. A minor release may change
any of them, so pyproject.toml admits only the tested minor, and
tests/db/test_sqlalchemy_private.py names the SQLAlchemy version when one disappears.

- `in_greenlet`: `sqlalchemy.util.greenlet_spawn`, to check a pooled connection back in
  (or invalidate it) from async code without wrapping it in an `AsyncConnection`, whose
  checkout and shielded close cost more than the statements.
- `positional`: a compiled statement's positional parameter order
  (`SQLCompiler.positiontup`) and the values fixed inside it (`SQLCompiler.binds`), which
  SQLAlchemy otherwise only uses inside its own execute path; `required_binds` reads the
  same `binds` for the parameters a call must give, and their types.
- `invalidate_pooled`: `Pool._invalidate`, which marks every pooled connection stale, as
  SQLAlchemy does itself on a disconnect met on its own execute path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn as in_greenlet

__all__ = [
    "PositionalStatement",
    "in_greenlet",
    "invalidate_pooled",
    "positional",
    "required_binds",
]


@dataclass(frozen=True)
class PositionalStatement:
    """SQL text with positional placeholders, its parameter names in order, fixed values."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]


def positional(stmt: Executable, dialect: Dialect) -> PositionalStatement:
    """`stmt` compiled for `dialect` (a positional paramstyle such as asyncpg's `$1`)."""
    compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    # Values fixed in the statement itself (literals, constant lists); the others must
    # come with each call, as SQLAlchemy would insist.
    fixed = {
        name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
    }
    return PositionalStatement(str(compiled.string), tuple(compiled.positiontup or ()), fixed)


def required_binds(stmt: Executable, dialect: Dialect) -> dict[str, Any]:
    """The parameters each call of `stmt` must give, with their SQL types (the batched
    forms of db.tap_batches take each of them as an array)."""
    compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    return {name: bind.type for name, bind in compiled.binds.items() if bind.required}


def invalidate_pooled(engine: AsyncEngine) -> None:
    """Replace every connection in `engine`'s pool at its next checkout."""
    engine.sync_engine.pool._invalidate(None, None, _checkin=False)  # type: ignore[arg-type]
