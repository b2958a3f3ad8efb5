"""Run Alembic for the application.

`upgrade` and `downgrade` run Alembic in a child process (`python -m db.migrate`): the
bot migrates at start-up, and Alembic imported there stayed in its memory for good
(~9 MB of the bot's resident set, bench/memory.py). The child's error comes back and is
raised here as it was raised there, so callers handle the same exceptions as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from db.session import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

# The migrations ship inside the `db` package (db/migrations), so an installed wheel can
# migrate; alembic.ini at the repository root names the same place for the `alembic` CLI.
SCRIPT_LOCATION = "db:migrations"
# Where `db` is importable from: the child process runs here (a source tree or site-packages).
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """An Alembic config for `url`, independent of the current directory and of alembic.ini."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    # ConfigParser treats % as interpolation; URLs may contain percent-escapes.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


async def _with_connection(url: str, fn: str, *args: str) -> None:
    from alembic import command

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


def _portable(exc: BaseException) -> BaseException:
    """`exc`, or what can cross a pipe in its place (its class and words, as far as can be)."""
    with contextlib.suppress(Exception):  # not picklable: replaced below
        pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own bytes, just made)
        return exc
    if isinstance(exc, DBAPIError):  # e.g. a driver error that does not pickle
        orig = exc.orig if exc.orig is not None else exc
        return OperationalError(None, None, Exception(str(orig).strip() or type(orig).__name__))
    if isinstance(exc, OSError):
        return OSError(exc.errno, exc.strerror)
    return RuntimeError(f"{type(exc).__name__}: {exc}")


async def _in_child(fn: str, url: str, revision: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "db.migrate",
        cwd=PACKAGE_PARENT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    # The URL travels on stdin, not argv: it may hold a password (argv is public).
    out, _ = await process.communicate(pickle.dumps((fn, url, revision)))
    try:
        error: BaseException | None = pickle.loads(out)  # noqa: S301 (our child's answer)
    except Exception:
        error = RuntimeError(f"migrations ended without an answer (exit {process.returncode})")
    if error is not None:
        raise error


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (in a child process)."""
    await _in_child("upgrade", url, revision)


async def downgrade(url: str, revision: str) -> None:
    """Revert migrations down to `revision` (in a child process)."""
    await _in_child("downgrade", url, revision)


async def pending_revisions(url: str) -> list[str]:
    """Revisions not yet applied to the database at `url`."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

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


def _child() -> None:
    """`python -m db.migrate`: run one command read from stdin; answer the error or None."""
    fn, url, revision = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 (our parent)
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the answer alone, whatever a migration prints
    error: Any = None
    with asyncio.Runner() as runner:
        try:
            runner.run(_with_connection(url, fn, revision))
        except BaseException as exc:  # all of it goes back to the parent, which raises it
            error = _portable(exc)
            # A connection that failed to open may still hand its thread's last result to
            # the loop: let it, rather than print a traceback about a closed loop.
            runner.run(asyncio.sleep(0.1))
    answer.write(pickle.dumps(error))
    answer.flush()


if __name__ == "__main__":
    _child()
