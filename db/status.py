"""The fixed status words of PRODUCT.md §2; the code uses exactly these everywhere."""

from __future__ import annotations

from enum import StrEnum


class ContentType(StrEnum):
    SOCIAL_MEDIA_POST = "social_media_post"
    FLYER_TEXT = "flyer_text"


class ContentStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL_AGENT = "pending_approval_agent"
    PENDING_EXTERNAL_MARKETING_APPROVAL = "pending_external_marketing_approval"
    APPROVED_FOR_POSTING = "approved_for_posting"
    REJECTED = "rejected"
    PENDING_AI_REVISION = "pending_ai_revision"
    POSTED_SUCCESSFULLY = "posted_successfully"
    POSTING_FAILED = "posting_failed"


class ContentPurpose(StrEnum):
    """Why a draft exists: it changes the writer's angle."""

    NEW_LISTING = "new_listing"
    PRICE_IMPROVEMENT = "price_improvement"
    FLYER = "flyer"
    # Lifecycle events (PRODUCT.md §10): `now selling`, `just sold`, back on the market.
    NOW_SELLING = "now_selling"
    JUST_SOLD = "just_sold"
    BACK_ON_MARKET = "back_on_market"


# The lifecycle purposes, each made once per status change per assigned agent.
LIFECYCLE_PURPOSES: tuple[ContentPurpose, ...] = (
    ContentPurpose.NOW_SELLING,
    ContentPurpose.JUST_SOLD,
    ContentPurpose.BACK_ON_MARKET,
)


class ScheduleStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ApprovalAction(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REQUESTED_REVISIONS = "requested_revisions"
    SENT_TO_MARKETING = "sent_to_marketing"
    RECORDED_MARKETING_APPROVAL = "recorded_marketing_approval"
    EDITED = "edited"


class NotificationType(StrEnum):
    CONTENT_AWAITING_APPROVAL = "content_awaiting_approval"
    POST_SUCCESS = "post_success"
    POST_FAILED = "post_failed"
    LISTING_INGESTED = "listing_ingested"
    LISTING_PRICE_CHANGED = "listing_price_changed"
    LISTING_SOLD = "listing_sold"
    TOKEN_EXPIRING = "token_expiring"  # noqa: S105 (a status word, not a secret)
    WEEKLY_DIGEST = "weekly_digest"


class DeliveryStatus(StrEnum):
    """Whether a notification row has reached the agent's phone."""

    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


class ListingStatus(StrEnum):
    ACTIVE = "active"
    UPCOMING = "upcoming"
    SOLD = "sold"
    OFF_MARKET = "off_market"


class AreaKind(StrEnum):
    CITY = "city"
    COMMUNITY = "community"


def sql_in(values: type[StrEnum]) -> str:
    """A SQL `IN (...)` list of an enum's values, for CHECK constraints."""
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"
