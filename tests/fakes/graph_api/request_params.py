"""Reading a Graph request: its parameters (query, form or JSON), `fields`,
`attached_media`; dropping a connection; Graph timestamps.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

from tests.fakes.graph_api.graph_faults import GraphFault


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else "<file>"
    return params


def _field_list(params: dict[str, Any]) -> list[str]:
    return [f.strip() for f in str(params.get("fields", "")).split(",") if f.strip()]


def _attached_media(params: dict[str, Any]) -> list[str]:
    """`attached_media[i]={"media_fbid":…}` form keys, or a JSON array in a JSON body."""
    raw = params.get("attached_media")
    items: list[Any] = []
    if isinstance(raw, list):
        items = raw
    else:
        indexed = []
        for key, value in params.items():
            m = re.fullmatch(r"attached_media\[(\d+)\]", key)
            if m:
                indexed.append((int(m.group(1)), value))
        items = [v for _, v in sorted(indexed)]
    ids = []
    for item in items:
        obj = item
        if isinstance(item, str):
            try:
                obj = json.loads(item)
            except ValueError:
                raise GraphFault(100, "(#100) param attached_media must be JSON") from None
        if not isinstance(obj, dict) or "media_fbid" not in obj:
            raise GraphFault(100, "(#100) param attached_media needs media_fbid")
        ids.append(str(obj["media_fbid"]))
    return ids


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=204)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))
