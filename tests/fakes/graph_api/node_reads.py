"""Reading and deleting one node by id (`GET /{id}?fields=…`, `DELETE /{id}`)."""

from __future__ import annotations

from typing import Any

from tests.fakes.graph_api.graph_faults import GraphFault, _not_found
from tests.fakes.graph_api.records import _FIELDS, FakeToken
from tests.fakes.graph_api.request_params import _field_list, _iso


class NodeReads:
    """Reading and deleting one node by id (`GET /{id}?fields=…`, `DELETE /{id}`).

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def _get_node(self, node_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        if node_id in self.pages:  # a Page's public fields are readable with any valid token
            page = self.pages[node_id]
            return self._fields(
                "Page",
                {
                    "id": page.page_id,
                    "name": page.name,
                    "category": page.category,
                    "link": f"https://www.facebook.com/{page.page_id}",
                    "fan_count": 0,
                },
                params,
            )
        if node_id in self.ig_users and node_id in tok.accounts:
            user = self.ig_users[node_id]
            return self._fields(
                "IGUser",
                {
                    "id": user.ig_user_id,
                    "ig_id": int(user.ig_user_id) % 10**10,
                    "username": user.username,
                    "name": user.name,
                    "media_count": len(user.published_at),
                },
                params,
            )
        if node_id in self.containers:
            container = self.containers[node_id]
            if container.ig_user_id not in tok.accounts:
                raise _not_found(node_id, "GET")
            return self._container_fields(container, params)
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is not None and post.account_id in tok.accounts:
            if post.platform == "facebook":
                return self._fields(
                    "Post",
                    {
                        "id": post.id,
                        "message": post.message,
                        "permalink_url": post.permalink,
                        "created_time": _iso(post.created_at),
                        "is_published": post.published,
                    },
                    params,
                )
            return self._fields(
                "IGMedia",
                {
                    "id": post.id,
                    "permalink": post.permalink,
                    "caption": post.message,
                    "media_type": "CAROUSEL_ALBUM" if len(post.image_urls) > 1 else "IMAGE",
                    "timestamp": _iso(post.created_at),
                },
                params,
            )
        photo = self.photos.get(node_id)
        if photo is not None and photo.page_id in tok.accounts:
            return self._fields(
                "Photo",
                {
                    "id": photo.id,
                    "link": f"https://www.facebook.com/photo/?fbid={photo.id}",
                    "name": photo.caption,
                    "created_time": _iso(photo.created_at),
                },
                params,
            )
        raise _not_found(node_id, "GET")

    def _fields(
        self, node_type: str, values: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        requested = _field_list(params)
        if not requested:
            requested = [k for k in ("id", "name") if k in values] or ["id"]
        allowed = _FIELDS[node_type]
        for name in requested:
            if name not in allowed:
                raise GraphFault(
                    100,
                    f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})",
                )
        out = {name: values[name] for name in requested if name in values}
        out.setdefault("id", values["id"])
        return out

    def _delete(self, node_id: str, tok: FakeToken) -> dict[str, Any]:
        post = next((p for p in self.posts if p.id == node_id and not p.deleted), None)
        if post is None or post.account_id not in tok.accounts:
            raise _not_found(node_id, "DELETE")
        post.deleted = True
        return {"success": True}

    # Facebook ---------------------------------------------------------
