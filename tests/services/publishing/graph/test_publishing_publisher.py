"""GraphPublisher: pre-flight before any Graph call, then the right platform flow."""

from __future__ import annotations

import logging

import pytest

from services.publishing import GraphPublisher, Publisher, PublishError
from tests.services.publishing.graph.conftest import IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN


@pytest.fixture
def publisher(client, images) -> GraphPublisher:
    return GraphPublisher(client, images, poll_interval_s=0.01, poll_timeout_s=2)


def test_graph_publisher_satisfies_the_protocol(publisher) -> None:
    as_protocol: Publisher = publisher
    assert callable(as_protocol.publish)


async def test_instagram_happy_path_checks_quota_first(publisher, fake) -> None:
    urls = [fake.add_jpeg("a.jpg", 1080, 1080), fake.add_jpeg("b.jpg", 1080, 1350)]
    result = await publisher.publish("instagram", IG_ID, IG_TOKEN, "Two rooms", urls)
    assert result.notes == ()
    [post] = fake.visible_posts(IG_ID)
    assert result.platform_post_id == post.id and post.image_urls == urls
    assert fake.graph_calls()[0].path == f"/{IG_ID}/content_publishing_limit"


async def test_facebook_happy_path(publisher, fake) -> None:
    url = fake.add_png("plan.png", 1000, 700)
    result = await publisher.publish("facebook", PAGE_ID, PAGE_TOKEN, "Floor plan", [url])
    assert fake.visible_posts(PAGE_ID)[0].id == result.platform_post_id
    assert len(fake.image_fetches("plan.png")) == 1


async def test_unusable_photos_are_left_out_with_a_note(publisher, fake) -> None:
    good = fake.add_jpeg("good.jpg", 1080, 1080)
    png = fake.add_png("plan.png", 1000, 1000)
    result = await publisher.publish("instagram", IG_ID, IG_TOKEN, "x", [png, good])
    assert fake.visible_posts(IG_ID)[0].image_urls == [good]
    assert result.notes == (
        "Photo 1 is a PNG file but Instagram takes only JPEG; convert it or pick another.",
    )
    assert len(fake.image_fetches("good.jpg")) == 1 and len(fake.image_fetches("plan.png")) == 1


@pytest.mark.parametrize(
    ("platform", "make_images", "words"),
    [
        ("instagram", lambda f: [f.add_file("l.html", b"<html></html>", "text/html")], "web page"),
        ("facebook", lambda f: [f.add_file("l.html", b"<html></html>", "text/html")], "web page"),
        ("instagram", lambda f: [f.add_jpeg("b.jpg", 900, 900, pad_to_bytes=12 << 20)], "12.0 MB"),
        ("facebook", lambda f: [f.add_jpeg("b.jpg", 900, 900, pad_to_bytes=12 << 20)], "12.0 MB"),
        ("instagram", lambda f: [f.add_png("p.png", 900, 900)], "only JPEG"),
        ("instagram", lambda f: [f.add_jpeg("w.jpg", 2000, 500)], "too wide"),
        ("instagram", lambda f: [], "need at least one photo"),
    ],
)
async def test_bad_images_fail_before_any_graph_call(
    publisher, fake, platform, make_images, words
) -> None:
    urls = make_images(fake)
    account, token = (IG_ID, IG_TOKEN) if platform == "instagram" else (PAGE_ID, PAGE_TOKEN)
    with pytest.raises(PublishError) as info:
        await publisher.publish(platform, account, token, "Nice home", urls)
    assert info.value.kind == "media" and not info.value.retryable
    assert words in info.value.user_message
    assert fake.graph_calls() == []
    assert len(fake.image_fetches()) == len(urls)


async def test_long_caption_fails_before_fetching_anything(publisher, fake) -> None:
    url = fake.add_jpeg("a.jpg", 1080, 1080)
    with pytest.raises(PublishError) as info:
        await publisher.publish("instagram", IG_ID, IG_TOKEN, "x" * 3000, [url])
    assert info.value.kind == "caption"
    assert info.value.user_message == (
        "The caption has 3,000 characters but Instagram allows 2,200; shorten it by 800."
    )
    assert fake.calls == []


async def test_quota_exhausted_stops_before_creating_containers(publisher, fake) -> None:
    fake.add_ig_user(
        "17841400000000009", "IGAAquotaSpentToken0123456789", "spent", quota_total=50, quota_used=50
    )
    with pytest.raises(PublishError) as info:
        await publisher.publish(
            "instagram",
            "17841400000000009",
            "IGAAquotaSpentToken0123456789",
            "x",
            [fake.add_jpeg("a.jpg", 1080, 1080)],
        )
    assert info.value.kind == "quota" and not info.value.retryable
    assert "50 of its 50" in info.value.user_message
    assert [c.path for c in fake.graph_calls()] == ["/17841400000000009/content_publishing_limit"]


async def test_quota_check_can_be_skipped(client, images, fake) -> None:
    publisher = GraphPublisher(client, images, check_quota=False, poll_interval_s=0.01)
    await publisher.publish("instagram", IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)])
    assert fake.graph_calls(path="*content_publishing_limit") == []


async def test_dead_token_through_the_publisher_never_leaks(publisher, fake, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fake.revoke_token(PAGE_TOKEN, subcode=460)
    fake.revoke_token(IG_TOKEN, subcode=463)
    for platform, account, token in (
        ("facebook", PAGE_ID, PAGE_TOKEN),
        ("instagram", IG_ID, IG_TOKEN),
    ):
        with pytest.raises(PublishError) as info:
            await publisher.publish(
                platform, account, token, "x", [fake.add_jpeg("a.jpg", 900, 900)]
            )
        assert info.value.deactivates_account
        assert token not in str(info.value) and token not in info.value.detail
    assert PAGE_TOKEN not in caplog.text and IG_TOKEN not in caplog.text


async def test_quota_is_read_once_per_account_and_counted_down_by_our_posts(
    publisher, fake
) -> None:
    spare = ("17841400000000010", "IGAAquotaTwoLeftToken0123456789")
    fake.add_ig_user(*spare, "twoleft", quota_total=50, quota_used=48)
    url = fake.add_jpeg("a.jpg", 1080, 1080)
    for text in ("one", "two"):
        await publisher.publish("instagram", *spare, text, [url])
    assert len(fake.graph_calls(path=f"/{spare[0]}/content_publishing_limit")) == 1
    # Our count says none is left: it reads afresh before refusing, and refuses.
    with pytest.raises(PublishError) as info:
        await publisher.publish("instagram", *spare, "three", [url])
    assert info.value.kind == "quota"
    assert len(fake.graph_calls(path=f"/{spare[0]}/content_publishing_limit")) == 2
    assert len(fake.visible_posts(spare[0])) == 2


async def test_a_spent_count_is_read_afresh_and_a_freed_quota_used(publisher, fake) -> None:
    spare = ("17841400000000011", "IGAAquotaOneLeftToken0123456789")
    user = fake.add_ig_user(*spare, "oneleft", quota_total=50, quota_used=49)
    url = fake.add_jpeg("a.jpg", 1080, 1080)
    await publisher.publish("instagram", *spare, "one", [url])
    user.quota_used_before = 0  # the rolling window moved on
    await publisher.publish("instagram", *spare, "two", [url])
    assert len(fake.graph_calls(path=f"/{spare[0]}/content_publishing_limit")) == 2
    assert len(fake.visible_posts(spare[0])) == 2
