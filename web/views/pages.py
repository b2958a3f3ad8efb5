"""The dashboard's pages (GET): overview, drafts, one draft, schedule, posts, audit,
listings. Each reads one page for the signed-in viewer and renders its template."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from db.base import utcnow
from db.status import ApprovalAction, ContentStatus
from services import dashboard_views as views
from web.auth import CSRF_FIELD, signed_in, viewer_of
from web.dashboard import dashboard_of
from web.views.params import choice, day, piece_id, query_without, text, uuid_or_none

DRAFT_TABS = (
    (ContentStatus.PENDING_APPROVAL_AGENT.value, "Waiting"),
    (ContentStatus.PENDING_EXTERNAL_MARKETING_APPROVAL.value, "Marketing"),
    (ContentStatus.APPROVED_FOR_POSTING.value, "Scheduled"),
    (ContentStatus.POSTED_SUCCESSFULLY.value, "Posted"),
    (ContentStatus.POSTING_FAILED.value, "Failed"),
    (ContentStatus.REJECTED.value, "Rejected"),
    ("all", "All"),
)
_STATUSES = {s.value for s in ContentStatus} | {"all"}


def render(
    request: web.Request, template: str, *, http_status: int = 200, **context: Any
) -> web.Response:
    """A page with what every page shows: the viewer, the flash message, the filters."""
    viewer = viewer_of(request)
    return aiohttp_jinja2.render_template(
        template,
        request,
        {
            "viewer": viewer,
            "csrf_field": CSRF_FIELD,
            "path": request.path,
            "here": request.path_qs,
            "query": dict(request.query),
            "query_without": lambda *names: query_without(request.query, *names),
            "tz": viewer.timezone,
            "texts": views.platform_texts,
            "agents": context.pop("agents", []),
            **context,
        },
        status=http_status,
    )


@signed_in
async def overview(request: web.Request) -> web.Response:
    """`/`: counts, what needs attention, the latest scrape, the next posts."""
    viewer = viewer_of(request)
    agent = uuid_or_none(request.query.get("agent"))
    async with dashboard_of(request).open_database().unit_of_work() as session:
        data = await views.overview(session, viewer, agent=agent)
        agents = await views.agent_choices(session, viewer)
    return render(request, "overview.html", data=data, agents=agents, title="Overview")


@signed_in
async def drafts(request: web.Request) -> web.Response:
    """`/drafts`: drafts by status and agent, with photos and the text per platform."""
    viewer = viewer_of(request)
    status = choice(request.query.get("status"), _STATUSES) or DRAFT_TABS[0][0]
    agent = uuid_or_none(request.query.get("agent"))
    async with dashboard_of(request).open_database().unit_of_work() as session:
        page = await views.drafts_page(
            session,
            viewer,
            status=None if status == "all" else status,
            agent=agent,
            cursor=request.query.get("after"),
        )
        agents = await views.agent_choices(session, viewer)
    return render(
        request,
        "drafts.html",
        page=page,
        status=status,
        tabs=DRAFT_TABS,
        agents=agents,
        buttons_for=views.buttons_for,
        title="Drafts",
    )


@signed_in
async def draft(request: web.Request) -> web.Response:
    """`/drafts/{id}`: one draft, its posts and its history (404 when not the viewer's)."""
    viewer = viewer_of(request)
    wanted = piece_id(request)
    async with dashboard_of(request).open_database().unit_of_work() as session:
        detail = await views.draft_detail(session, viewer, wanted)
    if detail is None:
        return render(request, "missing.html", http_status=404, title="Not found")
    return render(
        request, "draft.html", detail=detail, buttons_for=views.buttons_for, title="Draft"
    )


@signed_in
async def schedule(request: web.Request) -> web.Response:
    """`/schedule`: posts still to go out, by day, with Post now and Cancel."""
    viewer = viewer_of(request)
    agent = uuid_or_none(request.query.get("agent"))
    async with dashboard_of(request).open_database().unit_of_work() as session:
        page = await views.schedule_page(
            session, viewer, agent=agent, cursor=request.query.get("after")
        )
        agents = await views.agent_choices(session, viewer)
    return render(request, "schedule.html", page=page, agents=agents, title="Schedule")


@signed_in
async def posts(request: web.Request) -> web.Response:
    """`/posts`: published posts with their links; failed ones with the reason and Retry."""
    viewer = viewer_of(request)
    agent = uuid_or_none(request.query.get("agent"))
    failed = request.query.get("show") == "failed"
    async with dashboard_of(request).open_database().unit_of_work() as session:
        page = await views.posts_page(
            session, viewer, failed=failed, agent=agent, cursor=request.query.get("after")
        )
        agents = await views.agent_choices(session, viewer)
    return render(request, "posts.html", page=page, agents=agents, title="Posts")


def audit_query(request: web.Request) -> views.AuditQuery:
    """The audit filter of the query string (shared by the page and the CSV export)."""
    query = request.query
    return views.AuditQuery(
        agent=uuid_or_none(query.get("agent")),
        action=choice(query.get("action"), (a.value for a in ApprovalAction)),
        date_from=day(query.get("from")),
        date_to=day(query.get("to")),
    )


@signed_in
async def audit(request: web.Request) -> web.Response:
    """`/audit`: every decision, filtered by agent, action and dates."""
    viewer = viewer_of(request)
    which = audit_query(request)
    async with dashboard_of(request).open_database().unit_of_work() as session:
        page = await views.audit_page(session, viewer, which, cursor=request.query.get("after"))
        agents = await views.agent_choices(session, viewer)
    return render(
        request,
        "audit.html",
        page=page,
        which=which,
        actions=views.ACTION_LABELS,
        agents=agents,
        title="Audit log",
    )


@signed_in
async def listings(request: web.Request) -> web.Response:
    """`/listings`: homes with status, price, price history and their drafts."""
    viewer = viewer_of(request)
    agent = uuid_or_none(request.query.get("agent"))
    status = choice(request.query.get("status"), views.LISTING_STATUSES)
    search = text(request.query.get("q"))
    async with dashboard_of(request).open_database().unit_of_work() as session:
        page = await views.listings_page(
            session,
            viewer,
            status=status,
            search=search,
            agent=agent,
            cursor=request.query.get("after"),
            now=utcnow(),
        )
        agents = await views.agent_choices(session, viewer)
    return render(
        request,
        "listings.html",
        page=page,
        statuses=views.LISTING_STATUSES,
        agents=agents,
        title="Listings",
    )
