"""The admin's /scrape and the scrape job, through the real PTB Application."""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from bot.jobs import scrape_job as scrape_jobs
from bot.jobs.job_options import NO_OVERLAP
from services.scraping.scrape_pass import ALREADY_RUNNING, scrape_running
from tests.bot.conftest import ADMIN_ID, BotHarness, harness  # noqa: F401
from tests.fakes.builder_site import FakeBuilderSite
from tests.services.scraping.scrape_pass.conftest import RecordingEvents, fast_fetcher_factory


def _point_at(h: BotHarness, site: FakeBuilderSite, events: Any = None) -> None:
    h.settings.listings_base_url = site.base_url
    h.runtime.fetcher_factory = fast_fetcher_factory()
    if events is not None:
        h.runtime.listing_events = events


async def test_scrape_edits_one_message_with_progress_then_the_summary(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
) -> None:
    h = harness
    _point_at(h, site)
    site.latency = 0.3  # a pass of ~2 s: room for progress edits
    admin = h.fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/scrape")
    message = await admin.next_message()
    assert "Checking the builder's site" in message.content
    done = await admin.wait_for(
        lambda: message if "Scrape finished" in message.content else None, timeout=15
    )
    assert "Checked 7 homes: 7 new, 0 changed, 0 unchanged." in done.content
    assert "Requests made: 10" in done.content
    assert len(admin.messages) == 1  # one message, edited
    progress = [e.text or "" for e in done.edits[:-1]]
    assert progress and all("Checking" in t or "Saving" in t or "sitemap" in t for t in progress)
    assert any("/7 homes…" in t for t in progress)
    times = [message.sent_at, *(e.t for e in done.edits)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.95, gaps  # at most one edit per second


async def test_scrape_summary_says_when_the_pass_stopped_at_its_deadline(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
) -> None:
    h = harness
    _point_at(h, site)
    h.settings.scrape_pass_deadline_minutes = 0.03  # 1.8 s
    for slug in ["5127-sw-88th-place-ocala", "918-nw-14th-terrace-cape-coral"]:
        site.fail(f"/new-homes-for-sale/{slug}/", "slow", delay=60.0)
    admin = h.fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/scrape")
    message = await admin.next_message()
    done = await admin.wait_for(
        lambda: message if "Scrape finished" in message.content else None, timeout=15
    )
    assert (
        "⏱ Stopped at its deadline after 5 of 7 homes; the rest will be fetched next pass."
        in done.content
    )
    assert "Checked 7 homes: 5 new, 0 changed, 0 unchanged." in done.content
    assert not scrape_running()


async def test_scrape_while_a_pass_runs_says_so(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
) -> None:
    h = harness
    _point_at(h, site)
    site.latency = 0.2
    running = asyncio.create_task(scrape_jobs.run_now(h.runtime))
    while not scrape_running():
        await asyncio.sleep(0.005)
    admin = h.fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/scrape")
    reply = await admin.next_message()
    assert reply.content == ALREADY_RUNNING
    summary = await running
    assert summary.new == 7
    assert len(admin.messages) == 1


async def test_scrape_is_for_admins_only(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
) -> None:
    _point_at(harness, site)
    stranger = harness.fake.user(31337, "Mallory")
    await stranger.send_command("/scrape")
    reply = await stranger.next_message()
    assert reply.content == "This command is for administrators."
    assert site.hits == {}


async def test_scrape_of_an_unreachable_site_says_what_to_check(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
) -> None:
    _point_at(harness, site)
    site.fail("/homes-sitemap.xml", "status", status=404)
    admin = harness.fake.user(ADMIN_ID, "Broker")
    await admin.send_command("/scrape")
    message = await admin.next_message()
    await admin.wait_for(lambda: message if "Could not" in message.content else None)
    assert "Could not read the builder's sitemap" in message.content
    assert "HTTP 404" in message.content and "LISTINGS_BASE_URL" in message.content


async def test_scrape_job_uses_the_runtime_events_and_logs_one_line(
    harness: BotHarness,  # noqa: F811
    site: FakeBuilderSite,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = RecordingEvents()
    _point_at(harness, site, events)
    context = SimpleNamespace(application=harness.app)
    with caplog.at_level(logging.INFO, logger="bot.jobs.scrape_job"):
        await scrape_jobs.scrape_job(context)  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if r.name == "bot.jobs.scrape_job"]
    assert record.getMessage() == "scrape pass"
    assert (record.checked, record.new, record.requests) == (7, 7, 10)  # type: ignore[attr-defined]
    assert len(events.new) == 1 and len(events.new[0]) == 6


async def test_scrape_job_is_scheduled_every_interval_without_overlap(
    harness: BotHarness,  # noqa: F811
) -> None:
    h = harness
    h.settings.scrape_interval_minutes = 15
    scrape_jobs.schedule(h.app)
    assert h.app.job_queue is not None
    [job] = h.app.job_queue.get_jobs_by_name("scrape")
    try:
        assert job.job.trigger.interval.total_seconds() == 15 * 60
        assert job.job.max_instances == NO_OVERLAP["max_instances"]
        assert job.job.coalesce is True
    finally:
        job.schedule_removal()
