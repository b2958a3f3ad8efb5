"""Run Alembic from inside the application (async engines, no nested event loop)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from db.session import create_engine

REPO_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """An Alembic config for `url`, independent of the current directory."""
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    # ConfigParser treats % as interpolation; URLs may contain percent-escapes.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


async def _with_connection(url: str, fn: str, *args: str) -> None:
    cfg = alembic_config(url)
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:

            def run(sync_conn: Connection) -> None:
                cfg.attributes["connection"] = sync_conn
                getattr(command, fn)(cfg, *args)

            await conn.run_sync(run)
            await conn.commit()
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    await _with_connection(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to `revision`."""
    await _with_connection(url, "downgrade", revision)


async def pending_revisions(url: str) -> list[str]:
    """Revisions not yet applied to the database at `url`."""
    cfg = alembic_config(url)
    script = ScriptDirectory.from_config(cfg)
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:

            def current(sync_conn: Connection) -> set[str]:
                return set(MigrationContext.configure(sync_conn).get_current_heads())

            heads = await conn.run_sync(current)
    finally:
        await engine.dispose()
    pending: list[str] = []
    for rev in script.walk_revisions():
        if rev.revision in heads:
            break
        pending.append(rev.revision)
    return pending
