"""Instagram publishing against the fake Graph API: containers, polling, publish, quota."""

from __future__ import annotations

import itertools

import pytest

from services.publishing import PublishError, Quota, publish_instagram, publishing_quota
from tests.fakes.graph_api import ContainerPlan
from tests.services.publishing.graph.conftest import IG_ID, IG_TOKEN

FAST = {"poll_interval_s": 0.01, "poll_timeout_s": 2.0}


def graph_trace(fake) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in fake.graph_calls()]


async def test_single_image_container_polled_until_finished(client, fake) -> None:
    url = fake.add_jpeg("front.jpg", 1080, 1080)
    result = await publish_instagram(client, IG_ID, IG_TOKEN, "Sunny kitchen", [url], **FAST)
    [container] = fake.containers.values()
    [post] = fake.visible_posts(IG_ID)
    assert result.platform_post_id == post.id
    assert result.permalink == post.permalink and post.permalink.startswith("https://www.instagram")
    assert post.message == "Sunny kitchen" and post.image_urls == [url]
    assert graph_trace(fake) == [
        ("POST", f"/{IG_ID}/media"),
        ("GET", f"/{container.id}"),  # IN_PROGRESS
        ("GET", f"/{container.id}"),  # FINISHED
        ("POST", f"/{IG_ID}/media_publish"),
        ("GET", f"/{post.id}"),
    ]
    calls = fake.graph_calls()
    assert calls[0].params == {"image_url": url, "caption": "Sunny kitchen"}
    assert calls[1].params == {"fields": "status_code,status"}
    assert calls[3].params == {"creation_id": container.id}
    assert calls[4].params == {"fields": "permalink"}
    assert container.status_code == "PUBLISHED"


async def test_carousel_children_then_carousel_container(client, fake) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 1080, 1350) for i in range(3)]
    result = await publish_instagram(client, IG_ID, IG_TOKEN, "Three rooms", urls, **FAST)
    [post] = fake.visible_posts(IG_ID)
    assert result.platform_post_id == post.id
    assert post.image_urls == urls  # carousel order is the given order
    creates = fake.graph_calls("POST", f"/{IG_ID}/media")
    children, parent = creates[:3], creates[3]
    assert all(c.params["is_carousel_item"] == "true" for c in children)
    assert all("caption" not in c.params for c in children)
    child_ids = [i for i, c in fake.containers.items() if c.is_carousel_item]
    by_url = {fake.containers[i].image_url: i for i in child_ids}
    assert parent.params == {
        "media_type": "CAROUSEL",
        "children": ",".join(by_url[u] for u in urls),
        "caption": "Three rooms",
    }
    assert len(fake.graph_calls("POST", f"/{IG_ID}/media_publish")) == 1


async def test_polling_backs_off_and_is_bounded(client, fake) -> None:
    fake.plan_next_containers(ContainerPlan(polls=4))
    url = fake.add_jpeg("a.jpg", 1080, 1080)
    await publish_instagram(client, IG_ID, IG_TOKEN, "x", [url], **FAST)
    container_id = next(iter(fake.containers))
    polls = fake.graph_calls("GET", f"/{container_id}")
    assert len(polls) == 5
    gaps = [b.at - a.at for a, b in itertools.pairwise(polls)]
    # The pause grows: the fourth is at least three times the first. (A lower bound holds
    # on a loaded machine too, where comparing two measured gaps does not: a late first
    # poll once made the first gap the longer one.)
    assert gaps[-1] >= 3 * FAST["poll_interval_s"]


async def test_container_error_explains_the_subcode(client, fake) -> None:
    fake.plan_next_containers(ContainerPlan(polls=1, final="ERROR", error_subcode=2207009))
    url = fake.add_jpeg("a.jpg", 1080, 1080)
    with pytest.raises(PublishError) as info:
        await publish_instagram(client, IG_ID, IG_TOKEN, "x", [url], **FAST)
    assert info.value.kind == "media" and not info.value.retryable
    assert info.value.subcode == 2207009 and "4:5" in info.value.user_message
    assert fake.graph_calls("POST", f"/{IG_ID}/media_publish") == []


async def test_container_error_with_transient_subcode_is_retryable(client, fake) -> None:
    fake.plan_next_containers(ContainerPlan(final="ERROR", error_subcode=2207001))
    with pytest.raises(PublishError) as info:
        await publish_instagram(client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)])
    assert info.value.retryable


async def test_expired_container_is_retryable_and_not_published(client, fake) -> None:
    fake.plan_next_containers(ContainerPlan(polls=0, final="EXPIRED"))
    with pytest.raises(PublishError) as info:
        await publish_instagram(
            client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)], **FAST
        )
    assert info.value.kind == "transient" and info.value.retryable
    assert "expired" in info.value.user_message
    assert fake.graph_calls("POST", f"/{IG_ID}/media_publish") == []


