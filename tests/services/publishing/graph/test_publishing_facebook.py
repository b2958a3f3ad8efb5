"""Facebook Page publishing against the fake Graph API: exactly the documented calls."""

from __future__ import annotations

import json

import pytest

from services.publishing import PublishError, publish_facebook
from tests.services.publishing.graph.conftest import PAGE_ID, PAGE_TOKEN


def graph_trace(fake) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in fake.graph_calls()]


async def test_text_only_post_goes_to_feed(client, fake) -> None:
    result = await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "New home in Tampa!", [])
    [post] = fake.visible_posts(PAGE_ID)
    assert result.platform_post_id == post.id
    assert result.permalink == post.permalink
    assert graph_trace(fake) == [("POST", f"/{PAGE_ID}/feed"), ("GET", f"/{post.id}")]
    assert fake.graph_calls("POST")[0].params == {"message": "New home in Tampa!"}
    assert fake.graph_calls("GET")[0].params == {"fields": "permalink_url"}


async def test_single_photo_uses_photos_with_url_and_caption(client, fake) -> None:
    url = fake.add_jpeg("front.jpg", 1200, 800)
    result = await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Open house Sunday", [url])
    [post] = fake.visible_posts(PAGE_ID)
    # The returned id is the page post id (post_id), not the photo id.
    assert result.platform_post_id == post.id and "_" in post.id
    assert post.image_urls == [url] and post.message == "Open house Sunday"
    assert graph_trace(fake) == [("POST", f"/{PAGE_ID}/photos"), ("GET", f"/{post.id}")]
    assert fake.graph_calls("POST")[0].params == {"url": url, "caption": "Open house Sunday"}
    assert result.permalink and result.permalink.startswith("https://www.facebook.com/")


async def test_several_photos_are_uploaded_unpublished_then_attached(client, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 800, 600) for i in range(3)]
    result = await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Three photos", urls)
    [post] = fake.visible_posts(PAGE_ID)
    assert result.platform_post_id == post.id
    assert post.image_urls == urls  # attached in the given order
    uploads = fake.graph_calls("POST", f"/{PAGE_ID}/photos")
    assert len(uploads) == 3
    assert all(c.params["published"] == "false" for c in uploads)
    assert sorted(c.params["url"] for c in uploads) == sorted(urls)
    [feed] = fake.graph_calls("POST", f"/{PAGE_ID}/feed")
    assert feed.params["message"] == "Three photos"
    attached = [json.loads(feed.params[f"attached_media[{i}]"]) for i in range(3)]
    photo_by_url = {p.url: p.id for p in fake.photos.values()}
    assert attached == [{"media_fbid": photo_by_url[u]} for u in urls]
    assert len(fake.graph_calls()) == 5  # 3 uploads + feed + permalink


async def test_permalink_failure_does_not_fail_a_published_post(client, fake) -> None:
    fake.fail_next("/*_*", times=9, method="GET", code=100, subcode=33)
    result = await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Posted anyway", [])
    assert result.permalink is None
    assert result.platform_post_id == fake.visible_posts()[0].id


async def test_failed_upload_publishes_nothing(client, fake) -> None:
    good = fake.add_jpeg("ok.jpg", 800, 600)
    missing = fake.image_url("missing.jpg")
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "x", [good, missing])
    assert info.value.kind == "media" and info.value.code == 324
    assert fake.graph_calls("POST", f"/{PAGE_ID}/feed") == []
    assert fake.visible_posts() == []


async def test_duplicate_post_is_reported_not_retried(client, fake) -> None:
    fake.reject_duplicate_messages = True
    await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Same words", [])
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Same words", [])
    assert info.value.kind == "duplicate" and not info.value.retryable
    assert "duplicate" in info.value.user_message
    assert len(fake.visible_posts()) == 1


async def test_missing_permission(client, fake) -> None:
    fake.add_page("200000000000001", "EAAGnoPostScopeToken0123456789", "Other", scopes=())
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, "200000000000001", "EAAGnoPostScopeToken0123456789", "x", [])
    assert info.value.kind == "permission"
    assert "pages_manage_posts" in info.value.user_message


async def test_token_of_another_page_cannot_post(client, fake) -> None:
    fake.add_page("200000000000002", "EAAGotherPageToken0123456789", "Other")
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, PAGE_ID, "EAAGotherPageToken0123456789", "x", [])
    assert info.value.kind == "not_found"
    assert fake.visible_posts() == []


async def test_nothing_to_post_makes_no_call(client, fake) -> None:
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "  ", [])
    assert info.value.kind == "invalid_request"
    assert fake.graph_calls() == []


async def test_lost_answer_on_the_final_feed_call_is_outcome_unknown(client, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 800, 600) for i in range(2)]
    fake.fail_next(f"/{PAGE_ID}/feed", action="disconnect_after")
    with pytest.raises(PublishError) as info:
        await publish_facebook(client, PAGE_ID, PAGE_TOKEN, "Two photos", urls)
    assert info.value.kind == "outcome_unknown"
    assert len(fake.graph_calls("POST", f"/{PAGE_ID}/feed")) == 1
    assert len(fake.visible_posts()) == 1  # it did go out, once
