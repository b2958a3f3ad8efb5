"""A database trigger that watches every `content_pieces.status` change while tests run.

Installed on each backend's migrated test database (tests/conftest.py). For every UPDATE
that changes a draft's status it checks the (old, new) pair against the pairs the status
machine declares (services.status_machine.allowed_pairs): an undeclared pair is refused
on the spot (so a test whose transaction is rolled back still fails), and a declared one
is recorded, so the session can compare what the code actually did with the declarations.

A test that must put a draft in a state no flow reaches (a corrupted row, another
version's data) says so with `force_status`, which the trigger lets through unrecorded.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.models import ContentPiece
from services.status_machine import allowed_pairs

PIECES = ContentPiece.__tablename__
SEEN = "test_status_changes_seen"
DECLARED = "test_status_changes_declared"
SETUP = "test_status_setup"
UNDECLARED = "undeclared status change"

_SQLITE = [
    f"CREATE TABLE IF NOT EXISTS {SEEN} (from_status TEXT, to_status TEXT,"
    " PRIMARY KEY (from_status, to_status))",
    f"CREATE TABLE IF NOT EXISTS {DECLARED} (from_status TEXT, to_status TEXT)",
    f"CREATE TABLE IF NOT EXISTS {SETUP} (marker INTEGER)",
    f"DROP TRIGGER IF EXISTS {SEEN}_check",
    f"DROP TRIGGER IF EXISTS {SEEN}_record",
    f"""CREATE TRIGGER {SEEN}_check BEFORE UPDATE OF status ON {PIECES}
        WHEN OLD.status IS NOT NEW.status
         AND NOT EXISTS (SELECT 1 FROM {SETUP})
         AND NOT EXISTS (SELECT 1 FROM {DECLARED} d
                         WHERE d.from_status = OLD.status AND d.to_status = NEW.status)
        BEGIN SELECT RAISE(ABORT, '{UNDECLARED}'); END""",
    f"""CREATE TRIGGER {SEEN}_record AFTER UPDATE OF status ON {PIECES}
        WHEN OLD.status IS NOT NEW.status AND NOT EXISTS (SELECT 1 FROM {SETUP})
        BEGIN INSERT OR IGNORE INTO {SEEN} VALUES (OLD.status, NEW.status); END""",
]
# No key on the record table here: concurrent transactions recording the same pair must
# not wait on each other (the race tests would deadlock on a unique index).
_POSTGRES = [
    f"CREATE TABLE IF NOT EXISTS {SEEN} (from_status TEXT, to_status TEXT)",
    f"CREATE TABLE IF NOT EXISTS {DECLARED} (from_status TEXT, to_status TEXT)",
    f"CREATE TABLE IF NOT EXISTS {SETUP} (marker INTEGER)",
    f"""CREATE OR REPLACE FUNCTION {SEEN}_watch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status IS DISTINCT FROM NEW.status AND NOT EXISTS (SELECT 1 FROM {SETUP}) THEN
        IF NOT EXISTS (SELECT 1 FROM {DECLARED}
                       WHERE from_status = OLD.status AND to_status = NEW.status) THEN
          RAISE EXCEPTION '{UNDECLARED} % -> %', OLD.status, NEW.status;
        END IF;
        INSERT INTO {SEEN} VALUES (OLD.status, NEW.status);
      END IF;
      RETURN NEW;
    END $$""",
    f"DROP TRIGGER IF EXISTS {SEEN}_watch ON {PIECES}",
    f"""CREATE TRIGGER {SEEN}_watch BEFORE UPDATE OF status ON {PIECES}
        FOR EACH ROW EXECUTE FUNCTION {SEEN}_watch()""",
]


async def install(engine: AsyncEngine) -> None:
    """Put the watch on the database, with the declared pairs as they are now."""
    statements = _POSTGRES if engine.dialect.name == "postgresql" else _SQLITE
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql))
        await conn.execute(text(f"DELETE FROM {DECLARED}"))
        await conn.execute(text(f"DELETE FROM {SEEN}"))
        await conn.execute(
            text(f"INSERT INTO {DECLARED} VALUES (:f, :t)"),
            [{"f": f, "t": t} for f, t in sorted(allowed_pairs())],
        )


async def seen_pairs(conn: AsyncConnection | AsyncSession) -> set[tuple[str, str]]:
    """Every (old, new) status change recorded so far (and visible to `conn`)."""
    rows = (await conn.execute(text(f"SELECT from_status, to_status FROM {SEEN}"))).all()
    return {(str(f), str(t)) for f, t in rows}


async def force_status(
    conn: AsyncConnection | AsyncSession, piece_id: uuid.UUID, status: str, **values: Any
) -> None:
    """Put a draft in `status` as test setup, bypassing the machine (and the watch)."""
    await conn.execute(text(f"INSERT INTO {SETUP} VALUES (1)"))
    await conn.execute(
        ContentPiece.__table__.update()
        .where(ContentPiece.__table__.c.id == piece_id)
        .values(status=status, **values)
    )
    await conn.execute(text(f"DELETE FROM {SETUP}"))
