"""Validating an account id and token before they are stored (`/connect`, `connect-account`)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from services.publishing.graph_client import GraphClient, JsonObject
from services.publishing.graph_errors import Platform, PublishError
from services.publishing.results import AccountInfo

log = logging.getLogger(__name__)

# Meta tokens are long runs of URL-safe characters (e.g. "EAAG…", "IGAA…", "appid|secret").
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-.|~%=+/]{20,4096}")
_ACCOUNT_ID_SHAPE = re.compile(r"\d{1,30}")
_NODE_TYPE = re.compile(r"node type \((\w+)\)")


async def validate_account(
    client: GraphClient, platform: Platform, account_id: str, token: str
) -> AccountInfo:
    """Check that `token` can act on `account_id` on `platform`; return its name and expiry.

    Obvious mistakes (a token that is not a token, an id that is not a number) are rejected
    without calling the Graph. Raises `PublishError` with a sentence for the agent.
    """
    account_id = account_id.strip()
    token = token.strip()
    check_token_shape(token)
    check_account_id_shape(platform, account_id)
    if platform == "facebook":
        node = await _read_node(client, platform, account_id, token, "id,name,category")
        me = await client.get("me", token, {"fields": "id,name"}, platform=platform)
        if str(me.get("id")) != account_id:
            owner = me.get("name") or me.get("id") or "another account"
            raise PublishError(
                "permission",
                False,
                f"This token belongs to {owner}, not to the Page {account_id}; create a Page "
                "access token for that Page and connect again.",
            )
        display_name = str(node.get("name") or account_id)
    else:
        # media_count exists on Instagram users but not on Pages (which do have a username),
        # so a Page id given as instagram fails here with "nonexisting field".
        node = await _read_node(client, platform, account_id, token, "id,username,name,media_count")
        username, name = node.get("username"), node.get("name")
        display_name = (
            f"{name} (@{username})"
            if name and username
            else f"@{username}"
            if username
            else str(name or account_id)
        )
    expires_at = await token_expiry(client, token, platform)
    return AccountInfo(account_id, platform, display_name, expires_at)


def check_token_shape(token: str) -> None:
    """Reject text that cannot be an access token, with no network call."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise PublishError(
            "token_invalid",
            False,
            "That does not look like an access token (it should be one long string of letters "
            "and digits with no spaces); copy the whole token and try again.",
        )


def check_account_id_shape(platform: Platform, account_id: str) -> None:
    """Reject an account id that is not numeric, with no network call."""
    if _ACCOUNT_ID_SHAPE.fullmatch(account_id):
        return
    if platform == "facebook":
        message = (
            "A Facebook Page id is a number such as 104857392018374 (see the Page's About "
            "section), not a name or link; send the number and try again."
        )
    else:
        message = (
            "An Instagram account id for publishing is a number such as 17841400000000000 (the "
            "professional account linked to your Page), not the @username; send the number "
            "and try again."
        )
    raise PublishError("invalid_request", False, message)


async def token_expiry(client: GraphClient, token: str, platform: Platform) -> datetime | None:
    """When the token stops working, from `debug_token`; None if it never expires or is unknown.

    The earlier of `expires_at` and `data_access_expires_at` counts, since either ends posting.
    An unavailable `debug_token` is tolerated. An invalid token, or one whose scopes lack the
    publishing permission, raises `PublishError`.
    """
    try:
        resp = await client.get("debug_token", token, {"input_token": token}, platform=platform)
    except PublishError as exc:
        if exc.kind == "token_invalid":
            raise
        log.info("debug_token unavailable (%s); token expiry unknown", exc.kind)
        return None
    data = resp.get("data")
    if not isinstance(data, dict):
        return None
    if data.get("is_valid") is False:
        error = data.get("error")
        subcode = error.get("subcode") if isinstance(error, dict) else None
        raise PublishError(
            "token_invalid",
            False,
            "Facebook says this token is no longer valid (expired or revoked); create a new "
            "token and connect again.",
            190,
            subcode if isinstance(subcode, int) else None,
        )
    _check_publish_scope(platform, data.get("scopes"))
    stamps = [
        value
        for value in (data.get("expires_at"), data.get("data_access_expires_at"))
        if isinstance(value, int) and not isinstance(value, bool) and value > 0
    ]
    return datetime.fromtimestamp(min(stamps), tz=UTC) if stamps else None


# Facebook Login tokens carry instagram_content_publish; Instagram Login tokens the business one.
_PUBLISH_SCOPES: dict[Platform, tuple[str, ...]] = {
    "facebook": ("pages_manage_posts",),
    "instagram": ("instagram_content_publish", "instagram_business_content_publish"),
}


def _check_publish_scope(platform: Platform, scopes: object) -> None:
    if not isinstance(scopes, list):
        return  # not reported: the first post will tell
    wanted = _PUBLISH_SCOPES[platform]
    if any(scope in scopes for scope in wanted):
        return
    raise PublishError(
        "permission",
        False,
        f"This token cannot publish: it lacks the {wanted[0]} permission; create a new token "
        "with that permission granted and connect again.",
    )


async def _read_node(
    client: GraphClient, platform: Platform, account_id: str, token: str, fields: str
) -> JsonObject:
    try:
        return await client.get(account_id, token, {"fields": fields}, platform=platform)
    except PublishError as exc:
        message = exc.graph_message or ""
        if exc.code == 100 and "nonexisting field" in message:
            raise _wrong_platform(platform, account_id, message) from None
        raise


def _wrong_platform(platform: Platform, account_id: str, graph_message: str) -> PublishError:
    match = _NODE_TYPE.search(graph_message)
    node = match.group(1) if match else ""
    if node == "Page":
        message = (
            f"Account {account_id} is a Facebook Page, not an Instagram account; connect it as "
            "facebook, or use the id of the Instagram account linked to the Page."
        )
    elif "IG" in node:
        message = (
            f"Account {account_id} is an Instagram account, not a Facebook Page; connect it as "
            "instagram, or use the Page's own id."
        )
    elif node == "User":
        message = (
            f"Account {account_id} is a personal Facebook profile, not a Page; use the id of a "
            "Page you manage."
        )
    else:
        wanted = "a Facebook Page" if platform == "facebook" else "an Instagram account"
        message = (
            f"Account {account_id} is not {wanted}; check the id and the platform and try again."
        )
    return PublishError("wrong_platform", False, message, 100)
