"""SQLAlchemy models: the seed's eight tables plus what the product needs.

Every seed field keeps its name, type, nullability, uniqueness, default and foreign
key. Additions are marked "(added)" in the column comments of each class docstring.
Relationships are `lazy="raise"`: a query says what it loads, so no hidden round trips.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import TABLE_PREFIX, Base, JSONBType, TextArray, UTCDateTime, utcnow
from db.status import (
    ApprovalAction,
    AreaKind,
    ContentPurpose,
    ContentStatus,
    ContentType,
    DeliveryStatus,
    ListingStatus,
    NotificationType,
    Platform,
    ScheduleStatus,
    sql_in,
)

NOW = text("CURRENT_TIMESTAMP")
TRUE = text("true")
FALSE = text("false")


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


# The server default keeps raw SQL inserts honest; the Python default gives rows made in
# one transaction distinct, ordered timestamps (PostgreSQL's now() is per transaction
# and SQLite's CURRENT_TIMESTAMP has whole seconds).
def _created() -> Mapped[datetime | None]:
    return mapped_column(UTCDateTime, server_default=NOW, default=utcnow)


def _updated() -> Mapped[datetime | None]:
    return mapped_column(UTCDateTime, server_default=NOW, default=utcnow, onupdate=utcnow)


class User(Base):
    """Dashboard login (seed 2.1). Passwords are argon2 hashes.

    Added: whether the user sees every agent's data (admin), and the Telegram user an
    admin's login links were sent to (the user `/dashboard` made for that admin).
    """

    __tablename__ = f"{TABLE_PREFIX}users"

    id: Mapped[uuid.UUID] = _pk()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime | None] = _created()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=TRUE)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="SET NULL"), unique=True
    )
    # (added)
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default=FALSE)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    agent: Mapped[Agent | None] = relationship(back_populates="user", lazy="raise")


class Agent(Base):
    """A real estate agent (seed 2.2).

    Added: Telegram identity and reachability, marketing sign-off flag, time zone,
    posting times, quiet hours and the real-estate license number the disclosure names.
    """

    __tablename__ = f"{TABLE_PREFIX}agents"

    id: Mapped[uuid.UUID] = _pk()
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    company: Mapped[str | None] = mapped_column(String(200))
    profile_image_url: Mapped[str | None] = mapped_column(Text)
    notification_preferences: Mapped[dict[str, Any] | None] = mapped_column(JSONBType)
    created_at: Mapped[datetime | None] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    # (added)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=TRUE)
    requires_marketing_approval: Mapped[bool] = mapped_column(Boolean, server_default=FALSE)
    timezone: Mapped[str | None] = mapped_column(String(64))
    posting_times: Mapped[list[str] | None] = mapped_column(TextArray)
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5))
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5))
    license_number: Mapped[str | None] = mapped_column(String(64))
    # Hours before an unanswered draft gets its one reminder (NULL: DRAFT_REMINDER_HOURS;
    # 0: no reminders).
    draft_reminder_hours: Mapped[float | None] = mapped_column(Double)
    # The Monday (ISO date, agent's time zone) whose weekly digest was sent last.
    weekly_digest_on: Mapped[str | None] = mapped_column(String(10))
    # Bumped by every approval that plans posting slots, which writes only if it is still
    # the value its slot read saw: two approvals (in two processes) never take one slot.
    slot_plan_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    user: Mapped[User | None] = relationship(back_populates="agent", lazy="raise")
    social_media_accounts: Mapped[list[SocialMediaAccount]] = relationship(
        back_populates="agent", lazy="raise"
    )
    content_pieces: Mapped[list[ContentPiece]] = relationship(back_populates="agent", lazy="raise")
    service_areas: Mapped[list[AgentServiceArea]] = relationship(
        back_populates="agent", lazy="raise", cascade="all, delete-orphan"
    )
    listings: Mapped[list[Listing]] = relationship(
        secondary=f"{TABLE_PREFIX}agent_listings", back_populates="agents", lazy="raise"
    )


class AgentInvite(Base):
    """(added) A single-use onboarding link; only the token's SHA-256 is stored."""

    __tablename__ = f"{TABLE_PREFIX}agent_invites"

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = _created()


