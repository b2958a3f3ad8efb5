"""`/audit.csv`: the rows the audit page's filter shows, streamed as they are read."""

from __future__ import annotations

from aiohttp import web

from db.base import utcnow
from services import dashboard_views as views
from web.auth import signed_in, viewer_of
from web.dashboard import dashboard_of
from web.views.pages import audit_query


@signed_in
async def audit_csv(request: web.Request) -> web.StreamResponse:
    """Stream the filtered audit log as CSV, a chunk of rows at a time (flat memory)."""
    dash = dashboard_of(request)
    now = utcnow()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="audit-{now:%Y%m%d-%H%M}.csv"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    chunks = views.audit_csv(
        dash.open_database(), viewer_of(request), audit_query(request), now=now
    )
    async for chunk in chunks:
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response
