"""SQLite connections made by the project's engine are durable across a power loss."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db.session import create_engine

# PRAGMA synchronous answers with a number: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
FULL = 2


async def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    """WAL with synchronous=NORMAL may lose the last commits on power loss: a committed
    `sent` claim could vanish and the post go out a second time. FULL syncs each commit."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}")
    try:
        for _ in range(2):  # a new connection, and one back from the pool
            async with engine.connect() as conn:
                mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
                synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar()
            assert (str(mode).lower(), synchronous) == ("wal", FULL)
    finally:
        await engine.dispose()
