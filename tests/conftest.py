"""Shared fixtures: a migrated database per backend, isolated per test.

SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). The real
migrations run once per backend; each `session` test runs inside a transaction that
is rolled back. Tests that need committed data across sessions use `database`,
whose tables are emptied afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import migrate
from db.base import Base
from db.session import create_engine, create_sessionmaker
from services.context import Database
from services.crypto import TokenCipher, generate_key
from services.status_machine import allowed_pairs
from tests import status_watch

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="TEST_DATABASE_URL is not set")
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("backend") == "postgresql" and not PG_URL:
            item.add_marker(skip_pg)


async def _reset_postgres(url: str) -> None:
    engine = create_engine(url, null_pool=True)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="rltr-test-"))


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
async def migrated_url(backend: str, sqlite_dir: Path) -> AsyncIterator[str]:
    if backend == "postgresql":
        await _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{sqlite_dir / 'test.db'}"
    await migrate.upgrade(url)
    watch = create_engine(url, null_pool=True)
    try:
        await status_watch.install(watch)
    finally:
        await watch.dispose()
    yield url
    await _report_status_changes(backend, url)


_STATUS_CHANGES_SEEN: dict[str, set[tuple[str, str]]] = {}


async def _report_status_changes(backend: str, url: str) -> None:
    """Session end: every status change the code made is one the machine declares."""
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:
            seen = await status_watch.seen_pairs(conn)
    finally:
        await engine.dispose()
    _STATUS_CHANGES_SEEN[backend] = seen
    undeclared = seen - allowed_pairs()
    assert not undeclared, f"status changes no transition declares: {sorted(undeclared)}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Which declared (from, to) pairs the tests exercised, per backend."""
    declared = allowed_pairs()
    for backend, seen in sorted(_STATUS_CHANGES_SEEN.items()):
        never = sorted(declared - seen)
        terminalreporter.write_line(
            f"status machine ({backend}): {len(seen & declared)}/{len(declared)} declared"
            f" status changes exercised; not exercised: {never or 'none'}"
        )


@pytest.fixture(scope="session")
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        s = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield s
        finally:
            await s.close()
            await trans.rollback()


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table (children first)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher([generate_key()])


@pytest.fixture
async def database(engine: AsyncEngine, cipher: TokenCipher) -> AsyncIterator[Database]:
    """A committing database (like production); every table is emptied afterwards."""
    maker: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    await truncate_all(engine)
    try:
        yield Database(engine=engine, sessionmaker=maker, cipher=cipher)
    finally:
        await truncate_all(engine)


@pytest.fixture
async def scratch_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the backend under test, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"rltr_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, null_pool=True)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
