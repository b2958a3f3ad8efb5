"""Big passes parse in a process of their own: same homes, same errors, never the GIL."""

from __future__ import annotations

import asyncio
import os

import pytest

from services.scraping.crawl import crawl
from services.scraping.parser import ParseError, parse_home
from services.scraping.parser_process import (
    PROCESS_ABOVE_PAGES,
    ParserProcess,
    ParserProcessError,
    pass_parser,
)
from tests.fakes.builder_site import HOME_SLUGS, FakeBuilderSite, fixture, home_fixture
from tests.services.scraping.conftest import make_fetcher

BASE = "https://holidaybuilders.com"


def _url(slug: str) -> str:
    return f"{BASE}/new-homes-for-sale/{slug}/"


async def test_pages_parse_there_as_here() -> None:
    async with ParserProcess() as parser:
        assert parser.pid is not None and parser.pid != os.getpid()
        homes = await asyncio.gather(
            *(parser(home_fixture(slug, BASE), _url(slug)) for slug in HOME_SLUGS)
        )
    assert homes == [parse_home(home_fixture(slug, BASE), _url(slug)) for slug in HOME_SLUGS]


async def test_errors_come_back_as_the_parser_raised_them() -> None:
    async with ParserProcess() as parser:
        with pytest.raises(ParseError, match="not a home page"):
            await parser(fixture("not-found.html", BASE), _url("gone"))
        # The process goes on after an error.
        slug = HOME_SLUGS[0]
        assert await parser(home_fixture(slug, BASE), _url(slug)) == parse_home(
            home_fixture(slug, BASE), _url(slug)
        )


async def test_a_dead_parser_process_fails_its_pages_instead_of_hanging() -> None:
    async with ParserProcess() as parser:
        assert parser.pid is not None
        os.kill(parser.pid, 9)
        slug = HOME_SLUGS[0]
        with pytest.raises(ParserProcessError):
            await asyncio.wait_for(parser(home_fixture(slug, BASE), _url(slug)), 10)


async def test_only_passes_with_more_than_a_handful_of_pages_start_a_process() -> None:
    async with pass_parser(PROCESS_ABOVE_PAGES) as few:
        assert not isinstance(few, ParserProcess)
    async with pass_parser(PROCESS_ABOVE_PAGES + 1) as many:
        assert isinstance(many, ParserProcess) and many.pid != os.getpid()


async def test_a_big_first_pass_parses_every_home_in_the_parser_process() -> None:
    async with FakeBuilderSite(sitemap_mode="urlset", include_fixtures=False) as site:
        slugs = site.add_synthetic_homes(3 * PROCESS_ABOVE_PAGES)
        async with make_fetcher(site.base_url) as fetcher:
            result = await crawl(fetcher, site.base_url, {})
        assert result.failures == [] and len(result.homes) == len(slugs)
        for home in result.homes[:3]:
            here = parse_home(site.page_bytes(home.source_id).decode(), home.source_url)
            assert home.address == here.address and home.price == here.price