class AgentServiceArea(Base):
    """(added) A city or community an agent markets; no areas means every listing."""

    __tablename__ = f"{TABLE_PREFIX}agent_service_areas"
    __table_args__ = (
        UniqueConstraint("agent_id", "kind", "value"),
        CheckConstraint(f"kind IN {sql_in(AreaKind)}", name="kind"),
    )

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    # Stored lower-cased so matching is case-insensitive on both databases.
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime | None] = _created()

    agent: Mapped[Agent] = relationship(back_populates="service_areas", lazy="raise")


class AgentListing(Base):
    """(added) Which listings belong to which agent."""

    __tablename__ = f"{TABLE_PREFIX}agent_listings"
    __table_args__ = (PrimaryKeyConstraint("agent_id", "listing_id"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE")
    )
    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}listings.id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime | None] = _created()


class SocialMediaAccount(Base):
    """A connected Facebook Page or Instagram account (seed 2.3); tokens are encrypted.

    Added: display name, why it was deactivated.
    """

    __tablename__ = f"{TABLE_PREFIX}social_media_accounts"
    __table_args__ = (
        UniqueConstraint("agent_id", "platform", "account_id"),
        CheckConstraint(f"platform IN {sql_in(Platform)}", name="platform"),
    )

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(100))
    access_token_encrypted: Mapped[str] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=TRUE)
    created_at: Mapped[datetime | None] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    # (added)
    display_name: Mapped[str | None] = mapped_column(String(200))
    deactivated_reason: Mapped[str | None] = mapped_column(Text)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agent: Mapped[Agent] = relationship(back_populates="social_media_accounts", lazy="raise")


class Listing(Base):
    """A home scraped from the builder's site (seed 2.4).

    Added: source URL, community, plan, garage, coordinates, school district, labelled
    facts, the sitemap lastmod, a content hash (unchanged homes cost no writes) and a
    count of passes the home was missing from the sitemap.
    """

    __tablename__ = f"{TABLE_PREFIX}listings"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(ListingStatus)}", name="status"),
        Index(None, "status", "city"),
        # The dashboard's listings, latest change first (keyset pages).
        Index(None, "last_updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = _pk()
    source_id: Mapped[str] = mapped_column(String(255), unique=True)
    address: Mapped[str] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(40))
    zip_code: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal | None] = mapped_column(Numeric)
    beds: Mapped[int | None] = mapped_column(Integer)
    baths: Mapped[Decimal | None] = mapped_column(Numeric)
    sqft: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    key_features: Mapped[list[str] | None] = mapped_column(TextArray)
    image_urls: Mapped[list[str] | None] = mapped_column(TextArray)
    status: Mapped[str | None] = mapped_column(String(32), server_default=ListingStatus.ACTIVE)
    scraped_at: Mapped[datetime | None] = _created()
    last_updated_at: Mapped[datetime | None] = _created()
    # (added)
    source_url: Mapped[str | None] = mapped_column(Text)
    community: Mapped[str | None] = mapped_column(String(200))
    plan_name: Mapped[str | None] = mapped_column(String(200))
    garage: Mapped[int | None] = mapped_column(Integer)
    latitude: Mapped[float | None] = mapped_column(Double)
    longitude: Mapped[float | None] = mapped_column(Double)
    school_district: Mapped[str | None] = mapped_column(String(200))
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSONBType)
    source_lastmod: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    missed_passes: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    agents: Mapped[list[Agent]] = relationship(
        secondary=f"{TABLE_PREFIX}agent_listings", back_populates="listings", lazy="raise"
    )
    price_history: Mapped[list[ListingPriceChange]] = relationship(
        back_populates="listing", lazy="raise", order_by="ListingPriceChange.changed_at"
    )
    content_pieces: Mapped[list[ContentPiece]] = relationship(
        back_populates="listing", lazy="raise"
    )


