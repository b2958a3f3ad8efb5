"""Two `rltr-mktg run` processes on one PostgreSQL, in webhook mode behind a round-robin
proxy (PRODUCT.md §9): a whole day's work goes through both, and nothing happens twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from db.models import ApprovalLog, ContentPiece, PostSchedule
from services.context import Database
from tests.fakes.telegram_api import FakeUser
from tests.several_processes.kit import (
    ADMIN_ID,
    PAGE_ID,
    PAGE_TOKEN,
    WEBHOOK_PATH,
    Cluster,
    cluster,
    invite_token,
    markup_labels,
)

AGENT_TG = 4242
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]


async def _pieces(database: Database) -> list[ContentPiece]:
    async with database.unit_of_work() as s:
        rows = (await s.execute(select(ContentPiece).order_by(ContentPiece.created_at))).scalars()
        return list(rows.all())


async def _onboard(c: Cluster) -> FakeUser:
    admin = c.telegram.user(ADMIN_ID, "Broker")
    await admin.send_command("/addagent", "chris@example.com Chris Doe")
    token = invite_token((await admin.next_message(timeout=15)).content)
    chris = c.telegram.user(AGENT_TG, "Chris")
    await chris.send_command("/start", token)
    assert "Welcome, Chris Doe" in (await chris.next_message(timeout=15)).content
    await chris.send_command("/connect")
    menu = await chris.next_message(timeout=15)
    await c.telegram.wait_answer(await chris.tap(menu.message_id, "Facebook"), timeout=15)
    prompt = await chris.next_message(timeout=15)
    await chris.send_text(f"{PAGE_ID} {PAGE_TOKEN}", reply_to=prompt.message_id)
    assert "Connected Facebook Sunny Homes" in (await chris.next_message(timeout=15)).content
    return chris


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_processes_behind_a_proxy_do_everything_once(
    database: Database, migrated_url: str, tmp_path: Path
) -> None:
    async with cluster(migrated_url, tmp_path, telegram_latency=0.25) as c:
        tg = c.telegram
        # Both replicas set the same webhook: the proxy's address.
        assert tg.webhooks.webhook is not None
        assert tg.webhooks.webhook.url == c.proxy.url + WEBHOOK_PATH

        chris = await _onboard(c)

        admin = tg.user(ADMIN_ID)
        await admin.send_command("/scrape")
        await admin.wait_message(lambda m: "new" in m.content.lower() and "✅" in m.content, 30)
        pieces = await _pieces(database)
        assert pieces and len({(p.listing_id, p.purpose) for p in pieces}) == len(pieces)

        drafts = [
            await chris.wait_message(
                lambda m, p=p: (
                    any("Approve" in b for b in m.button_labels)
                    and m.message_id == p.telegram_message_id
                ),
                20,
            )
            for p in await _wait_delivered(database, len(pieces))
        ]
        assert len(drafts) == len(pieces) >= 3

        # Taps and feedback land on both processes (the proxy takes turns).
        first, second, third, *rest = drafts
        answers = [
            await tg.wait_answer(await chris.tap(first.message_id, "Approve"), 15),
            await tg.wait_answer(await chris.tap(second.message_id, "Reject"), 15),
            await tg.wait_answer(await chris.tap(third.message_id, "Revise"), 15),
        ]
        assert all(a.answered for a in answers)
        await chris.wait_message(lambda m: "What should change" in m.content, 15)
        await chris.send_text("Mention the big backyard, please.")
        revised = await chris.wait_message(
            lambda m: (
                any("Approve" in b for b in m.button_labels)
                and m.message_id not in {d.message_id for d in drafts}
            ),
            20,
        )
        await chris.wait_for(lambda: first.edits or None, 15)
        await tg.wait_answer(await chris.tap(first.message_id, "Post now"), 15)
        await tg.wait_answer(await chris.tap(revised.message_id, "Approve"), 15)
        await chris.wait_for(lambda: "Post now" in " ".join(revised.button_labels) or None, 15)
        await tg.wait_answer(await chris.tap(revised.message_id, "Post now"), 15)
        for d in rest:  # double taps, one on each process: each acts once
            q1 = await chris.tap(d.message_id, "Reject")
            q2 = await chris.tap(d.message_id, "Reject")
            await tg.wait_answer(q1, 15)
            await tg.wait_answer(q2, 15)

        await tg.wait_for(lambda: len(c.graph.visible_posts()) >= 2 or None, 30, "two posts")
        # A few rounds of every job on both processes: anything sent twice shows now.
        await asyncio.sleep(6)

        # A wrong or missing secret is refused at either replica, and nothing happens.
        before = len(tg.calls)
        async with aiohttp.ClientSession() as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                for _ in c.replicas:
                    async with http.post(
                        c.proxy.url + WEBHOOK_PATH,
                        json={"update_id": 999999, "message": {"text": "/stats"}},
                        headers=headers,
                    ) as resp:
                        assert resp.status == 403
        await asyncio.sleep(0.5)
        assert len(tg.calls) == before

        # --- nothing twice -------------------------------------------------------------
        served = {port: sum(paths.values()) for port, paths in c.proxy.served.items()}
        webhook_hits = [paths[WEBHOOK_PATH] for paths in c.proxy.served.values()]
        assert all(hits >= 5 for hits in webhook_hits), served

        pieces = await _pieces(database)
        versions = sum(p.version for p in pieces)
        draft_sends = [
            call
            for call in c.sends_to(AGENT_TG, "sendMessage")
            if any("Approve" in label for label in markup_labels(call))
        ]
        # Every version of every draft reached the phone exactly once.
        assert len(draft_sends) == versions == len(pieces) + 1, c.logs()
        texts = Counter(str(call.params.get("text")) for call in draft_sends)
        assert max(texts.values()) == 1
        # A draft's photos go out before its first version only: one album per home, once.
        photo_sends = c.sends_to(AGENT_TG, "sendPhoto", "sendMediaGroup")
        albums = Counter(repr(sorted(call.params.items())) for call in photo_sends)
        assert photo_sends and max(albums.values()) == 1 and len(photo_sends) <= len(pieces)

        assert len(c.graph.visible_posts(PAGE_ID)) == 2 and c.graph.duplicate_count() == 0
        async with database.unit_of_work() as s:
            rows = (await s.execute(select(PostSchedule))).scalars().all()
            logs = Counter((await s.execute(select(ApprovalLog.action_type))).scalars().all())
            versions_count = (
                await s.execute(select(func.count()).select_from(ContentPiece))
            ).scalar_one()
        assert sorted(r.status for r in rows) == ["success", "success"]
        assert logs["approved"] == 2 and logs["requested_revisions"] == 1
        assert logs["rejected"] == 1 + len(rest)
        assert versions_count == len(pieces)
        # One "is live" note per post reached the phone, each once.
        live_notes = [
            str(call.params.get("text"))
            for call in c.sends_to(AGENT_TG, "sendMessage")
            if "is live on" in str(call.params.get("text"))
        ]
        assert len(live_notes) == 2 and len(set(live_notes)) == 2, live_notes
        # The admin's pass ran in one process; a scheduled pass meanwhile would have skipped.
        logs = "\n".join(r.log() for r in c.replicas)
        assert logs.count("scrape pass (from /scrape)") == 1


async def _wait_delivered(database: Database, count: int) -> list[ContentPiece]:
    async with asyncio.timeout(30):
        while True:
            pieces = await _pieces(database)
            done = [p for p in pieces if p.telegram_message_id is not None]
            if len(done) == count:
                return done
            await asyncio.sleep(0.2)
