"""Alembic environment: async engines, batch mode on SQLite.

`db.migrate` passes an open connection in `config.attributes["connection"]`; the
`alembic` command line builds its own engine for the database the app itself would use
(DATABASE_URL, or the SQLite file in DATA_DIR when it is unset).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

import db.models  # noqa: F401  (registers every table on the metadata)
from db.base import Base
from db.process_locks import MIGRATIONS, lock_key
from db.session import create_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from services.settings import load_settings, make_data_dir

    settings = load_settings()
    url = settings.resolved_database_url
    if not settings.database_url:
        make_data_dir(settings.data_dir)  # as `rltr-mktg migrate` does for its SQLite file
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
    )


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one after the other; the second then finds
            # the schema at head and does nothing. Released when the transaction ends.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(MIGRATIONS)}
            )
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url(), null_pool=True)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
