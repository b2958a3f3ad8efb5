"""Facebook Pages: photos, feed posts with attached photos, and the Page's recent posts."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.graph_api.graph_faults import GraphFault, _not_found
from tests.fakes.graph_api.recent_reads import recent_page_photos, recent_page_posts
from tests.fakes.graph_api.records import FB_MAX_BYTES, FakePage, FakePhoto, FakePost, FakeToken
from tests.fakes.graph_api.request_params import _attached_media, _truthy


class PageMethods:
    """Facebook Pages: photos, feed posts with attached photos, and the Page's recent posts.

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def _page_for(self, page_id: str, tok: FakeToken, method: str) -> FakePage:
        page = self.pages.get(page_id)
        if page is None or page_id not in tok.accounts:
            raise _not_found(page_id, method)
        return page

    def _post_photo(self, page_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "POST")
        self._require_scope(tok, "pages_manage_posts")
        url = params.get("url")
        if not url:
            raise GraphFault(324, "(#324) Requires upload file")
        problem = self._own_image_problem(str(url), FB_MAX_BYTES, instagram=False)
        if problem is not None:
            raise GraphFault(324, "(#324) Missing or invalid image file")
        published = not ("published" in params and not _truthy(params["published"]))
        photo = FakePhoto(
            self._new_id(200_000_000_000_000),
            page.page_id,
            str(url),
            published,
            caption=str(params.get("caption", "")),
            created_at=self.now(),
        )
        self.photos[photo.id] = photo
        if not published:
            return {"id": photo.id}
        post = self._new_fb_post(page, str(params.get("caption", "")), [str(url)])
        photo.post_id = post.id
        return {"id": photo.id, "post_id": post.id}

    def _post_feed(self, page_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "POST")
        self._require_scope(tok, "pages_manage_posts")
        message = str(params.get("message", ""))
        attached = _attached_media(params)
        photos: list[FakePhoto] = []
        for i, fbid in enumerate(attached):
            photo = self.photos.get(fbid)
            if photo is None or photo.page_id != page.page_id or photo.published:
                raise GraphFault(100, f"(#100) param attached_media[{i}] has invalid media_fbid")
            if photo.attached_to is not None:
                raise GraphFault(100, f"(#100) media_fbid {fbid} is already attached to a post")
            photos.append(photo)
        if not message and not photos and not params.get("link"):
            raise GraphFault(100, "(#100) Missing message or attachment")
        published = not ("published" in params and not _truthy(params["published"]))
        if not published and "scheduled_publish_time" in params:
            when = int(str(params["scheduled_publish_time"]))
            if when < time.time() + 600:
                raise GraphFault(
                    100,
                    "(#100) The specified scheduled publish time is invalid: it must be at least "
                    "10 minutes in the future.",
                )
        if (
            self.reject_duplicate_messages
            and message
            and not photos
            and any(p.message == message for p in self.visible_posts(page.page_id))
        ):
            raise GraphFault(506, "(#506) Duplicate status message")
        post = self._new_fb_post(page, message, [p.url for p in photos], published=published)
        for photo in photos:
            photo.attached_to = post.id
        return {"id": post.id}

    def _new_fb_post(
        self, page: FakePage, message: str, urls: list[str], *, published: bool = True
    ) -> FakePost:
        post_part = self._new_id(900_000_000_000_000)
        post = FakePost(
            id=f"{page.page_id}_{post_part}",
            account_id=page.page_id,
            platform="facebook",
            message=message,
            image_urls=urls,
            permalink=f"https://www.facebook.com/{page.page_id}/posts/{post_part}",
            created_at=self.now(),
            published=published,
        )
        self.posts.append(post)
        return post

    # Instagram --------------------------------------------------------

    def _get_page_posts(
        self, page_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "GET")
        self._require_scope(tok, "pages_read_engagement")
        return recent_page_posts(self, page.page_id, params)

    def _get_page_photos(
        self, page_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        page = self._page_for(page_id, tok, "GET")
        return recent_page_photos(self, page.page_id, params)
