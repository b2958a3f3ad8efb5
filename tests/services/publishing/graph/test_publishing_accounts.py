"""Account validation: the name to show, the expiry, and clear refusals for bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.publishing import AccountInfo, PublishError, validate_account
from tests.services.publishing.graph.conftest import IG_ID, IG_TOKEN, PAGE_ID, PAGE_TOKEN


async def test_facebook_page(client, fake) -> None:
    info = await validate_account(client, "facebook", PAGE_ID, PAGE_TOKEN)
    assert info == AccountInfo(PAGE_ID, "facebook", "Sunny Homes", None)
    assert [(c.method, c.path) for c in fake.graph_calls()] == [
        ("GET", f"/{PAGE_ID}"),
        ("GET", "/me"),
        ("GET", "/debug_token"),
    ]
    assert fake.graph_calls(path="/debug_token")[0].params == {"input_token": PAGE_TOKEN}


async def test_instagram_account(client, fake) -> None:
    info = await validate_account(client, "instagram", IG_ID, IG_TOKEN)
    assert info == AccountInfo(IG_ID, "instagram", "Sunny Homes (@sunnyhomes)", None)
    assert fake.graph_calls()[0].params == {"fields": "id,username,name,media_count"}


async def test_expiry_from_debug_token(client, fake) -> None:
    expires, data_access = 1_900_000_000, 1_950_000_000
    fake.add_page(
        "300000000000001",
        "EAAGexpiringToken0123456789",
        "Soon",
        expires_at=expires,
        data_access_expires_at=data_access,
    )
    info = await validate_account(
        client, "facebook", "300000000000001", "EAAGexpiringToken0123456789"
    )
    assert info.expires_at == datetime.fromtimestamp(expires, tz=UTC)


async def test_data_access_expiry_counts_when_earlier(client, fake) -> None:
    fake.add_page(
        "300000000000002",
        "EAAGdataAccessToken0123456789",
        "Data",
        expires_at=0,
        data_access_expires_at=1_900_000_000,
    )
    info = await validate_account(
        client, "facebook", "300000000000002", "EAAGdataAccessToken0123456789"
    )
    assert info.expires_at == datetime.fromtimestamp(1_900_000_000, tz=UTC)


async def test_debug_token_unavailable_is_tolerated(client, fake) -> None:
    fake.debug_token_available = False
    info = await validate_account(client, "instagram", IG_ID, IG_TOKEN)
    assert info.display_name == "Sunny Homes (@sunnyhomes)" and info.expires_at is None


async def test_debug_token_down_is_tolerated(client, fake) -> None:
    fake.fail_next("/debug_token", times=10, code=2, http_status=503)
    info = await validate_account(client, "facebook", PAGE_ID, PAGE_TOKEN)
    assert info.expires_at is None


@pytest.mark.parametrize(
    "token",
    ["", "hello", "paste token here please", "EAAG token\nwith newline 0123456789", "EAAG🙂" * 10],
)
async def test_text_that_is_not_a_token_makes_no_call(client, fake, token) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, "facebook", PAGE_ID, token)
    assert info.value.kind == "token_invalid"
    assert "does not look like an access token" in info.value.user_message
    assert fake.graph_calls() == []


@pytest.mark.parametrize(
    ("platform", "account_id", "words"),
    [
        ("facebook", "https://facebook.com/sunnyhomes", "Facebook Page id is a number"),
        ("instagram", "@sunnyhomes", "not the @username"),
    ],
)
async def test_account_id_that_is_not_an_id_makes_no_call(
    client, fake, platform, account_id, words
) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, platform, account_id, PAGE_TOKEN)
    assert words in info.value.user_message
    assert fake.graph_calls() == []


async def test_page_id_given_as_instagram(client, fake) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, "instagram", PAGE_ID, PAGE_TOKEN)
    assert info.value.kind == "wrong_platform"
    assert info.value.user_message.startswith(
        f"Account {PAGE_ID} is a Facebook Page, not an Instagram account"
    )
    assert len(fake.graph_calls()) == 1


async def test_instagram_id_given_as_facebook(client, fake) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, "facebook", IG_ID, IG_TOKEN)
    assert info.value.kind == "wrong_platform"
    assert "is an Instagram account, not a Facebook Page" in info.value.user_message


async def test_user_token_is_not_a_page_token(client, fake) -> None:
    fake.add_user_token("EAAGpersonalUserToken0123456789", "555", "Jane Agent")
    with pytest.raises(PublishError) as info:
        await validate_account(client, "facebook", PAGE_ID, "EAAGpersonalUserToken0123456789")
    assert info.value.kind == "permission"
    assert info.value.user_message.startswith(
        f"This token belongs to Jane Agent, not to the Page {PAGE_ID}"
    )


async def test_unknown_account(client, fake) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, "instagram", "17841499999999999", IG_TOKEN)
    assert info.value.kind == "not_found"


@pytest.mark.parametrize("subcode", [460, 463, 467])
async def test_revoked_token(client, fake, subcode) -> None:
    fake.revoke_token(PAGE_TOKEN, subcode=subcode)
    with pytest.raises(PublishError) as info:
        await validate_account(client, "facebook", PAGE_ID, PAGE_TOKEN)
    assert info.value.kind == "token_invalid" and info.value.subcode == subcode
    assert len(fake.graph_calls()) == 1


async def test_unknown_token(client, fake) -> None:
    with pytest.raises(PublishError) as info:
        await validate_account(client, "facebook", PAGE_ID, "EAAGneverIssuedToken0123456789")
    assert info.value.kind == "token_invalid" and info.value.code == 190


@pytest.mark.parametrize(
    ("platform", "account_id", "scope"),
    [
        ("facebook", "300000000000003", "pages_manage_posts"),
        ("instagram", "17841400000000003", "instagram_content_publish"),
    ],
)
async def test_token_without_publishing_permission(client, fake, platform, account_id, scope):
    token = "EAAGreadOnlyToken0123456789"
    if platform == "facebook":
        fake.add_page(account_id, token, "Read only", scopes=("pages_show_list",))
    else:
        fake.add_ig_user(account_id, token, "readonly", scopes=("instagram_basic",))
    with pytest.raises(PublishError) as info:
        await validate_account(client, platform, account_id, token)
    assert info.value.kind == "permission"
    assert f"lacks the {scope} permission" in info.value.user_message
