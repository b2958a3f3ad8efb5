"""`rltr-mktg scrape` against the fake builder site."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bot.cli import main
from bot.scrape_cli import run_scrape_once
from db.models import ContentPiece, Listing
from services.context import Database
from services.settings import load_settings
from tests.factories import make_agent
from tests.fakes.builder_site import FakeBuilderSite
from tests.services.scraping.scrape_pass.conftest import fast_fetcher_factory


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Environment for `main(["scrape"])`; the root logger is restored afterwards."""
    for name in ("OPENAI_API_KEY", "ENCRYPTION_KEY", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield tmp_path
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_cli_scrape_prints_progress_and_the_summary(
    cli_env: Path,
    site: FakeBuilderSite,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LISTINGS_BASE_URL", site.base_url)
    code = await asyncio.to_thread(main, ["scrape"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Scrape of {site.base_url}" in out
    for label, value in [
        ("Checked", "7"),
        ("New", "7"),
        ("Changed", "0"),
        ("Price changes", "0"),
        ("Sold / off market", "0"),
        ("Failed", "0"),
        ("Requests made", "10"),
    ]:
        line = next(line for line in out.splitlines() if f" {label} " in line)
        assert line.split()[-2] == value, line
    assert "Duration" in out
    # not a terminal: plain progress lines on stderr instead of a bar
    assert "scrape: sitemap read" in err and "scrape: checked 7/7 homes" in err

    # a second run finds nothing new
    code = await asyncio.to_thread(main, ["scrape"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert next(line for line in out.splitlines() if " Unchanged " in line).split()[-2] == "7"


async def test_cli_scrape_says_when_the_pass_stopped_at_its_deadline(
    cli_env: Path,
    site: FakeBuilderSite,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slow = ["5127-sw-88th-place-ocala", "918-nw-14th-terrace-cape-coral"]
    for slug in slow:
        site.fail(f"/new-homes-for-sale/{slug}/", "slow", delay=60.0)
    monkeypatch.setenv("LISTINGS_BASE_URL", site.base_url)
    monkeypatch.setenv("SCRAPE_PASS_DEADLINE_MINUTES", "0.05")  # 3 s
    code = await asyncio.to_thread(main, ["scrape"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Stopped at its deadline after 5 of 7 homes; the rest will be fetched next pass." in (
        " ".join(out.split())
    )
    assert next(line for line in out.splitlines() if " New " in line).split()[-2] == "5"

    site.clear_faults()
    code = await asyncio.to_thread(main, ["scrape"])
    out, _ = capsys.readouterr()
    assert code == 0 and "Stopped at" not in out
    assert next(line for line in out.splitlines() if " New " in line).split()[-2] == "2"


async def test_cli_scrape_exits_2_when_the_sitemap_cannot_be_read(
    cli_env: Path,
    site: FakeBuilderSite,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site.fail("/homes-sitemap.xml", "status", status=404)
    monkeypatch.setenv("LISTINGS_BASE_URL", site.base_url)
    code = await asyncio.to_thread(main, ["scrape"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [sentence] = [line for line in err.splitlines() if line.startswith("rltr-mktg:")]
    assert "could not read the builder's sitemap" in sentence and "HTTP 404" in sentence
    assert "LISTINGS_BASE_URL" in sentence and "Traceback" not in err


async def test_run_scrape_once_writes_listings_and_drafts_on_each_backend(
    database: Database, site: FakeBuilderSite, tmp_path: Path
) -> None:
    async with database.unit_of_work() as session:
        await make_agent(session)
    settings = load_settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        listings_base_url=site.base_url,
        data_dir=tmp_path,
        _env_file=None,
    )
    out, err = io.StringIO(), io.StringIO()
    code = await run_scrape_once(
        settings,
        fetcher_factory=fast_fetcher_factory(),
        out=Console(file=out, width=100),
        err=Console(file=err, width=100),
    )
    assert code == 0
    async with database.unit_of_work() as session:
        listings = await session.scalar(select(func.count()).select_from(Listing))
        drafts = await session.scalar(select(func.count()).select_from(ContentPiece))
    assert listings == 7
    assert drafts and drafts > 0  # the drafts service wrote posts for the new homes
    line = next(line for line in out.getvalue().splitlines() if "Drafts written" in line)
    assert line.split()[-2] == str(drafts)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_run_scrape_once_skips_quietly_while_another_process_scrapes(
    database: Database, site: FakeBuilderSite, tmp_path: Path
) -> None:
    from db.process_locks import SCRAPE_LOCK, try_advisory_lock
    from db.session import create_engine
    from services.scraping.scrape_pass import RUNNING_ELSEWHERE

    settings = load_settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        listings_base_url=site.base_url,
        data_dir=tmp_path,
        _env_file=None,
    )
    other = create_engine(database.engine.url, null_pool=True)
    out, err = io.StringIO(), io.StringIO()
    try:
        async with try_advisory_lock(other, SCRAPE_LOCK) as held:
            assert held
            code = await run_scrape_once(
                settings,
                fetcher_factory=fast_fetcher_factory(),
                out=Console(file=out, width=200),
                err=Console(file=err, width=200),
            )
    finally:
        await other.dispose()
    assert code == 0
    assert out.getvalue().strip() == RUNNING_ELSEWHERE
    assert site.requests == []
    async with database.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Listing)) == 0
