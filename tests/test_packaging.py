"""A non-editable install can migrate, and plain `alembic` works with the default settings.

The wheel is built from a copy of the sources and installed with `--target` into a folder
outside the repository; the installed `rltr-mktg` runs from a directory where the source
tree is not importable, with the project's .venv supplying the dependencies only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import inspect

from db.session import create_engine

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "bot", "services", "db", "web", "rltr_mktg")
TABLES = {"rltr_mktg_agents", "rltr_mktg_content_pieces", "rltr_mktg_post_schedule"}


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder a freshly built wheel was installed into (not editable)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip = [sys.executable, "-m", "pip"]
    built = _run([*pip, "wheel", str(src), "--no-deps", "-q", "-w", str(base)], cwd=base, env=env)
    assert built.returncode == 0, built.stderr
    (wheel,) = base.glob("rltr_mktg-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "db/migrations/env.py" in names and "db/migrations/script.py.mako" in names
    assert any(n.startswith("db/migrations/versions/") for n in names), sorted(names)
    site = base / "site"
    done = _run(
        [*pip, "install", "--no-deps", "-q", "--target", str(site), str(wheel)], cwd=base, env=env
    )
    assert done.returncode == 0, done.stderr
    return site


def _clean_env(**extra: str) -> dict[str, str]:
    """No inherited settings: only what the test names, and a PATH."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": extra.pop("HOME"), **extra}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_installed_wheel_migrates(
    installed: Path, scratch_url: str, tmp_path: Path
) -> None:
    # The .venv's site-packages gives the dependencies; the wheel's folder comes first, and
    # the editable install's finder (appended to sys.meta_path) is never reached for ours.
    deps = sysconfig.get_paths()["purelib"]
    env = _clean_env(
        HOME=str(tmp_path),
        PYTHONPATH=f"{installed}{os.pathsep}{deps}",
        DATABASE_URL=scratch_url,
        DATA_DIR=str(tmp_path / "data"),
    )
    where = _run(
        [sys.executable, "-c", "import bot.cli, db.migrate; print(db.migrate.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout

    done = _run([str(installed / "bin" / "rltr-mktg"), "migrate"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "Database is up to date." in done.stdout
    assert await _tables(scratch_url) >= TABLES


async def test_plain_alembic_creates_the_default_sqlite_database(tmp_path: Path) -> None:
    # Only alembic.ini is copied: the scripts are found in the installed `db` package, and
    # with no DATABASE_URL the database is the app's default SQLite file in ./data.
    shutil.copy2(ROOT / "alembic.ini", tmp_path / "alembic.ini")
    alembic = Path(sys.executable).parent / "alembic"
    done = _run([str(alembic), "upgrade", "head"], cwd=tmp_path, env=_clean_env(HOME=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    database = tmp_path / "data" / "rltr-mktg.db"
    assert database.is_file(), done.stderr
    assert await _tables(f"sqlite+aiosqlite:///{database}") >= TABLES
