"""A scrape pass runs in one process at a time across every process on the database."""

from __future__ import annotations

import pytest

from db.process_locks import SCRAPE_LOCK, try_advisory_lock
from db.session import create_engine
from services.scraping.scrape_pass import RUNNING_ELSEWHERE, ScrapeRunningElsewhere
from tests.services.scraping.scrape_pass.conftest import Scraper


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_pass_skips_while_another_process_scrapes(scraper: Scraper) -> None:
    other = create_engine(scraper.database.engine.url, null_pool=True)
    try:
        async with try_advisory_lock(other, SCRAPE_LOCK) as held:
            assert held
            with pytest.raises(ScrapeRunningElsewhere) as raised:
                await scraper.run()
            assert raised.value.message == RUNNING_ELSEWHERE
            assert scraper.site.requests == [] and await scraper.listings() == {}
    finally:
        await other.dispose()
    # The other process is done: the lock is free again and the pass runs.
    summary = await scraper.run()
    assert summary.new > 0 and len(await scraper.listings()) == summary.new


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_the_lock_is_held_for_the_whole_pass_then_released(scraper: Scraper) -> None:
    other = create_engine(scraper.database.engine.url, null_pool=True)
    seen: list[bool] = []

    async def progress(_: object) -> None:
        async with try_advisory_lock(other, SCRAPE_LOCK) as held:
            seen.append(held)

    try:
        await scraper.run(progress=progress)
        async with try_advisory_lock(other, SCRAPE_LOCK) as after:
            assert after
    finally:
        await other.dispose()
    assert seen and not any(seen)
