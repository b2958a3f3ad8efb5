"""The dashboard's buttons (POST /drafts/{id}/{action}): one transition, then back.

The transition is the one the Telegram button runs (services.dashboard_actions); what it
did is shown on the page the browser returns to (post, redirect, get).
"""

from __future__ import annotations

from aiohttp import web

from services import dashboard_actions
from web.auth import form_of, signed_in, viewer_of
from web.dashboard import dashboard_of
from web.views.params import local_path, number, piece_id


@signed_in
async def act(request: web.Request) -> web.StreamResponse:
    """Approve, Reject, Post now, Cancel or Retry a draft, as the viewer may."""
    action = request.match_info["action"]
    if action not in dashboard_actions.ACTIONS:
        raise web.HTTPNotFound()
    dash = dashboard_of(request)
    form = form_of(request)
    wanted = piece_id(request)
    version = number(form.get("version"))
    back = local_path(form.get("next"), f"/drafts/{wanted}")
    if version is None:
        raise web.HTTPBadRequest(text="The form has no draft version; reload the page.")
    await dashboard_actions.act(
        dash.open_database(),
        viewer_of(request),
        action=action,
        piece_id=wanted,
        version=version,
        default_timezone=dash.default_timezone,
        sync=dash.draft_sync,
    )
    raise web.HTTPSeeOther(location=back)
