"""Talking to the Graph API: Facebook Page and Instagram publishing, checks, account validation.

No database and no Telegram here; the publisher job and the bot call these functions.
"""

from services.publishing.account_check import (
    check_account_id_shape,
    check_token_shape,
    token_expiry,
    validate_account,
)
from services.publishing.facebook import facebook_permalink, publish_facebook
from services.publishing.graph_client import GraphClient
from services.publishing.graph_errors import (
    ErrorKind,
    GraphError,
    Platform,
    PublishError,
    classify,
)
from services.publishing.instagram import (
    instagram_permalink,
    publish_instagram,
    publishing_quota,
    wait_until_finished,
)
from services.publishing.platform_dispatch import GraphPublisher, Publisher
from services.publishing.preflight import ImageCheck, check_caption, check_images
from services.publishing.results import AccountInfo, PublishResult, Quota

__all__ = [
    "AccountInfo",
    "ErrorKind",
    "GraphClient",
    "GraphError",
    "GraphPublisher",
    "ImageCheck",
    "Platform",
    "PublishError",
    "PublishResult",
    "Publisher",
    "Quota",
    "check_account_id_shape",
    "check_caption",
    "check_images",
    "check_token_shape",
    "classify",
    "facebook_permalink",
    "instagram_permalink",
    "publish_facebook",
    "publish_instagram",
    "publishing_quota",
    "token_expiry",
    "validate_account",
    "wait_until_finished",
]