class ListingPriceChange(Base):
    """(added) One price change of a listing."""

    __tablename__ = f"{TABLE_PREFIX}listing_price_history"

    id: Mapped[uuid.UUID] = _pk()
    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}listings.id", ondelete="CASCADE"), index=True
    )
    old_price: Mapped[Decimal | None] = mapped_column(Numeric)
    new_price: Mapped[Decimal | None] = mapped_column(Numeric)
    changed_at: Mapped[datetime | None] = _created()

    listing: Mapped[Listing] = relationship(back_populates="price_history", lazy="raise")


class ListingStatusChange(Base):
    """(added) One change of a listing's status, written with the change itself.

    A lifecycle draft's `event_key` names the row it announces, so replaying the event
    (a re-scrape, a restart, a backfill) never makes a second draft.
    """

    __tablename__ = f"{TABLE_PREFIX}listing_status_history"
    __table_args__ = (Index(None, "changed_at"),)

    id: Mapped[uuid.UUID] = _pk()
    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}listings.id", ondelete="CASCADE"), index=True
    )
    old_status: Mapped[str] = mapped_column(String(32))
    new_status: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime | None] = _created()


class ContentPiece(Base):
    """A draft and, once approved, the final post (seed 2.5).

    Added: the current version number (every version lives in `ContentVersion`), why
    the draft exists, check warnings, which writer produced it, and where it is shown
    in Telegram so that it can be edited or marked superseded. While a version is on its
    way to Telegram, the `delivery_*` columns (valid for `delivery_version` only) say how
    many of its parts (photos, then each text part) are on the phone already, how many
    attempts failed, when to try again, and why delivery stopped for good. A lifecycle
    draft carries the event it announces (`event_key`).
    """

    __tablename__ = f"{TABLE_PREFIX}content_pieces"
    __table_args__ = (
        CheckConstraint(f"content_type IN {sql_in(ContentType)}", name="content_type"),
        CheckConstraint(f"status IN {sql_in(ContentStatus)}", name="status"),
        CheckConstraint(f"purpose IN {sql_in(ContentPurpose)}", name="purpose"),
        # One draft per event per agent, whoever writes it (see `event_key`).
        UniqueConstraint("agent_id", "event_key"),
        Index(None, "agent_id", "status"),
        Index(None, "status", "updated_at"),
        # The dashboard's drafts of every status, latest change first (keyset pages).
        Index(None, "updated_at", "id"),
    )

    id: Mapped[uuid.UUID] = _pk()
    listing_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}listings.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE")
    )
    content_type: Mapped[str] = mapped_column(String(32))
    generated_text: Mapped[dict[str, Any]] = mapped_column(JSONBType)
    associated_image_urls: Mapped[list[str] | None] = mapped_column(TextArray)
    status: Mapped[str] = mapped_column(String(48))
    feedback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    last_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # (added)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    purpose: Mapped[str] = mapped_column(String(32), server_default=ContentPurpose.NEW_LISTING)
    warnings: Mapped[list[Any] | None] = mapped_column(JSONBType)
    writer: Mapped[str | None] = mapped_column(String(32))
    generation_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    delivered_version: Mapped[int | None] = mapped_column(Integer)
    delivery_version: Mapped[int | None] = mapped_column(Integer)
    delivery_parts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    delivery_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    delivery_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(Text)
    # Leases: the process delivering or rewriting this draft holds it until then; a crashed
    # one's drafts come back when the lease runs out.
    delivery_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "<purpose>:<status change id>" for lifecycle drafts; NULL for the others.
    event_key: Mapped[str | None] = mapped_column(String(80))
    # When the one reminder about this unanswered draft was sent.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing] = relationship(back_populates="content_pieces", lazy="raise")
    agent: Mapped[Agent] = relationship(back_populates="content_pieces", lazy="raise")
    versions: Mapped[list[ContentVersion]] = relationship(
        back_populates="content_piece", lazy="raise", order_by="ContentVersion.version"
    )
    schedule: Mapped[list[PostSchedule]] = relationship(
        back_populates="content_piece", lazy="raise"
    )
    approval_logs: Mapped[list[ApprovalLog]] = relationship(
        back_populates="content_piece", lazy="raise"
    )


