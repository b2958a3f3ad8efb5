"""The audit page and its CSV export on both databases: the export holds exactly the rows
the filter shows, in the same order, across keyset pages and chunks (ties included),
dates are days in the viewer's time zone, and no cell can run as a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from db.models import Agent, ApprovalLog
from services import dashboard_views as views
from services.context import Database
from tests.factories import make_agent, make_listing, make_piece
from tests.web.dashboard_kit import dashboard_app, serve, sign_in

BASE = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
ACTIONS = ("approved", "rejected", "requested_revisions")


@dataclass(frozen=True)
class Logged:
    log_id: uuid.UUID
    at: datetime
    action: str
    agent_id: uuid.UUID
    piece_id: uuid.UUID


async def _seed(database: Database, rows: int = 130) -> tuple[list[Agent], list[Logged]]:
    """Two agents' decisions every 47 minutes over a few days; every fifth row shares
    its timestamp with the row before (ties broken by id)."""
    logged: list[Logged] = []
    async with database.unit_of_work() as s:
        agents = [await make_agent(s, name="Chris Doe"), await make_agent(s, name="Pat Lee")]
        pieces = [await make_piece(s, a, await make_listing(s)) for a in agents]
        at = BASE
        for i in range(rows):
            if i % 5:
                at = at + timedelta(minutes=47)
            k = i % 2
            row = ApprovalLog(
                id=uuid.uuid4(),
                content_piece_id=pieces[k].id,
                agent_id=agents[k].id,
                action_type=ACTIONS[i % 3],
                timestamp=at,
                feedback=f"note {i}",
                from_status="pending_approval_agent",
                to_status="rejected",
                version=1,
            )
            s.add(row)
            logged.append(Logged(row.id, at, row.action_type, agents[k].id, pieces[k].id))
    return agents, logged


def _newest_first(rows: list[Logged]) -> list[Logged]:
    return sorted(rows, key=lambda r: (r.at, r.log_id.hex), reverse=True)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def _html_pages(client: object, query: str) -> list[str]:
    """The draft ids of every row the audit pages show, following "More »" links."""
    ids: list[str] = []
    path: str | None = f"/audit?{query}"
    while path is not None:
        body = await (await client.get(path)).text()  # type: ignore[attr-defined]
        table = body.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in body else ""
        ids += re.findall(r'href="/drafts/([0-9a-f-]{36})"', table)
        more = re.search(r'<a class="next" href="([^"]+)"', body)
        path = more.group(1).replace("&amp;", "&") if more else None
    return ids


@pytest.mark.parametrize(
    "query, keep",
    [
        ("", lambda r, a: True),
        ("action=rejected", lambda r, a: r.action == "rejected"),
        ("agent={pat}", lambda r, a: r.agent_id == a[1].id),
        (
            "from=2026-03-09&to=2026-03-10",
            lambda r, a: (
                datetime(2026, 3, 9, tzinfo=UTC) <= r.at < datetime(2026, 3, 11, tzinfo=UTC)
            ),
        ),
        (
            "agent={chris}&action=approved&from=2026-03-09",
            lambda r, a: (
                r.agent_id == a[0].id
                and r.action == "approved"
                and r.at >= datetime(2026, 3, 9, tzinfo=UTC)
            ),
        ),
    ],
    ids=["all", "action", "agent", "dates", "everything"],
)
async def test_the_csv_holds_exactly_what_the_filter_shows(
    database: Database, monkeypatch: pytest.MonkeyPatch, query: str, keep: object
) -> None:
    # Small chunks and pages: many keyset boundaries, some of them inside ties.
    monkeypatch.setattr(views, "CSV_CHUNK", 7)
    monkeypatch.setattr(views, "AUDIT_PER_PAGE", 11)
    agents, logged = await _seed(database)
    query = query.format(chris=agents[0].id, pat=agents[1].id)
    expected = _newest_first([r for r in logged if keep(r, agents)])  # type: ignore[operator]
    assert len(expected) > 0
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        response = await client.get(f"/audit.csv?{query}")
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        rows = _csv(await response.text())
        shown = await _html_pages(client, query)
    assert [r["feedback"] for r in rows] == [f"note {logged.index(r)}" for r in expected]
    assert [r["draft_id"] for r in rows] == [str(r.piece_id) for r in expected]
    assert [r["action"] for r in rows] == [r.action for r in expected]
    assert [datetime.fromisoformat(r["time"]) for r in rows] == [r.at for r in expected]
    # The pages show the same rows in the same order.
    assert shown == [str(r.piece_id) for r in expected]


async def test_an_agents_user_exports_only_that_agents_rows(database: Database) -> None:
    agents, _logged = await _seed(database, rows=20)
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=agents[0])
        text = await (await client.get(f"/audit.csv?agent={agents[1].id}")).text()
    rows = _csv(text)
    assert len(rows) == 10 and {r["agent"] for r in rows} == {"Chris Doe"}


async def test_dates_are_days_in_the_viewers_time_zone(database: Database) -> None:
    """03:30 UTC on 10 March is still 9 March in New York."""
    async with database.unit_of_work() as s:
        agent = await make_agent(s, timezone="America/New_York")
        piece = await make_piece(s, agent)
        s.add(
            ApprovalLog(
                content_piece_id=piece.id,
                agent_id=agent.id,
                action_type="approved",
                timestamp=datetime(2026, 3, 10, 3, 30, tzinfo=UTC),
            )
        )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, agent=agent)
        on_9th = _csv(await (await client.get("/audit.csv?from=2026-03-09&to=2026-03-09")).text())
        on_10th = _csv(await (await client.get("/audit.csv?from=2026-03-10")).text())
    assert [r["time"] for r in on_9th] == ["2026-03-09T23:30:00-04:00"]
    assert on_10th == []


async def test_no_cell_runs_as_a_formula(database: Database) -> None:
    async with database.unit_of_work() as s:
        agent = await make_agent(s, name="=cmd|' /C calc'!A0")
        piece = await make_piece(s, agent, await make_listing(s, address="@SUM(1+1)*cmd"))
        for feedback in ('=HYPERLINK("http://evil.example")', "+1", "-2+3", "@x", "\tx", "fine"):
            s.add(
                ApprovalLog(
                    content_piece_id=piece.id,
                    agent_id=agent.id,
                    action_type="requested_revisions",
                    feedback=feedback,
                )
            )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        rows = _csv(await (await client.get("/audit.csv")).text())
    assert sorted(r["feedback"] for r in rows) == sorted(
        ['\'=HYPERLINK("http://evil.example")', "'+1", "'-2+3", "'@x", "'\tx", "fine"]
    )
    assert {r["agent"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    assert {r["home"] for r in rows} == {"'@SUM(1+1)*cmd, Ocala"}


async def test_the_export_is_the_log_as_it_was_when_asked(database: Database) -> None:
    """A decision logged after the export began is not in it."""
    _agents, logged = await _seed(database, rows=5)
    async with database.unit_of_work() as s:
        await s.execute(
            update(ApprovalLog)
            .where(ApprovalLog.id == logged[0].log_id)
            .values(timestamp=datetime.now(UTC) + timedelta(hours=1))
        )
    async with serve(dashboard_app(database)) as client:
        await sign_in(client, database, admin=True)
        rows = _csv(await (await client.get("/audit.csv")).text())
    assert len(rows) == 4 and str(logged[0].piece_id) in {r["draft_id"] for r in rows}