async def test_container_still_processing_times_out_as_retryable(client, fake) -> None:
    fake.plan_next_containers(ContainerPlan(polls=10_000))
    with pytest.raises(PublishError) as info:
        await publish_instagram(
            client,
            IG_ID,
            IG_TOKEN,
            "x",
            [fake.add_jpeg("a.jpg", 900, 900)],
            poll_interval_s=0.01,
            poll_timeout_s=0.2,
        )
    assert info.value.kind == "transient" and info.value.retryable
    assert fake.graph_calls("POST", f"/{IG_ID}/media_publish") == []
    assert fake.visible_posts() == []


async def test_quota_exhausted_at_media_publish(client, fake) -> None:
    fake.add_ig_user(
        "17841400000000002", "IGAAfullQuotaToken0123456789", "full", quota_total=2, quota_used=2
    )
    quota = await publishing_quota(client, "17841400000000002", "IGAAfullQuotaToken0123456789")
    assert quota == Quota(used=2, total=2) and quota.remaining == 0
    with pytest.raises(PublishError) as info:
        await publish_instagram(
            client,
            "17841400000000002",
            "IGAAfullQuotaToken0123456789",
            "x",
            [fake.add_jpeg("a.jpg", 900, 900)],
            **FAST,
        )
    assert info.value.kind == "quota" and not info.value.retryable
    assert (info.value.code, info.value.subcode) == (9, 2207042)
    assert "daily publishing limit" in info.value.user_message
    assert fake.visible_posts() == []


async def test_quota_counts_published_posts(client, fake) -> None:
    assert await publishing_quota(client, IG_ID, IG_TOKEN) == Quota(used=0, total=100)
    await publish_instagram(
        client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)], **FAST
    )
    urls = [fake.add_jpeg(f"c{i}.jpg", 900, 900) for i in range(4)]
    await publish_instagram(client, IG_ID, IG_TOKEN, "y", urls, **FAST)
    # A carousel counts as one post.
    assert (await publishing_quota(client, IG_ID, IG_TOKEN)).used == 2
    assert fake.graph_calls("GET", f"/{IG_ID}/content_publishing_limit")[0].params == {
        "fields": "quota_usage,config"
    }


async def test_not_ready_publish_is_retried(client, fake) -> None:
    fake.fail_next(f"/{IG_ID}/media_publish", code=9007, subcode=2207027)
    result = await publish_instagram(
        client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)], **FAST
    )
    assert len(fake.graph_calls("POST", f"/{IG_ID}/media_publish")) == 2
    assert [p.id for p in fake.visible_posts()] == [result.platform_post_id]


async def test_lost_publish_answer_after_publishing_is_outcome_unknown(client, fake) -> None:
    fake.fail_next(f"/{IG_ID}/media_publish", action="disconnect_after")
    with pytest.raises(PublishError) as info:
        await publish_instagram(
            client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)], **FAST
        )
    assert info.value.kind == "outcome_unknown" and not info.value.retryable
    assert "check your Instagram" in info.value.user_message
    assert len(fake.visible_posts()) == 1
    assert len(fake.graph_calls("POST", f"/{IG_ID}/media_publish")) == 1


async def test_lost_publish_request_is_recovered_without_a_second_post(client, fake) -> None:
    fake.fail_next(f"/{IG_ID}/media_publish", action="disconnect")
    result = await publish_instagram(
        client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)], **FAST
    )
    # The container was still FINISHED, so publishing it again was safe.
    assert [p.id for p in fake.visible_posts()] == [result.platform_post_id]
    assert len(fake.graph_calls("POST", f"/{IG_ID}/media_publish")) == 2


async def test_graph_rejects_aspect_ratio_without_preflight(client, fake) -> None:
    url = fake.add_jpeg("wide.jpg", 2000, 500)
    with pytest.raises(PublishError) as info:
        await publish_instagram(client, IG_ID, IG_TOKEN, "x", [url], **FAST)
    assert (info.value.kind, info.value.code, info.value.subcode) == ("media", 36003, 2207009)
    assert len(fake.graph_calls()) == 1


async def test_revoked_token_is_token_invalid(client, fake) -> None:
    fake.revoke_token(IG_TOKEN, subcode=460)
    with pytest.raises(PublishError) as info:
        await publish_instagram(client, IG_ID, IG_TOKEN, "x", [fake.add_jpeg("a.jpg", 900, 900)])
    assert info.value.deactivates_account
    assert "Instagram" in info.value.user_message


@pytest.mark.parametrize("count", [0, 11])
async def test_photo_count_checked_before_any_call(client, fake, count) -> None:
    urls = [fake.add_jpeg(f"p{i}.jpg", 900, 900) for i in range(count)]
    with pytest.raises(PublishError) as info:
        await publish_instagram(client, IG_ID, IG_TOKEN, "x", urls)
    assert info.value.kind == "media"
    assert fake.graph_calls() == []