class ContentVersion(Base):
    """(added) Every version of a draft, with the feedback that produced it."""

    __tablename__ = f"{TABLE_PREFIX}content_versions"
    __table_args__ = (UniqueConstraint("content_piece_id", "version"),)

    id: Mapped[uuid.UUID] = _pk()
    content_piece_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}content_pieces.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    generated_text: Mapped[dict[str, Any]] = mapped_column(JSONBType)
    feedback: Mapped[str | None] = mapped_column(Text)
    writer: Mapped[str | None] = mapped_column(String(32))
    warnings: Mapped[list[Any] | None] = mapped_column(JSONBType)
    usage_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = _created()

    content_piece: Mapped[ContentPiece] = relationship(back_populates="versions", lazy="raise")


class PendingFeedback(Base):
    """(added) An agent tapped Revise: their next text message is the feedback.

    Kept in the database, not in handler memory, so a restart loses nothing.
    """

    __tablename__ = f"{TABLE_PREFIX}pending_feedback"

    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE"), primary_key=True
    )
    content_piece_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}content_pieces.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None] = _created()


class PostSchedule(Base):
    """One publication of a content piece to one account (seed 2.6).

    Added: claim bookkeeping (who claimed it and when), attempt count and permalink.
    """

    __tablename__ = f"{TABLE_PREFIX}post_schedule"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(ScheduleStatus)}", name="status"),
        Index(None, "status", "scheduled_at"),
        Index(None, "social_media_account_id", "scheduled_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    content_piece_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}content_pieces.id", ondelete="CASCADE"), index=True
    )
    social_media_account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}social_media_accounts.id", ondelete="CASCADE")
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    platform_post_id: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    # (added)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    permalink: Mapped[str | None] = mapped_column(Text)
    # Leases and reconciliation (0004): the holder (`claimed_by`) renews `lease_until`
    # while it publishes; `platform_call_at` is committed just before the call that makes
    # the post visible, and `container_id` (Instagram) before `media_publish`, so that a
    # restart can ask the platform what became of an orphaned post.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    container_id: Mapped[str | None] = mapped_column(String(64))
    container_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    content_piece: Mapped[ContentPiece] = relationship(back_populates="schedule", lazy="raise")
    social_media_account: Mapped[SocialMediaAccount] = relationship(lazy="raise")


