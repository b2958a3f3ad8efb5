"""Instagram: media containers and their status, `media_publish`, the quota, recent media."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.graph_api.graph_faults import GraphFault, _not_found
from tests.fakes.graph_api.recent_reads import recent_media
from tests.fakes.graph_api.records import (
    DAY_S,
    IG_MAX_BYTES,
    ContainerPlan,
    FakeContainer,
    FakeIgUser,
    FakePost,
    FakeToken,
)
from tests.fakes.graph_api.request_params import _field_list, _truthy


class InstagramMethods:
    """Instagram: media containers and their status, `media_publish`, the quota, recent media.

    Mixed into ``FakeGraphApi``, whose state it uses.
    """

    def _ig_for(self, ig_user_id: str, tok: FakeToken, method: str) -> FakeIgUser:
        user = self.ig_users.get(ig_user_id)
        if user is None or ig_user_id not in tok.accounts:
            raise _not_found(ig_user_id, method)
        return user

    def _container_fields(self, container: FakeContainer, params: dict[str, Any]) -> dict[str, Any]:
        requested = _field_list(params) or ["id"]
        if "status_code" in requested or "status" in requested:
            container.polls += 1
        code = container.status_code
        status = {
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
            "PUBLISHED": "Published: Media has been successfully published.",
            "EXPIRED": "Expired: Media was not published within 24 hours.",
            "ERROR": "Error: Media upload has failed with error code "
            f"{container.plan.error_subcode or 2207001}",
        }[code]
        return self._fields(
            "ShadowIGMediaBuilder",
            {"id": container.id, "status_code": code, "status": status},
            params,
        )

    def _post_media(
        self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "POST")
        self._require_scope(tok, "instagram_content_publish")
        caption = str(params.get("caption", ""))
        media_type = str(params.get("media_type", "IMAGE")).upper()
        is_item = _truthy(params.get("is_carousel_item", "false"))
        self._check_caption(caption)
        children: list[str] = []
        image_url: str | None = None
        if media_type == "CAROUSEL":
            raw = params.get("children", "")
            children = raw if isinstance(raw, list) else [c for c in str(raw).split(",") if c]
            if not 2 <= len(children) <= 10:
                raise GraphFault(
                    100, "(#100) The carousel must have between 2 and 10 items.", subcode=2207028
                )
            for child_id in children:
                child = self.containers.get(child_id)
                if (
                    child is None
                    or child.ig_user_id != user.ig_user_id
                    or not child.is_carousel_item
                ):
                    raise GraphFault(
                        24, f"(#24) The media with id {child_id} cannot be found.", subcode=2207006
                    )
        elif media_type == "IMAGE":
            image_url = params.get("image_url")
            if not image_url:
                raise GraphFault(100, "(#100) The parameter image_url is required.")
            self._check_ig_image(str(image_url))
        else:
            raise GraphFault(100, "(#100) The media type is not supported.", subcode=2207023)
        plan = (
            self._container_plans.popleft()
            if self._container_plans
            else ContainerPlan(polls=self.polls_until_finished)
        )
        container = FakeContainer(
            id=self._new_id(17_890_000_000_000_000),
            ig_user_id=user.ig_user_id,
            media_type=media_type,
            image_url=str(image_url) if image_url else None,
            caption=caption,
            is_carousel_item=is_item,
            children=children,
            plan=plan,
            created_at=self.now(),
            clock=self.now,
        )
        self.containers[container.id] = container
        return {"id": container.id}

    def _check_caption(self, caption: str) -> None:
        if len(caption) > 2200 or len(re.findall(r"#\w+", caption)) > 30:
            raise GraphFault(
                36004,
                "The caption is too long or has too many hashtags.",
                subcode=2207010,
                user_title="Caption too long",
                user_msg="The caption can have at most 2,200 characters and 30 hashtags.",
            )
        if len(re.findall(r"(?<![\w.@])@[A-Za-z0-9_.]+", caption)) > 20:
            raise GraphFault(100, "(#100) Too many tags in the caption.", subcode=2207040)

    def _check_ig_image(self, url: str) -> None:
        problem = self._own_image_problem(url, IG_MAX_BYTES, instagram=True)
        if problem is None:
            return
        code, subcode, message = {
            "missing": (
                9004,
                2207052,
                "Media download has failed. The media URI doesn't meet our requirements.",
            ),
            "format": (36001, 2207005, "The image format is not supported."),
            "size": (36000, 2207004, "The image is too large to download."),
            "ratio": (
                36003,
                2207009,
                "The submitted image with aspect ratio cannot be "
                "published. Please submit an image with a valid aspect ratio.",
            ),
        }[problem]
        raise GraphFault(code, message, subcode=subcode)

    def _own_image_problem(self, url: str, max_bytes: int, *, instagram: bool) -> str | None:
        """Meta fetches image URLs itself; for URLs on this fake, judge the stored image."""
        parts = urlsplit(url)
        if parts.netloc != f"{self._host}:{self._port}" or not parts.path.startswith("/images/"):
            return None
        image = self.images.get(parts.path.removeprefix("/images/"))
        if image is None or image.format is None:
            return "missing"
        if len(image.body) > max_bytes:
            return "size"
        if instagram:
            if image.format != "JPEG":
                return "format"
            ratio = image.width / image.height
            if not 0.8 <= ratio <= 1.91:
                return "ratio"
        return None

    def _post_media_publish(
        self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "POST")
        self._require_scope(tok, "instagram_content_publish")
        creation_id = str(params.get("creation_id", ""))
        container = self.containers.get(creation_id)
        if container is None or container.ig_user_id != user.ig_user_id:
            raise GraphFault(
                24, "(#24) The media builder with creation_id does not exist.", subcode=2207008
            )
        if container.is_carousel_item:
            raise GraphFault(100, "(#100) A carousel item cannot be published on its own.")
        status = container.status_code
        if status == "PUBLISHED":
            raise GraphFault(100, "(#100) This media has already been published.")
        if status == "EXPIRED":
            raise GraphFault(-2, "The media has expired.", subcode=2207020)
        if status == "ERROR":
            raise GraphFault(
                9007,
                "(#9007) Media upload failed.",
                subcode=container.plan.error_subcode or 2207027,
            )
        if status != "FINISHED":
            raise GraphFault(
                9007,
                "(#9007) Media ID is not available",
                subcode=2207027,
                user_title="Media not ready for publishing",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        now = self.now()
        if user.quota_usage(now) >= user.quota_total:
            raise GraphFault(
                9,
                "(#9) Application request limit reached",
                subcode=2207042,
                user_title="Cannot publish post",
                user_msg="You reached maximum number of posts that is allowed to be published "
                "by Content Publishing API.",
            )
        media_id = self._new_id(17_900_000_000_000_000)
        container.published_media_id = media_id
        user.published_at.append(now)
        if container.media_type == "CAROUSEL":
            urls = [self.containers[c].image_url or "" for c in container.children]
        else:
            urls = [container.image_url or ""]
        shortcode = base64.urlsafe_b64encode(int(media_id).to_bytes(8, "big")).decode()[:11]
        self.posts.append(
            FakePost(
                id=media_id,
                account_id=user.ig_user_id,
                platform="instagram",
                message=container.caption,
                image_urls=urls,
                permalink=f"https://www.instagram.com/p/{shortcode}/",
                created_at=now,
            )
        )
        return {"id": media_id}

    def _get_media(self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "GET")
        return recent_media(self, user.ig_user_id, params)

    def _get_quota(self, ig_user_id: str, tok: FakeToken, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ig_for(ig_user_id, tok, "GET")
        requested = _field_list(params) or ["quota_usage"]
        entry: dict[str, Any] = {}
        if "quota_usage" in requested:
            entry["quota_usage"] = user.quota_usage(self.now())
        if "config" in requested:
            entry["config"] = {"quota_total": user.quota_total, "quota_duration": DAY_S}
        return {"data": [entry]}