class Notification(Base):
    """Everything the system told an agent (seed 2.7).

    Added: whether and when it reached Telegram (quiet hours, preferences), failed
    attempts, when to try again, and why delivery stopped for good (status `failed`).
    """

    __tablename__ = f"{TABLE_PREFIX}notifications"
    __table_args__ = (
        CheckConstraint(
            f"notification_type IN {sql_in(NotificationType)}", name="notification_type"
        ),
        CheckConstraint(f"delivery_status IN {sql_in(DeliveryStatus)}", name="delivery_status"),
        Index(None, "agent_id", "is_read"),
        Index(None, "delivery_status", "created_at"),
    )

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE")
    )
    notification_type: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    related_entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    is_read: Mapped[bool | None] = mapped_column(Boolean, server_default=FALSE)
    created_at: Mapped[datetime | None] = _created()
    # (added)
    delivery_status: Mapped[str] = mapped_column(String(16), server_default=DeliveryStatus.PENDING)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    delivery_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivery_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApprovalLog(Base):
    """The audit trail of every decision on a draft (seed 2.8).

    Added: the status before and after, and the version acted on. Its foreign keys
    never cascade: deleting an agent or a draft must not erase the audit trail.
    """

    __tablename__ = f"{TABLE_PREFIX}approval_logs"
    __table_args__ = (
        CheckConstraint(f"action_type IN {sql_in(ApprovalAction)}", name="action_type"),
        # The dashboard's audit log and its CSV export, newest first (keyset pages), for
        # everyone and for one agent.
        Index(None, "timestamp", "id"),
        Index(None, "agent_id", "timestamp", "id"),
    )

    id: Mapped[uuid.UUID] = _pk()
    content_piece_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}content_pieces.id"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{TABLE_PREFIX}agents.id"))
    action_type: Mapped[str] = mapped_column(String(48))
    timestamp: Mapped[datetime | None] = _created()
    feedback: Mapped[str | None] = mapped_column(Text)
    # (added)
    from_status: Mapped[str | None] = mapped_column(String(48))
    to_status: Mapped[str | None] = mapped_column(String(48))
    version: Mapped[int | None] = mapped_column(Integer)

    content_piece: Mapped[ContentPiece] = relationship(back_populates="approval_logs", lazy="raise")


class AppState(Base):
    """(added) Small process-wide switches, e.g. the publishing kill switch."""

    __tablename__ = f"{TABLE_PREFIX}app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONBType)
    updated_at: Mapped[datetime | None] = _updated()


# --------------------------------------------------------------------------------------
# The dashboard's sign-ins (added)
# --------------------------------------------------------------------------------------


class WebSession(Base):
    """(added) A dashboard sign-in; only the SHA-256 of its cookie token is stored.

    It ends at logout (`ended_at`), after `last_seen_at` is idle too long, at `expires_at`,
    and whenever its user or the user's agent is deactivated.
    """

    __tablename__ = f"{TABLE_PREFIX}web_sessions"

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One sentence for the next page (what the last action did), then cleared.
    flash: Mapped[str | None] = mapped_column(Text)


class LoginLink(Base):
    """(added) A single-use sign-in link sent by `/dashboard`; only the token's SHA-256."""

    __tablename__ = f"{TABLE_PREFIX}login_links"

    id: Mapped[uuid.UUID] = _pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = _created()


class LoginAttempt(Base):
    """(added) A failed password sign-in, kept a short while for the rate limit.

    In the database, not in memory, so that several processes count the same attempts.
    """

    __tablename__ = f"{TABLE_PREFIX}login_attempts"
    __table_args__ = (Index(None, "address", "email", "attempted_at"),)

    id: Mapped[uuid.UUID] = _pk()
    address: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --------------------------------------------------------------------------------------
# Connect with Facebook (added)
# --------------------------------------------------------------------------------------


class FacebookLogin(Base):
    """(added) One "Connect with Facebook" link given to an agent; only its state's SHA-256.

    Single use: the callback sets `used_at` in one compare-and-set, so a replayed or
    second redirect finds nothing to use.
    """

    __tablename__ = f"{TABLE_PREFIX}facebook_logins"

    id: Mapped[uuid.UUID] = _pk()
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE"), index=True
    )
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = _created()


class FacebookLoginPage(Base):
    """(added) A Page (and its Instagram account) offered after a login, until the agent
    picks one in Telegram; its Page token is stored encrypted and deleted after the pick."""

    __tablename__ = f"{TABLE_PREFIX}facebook_login_pages"

    id: Mapped[uuid.UUID] = _pk()
    login_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}facebook_logins.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{TABLE_PREFIX}agents.id", ondelete="CASCADE"), index=True
    )
    page_id: Mapped[str] = mapped_column(String(64))
    page_name: Mapped[str] = mapped_column(String(200))
    page_token_encrypted: Mapped[str] = mapped_column(Text)
    ig_user_id: Mapped[str | None] = mapped_column(String(64))
    ig_username: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = _created()
