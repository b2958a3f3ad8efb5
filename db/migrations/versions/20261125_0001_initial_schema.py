"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:36:51.628698+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rltr_mktg_agents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("profile_image_url", sa.Text(), nullable=True),
        sa.Column("notification_preferences", db.base.JSONBType(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_unreachable_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "requires_marketing_approval",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("posting_times", db.base.TextArray(), nullable=True),
        sa.Column("quiet_hours_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_hours_end", sa.String(length=5), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_agents")),
        sa.UniqueConstraint("email", name=op.f("uq_rltr_mktg_agents_email")),
        sa.UniqueConstraint("telegram_user_id", name=op.f("uq_rltr_mktg_agents_telegram_user_id")),
    )
    op.create_table(
        "rltr_mktg_app_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", db.base.JSONBType(), nullable=False),
        sa.Column(
            "updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rltr_mktg_app_state")),
    )
    op.create_table(
        "rltr_mktg_listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("zip_code", sa.String(length=20), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("beds", sa.Integer(), nullable=True),
        sa.Column("baths", sa.Numeric(), nullable=True),
        sa.Column("sqft", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("key_features", db.base.TextArray(), nullable=True),
        sa.Column("image_urls", db.base.TextArray(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=True),
        sa.Column(
            "scraped_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "last_updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("community", sa.String(length=200), nullable=True),
        sa.Column("plan_name", sa.String(length=200), nullable=True),
        sa.Column("garage", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("school_district", sa.String(length=200), nullable=True),
        sa.Column("facts", db.base.JSONBType(), nullable=True),
        sa.Column("source_lastmod", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("missed_passes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'upcoming', 'sold', 'off_market')",
            name=op.f("ck_rltr_mktg_listings_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_listings")),
        sa.UniqueConstraint("source_id", name=op.f("uq_rltr_mktg_listings_source_id")),
    )
    with op.batch_alter_table("rltr_mktg_listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_listings_status"), ["status", "city"], unique=False
        )

    op.create_table(
        "rltr_mktg_agent_invites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_agent_invites_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_agent_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rltr_mktg_agent_invites_token_hash")),
    )
    with op.batch_alter_table("rltr_mktg_agent_invites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_agent_invites_agent_id"), ["agent_id"], unique=False
        )

    op.create_table(
        "rltr_mktg_agent_listings",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column(
            "assigned_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_agent_listings_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["rltr_mktg_listings.id"],
            name=op.f("fk_rltr_mktg_agent_listings_listing_id_rltr_mktg_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "listing_id", name=op.f("pk_rltr_mktg_agent_listings")),
    )
    with op.batch_alter_table("rltr_mktg_agent_listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_agent_listings_listing_id"), ["listing_id"], unique=False
        )

    op.create_table(
        "rltr_mktg_agent_service_areas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "kind IN ('city', 'community')", name=op.f("ck_rltr_mktg_agent_service_areas_kind")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_agent_service_areas_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_agent_service_areas")),
        sa.UniqueConstraint(
            "agent_id",
            "kind",
            "value",
            name=op.f("uq_rltr_mktg_agent_service_areas_agent_id_kind_value"),
        ),
    )
    op.create_table(
        "rltr_mktg_content_pieces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("generated_text", db.base.JSONBType(), nullable=False),
        sa.Column("associated_image_urls", db.base.TextArray(), nullable=True),
        sa.Column("status", sa.String(length=48), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("last_approved_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("purpose", sa.String(length=32), server_default="new_listing", nullable=False),
        sa.Column("warnings", db.base.JSONBType(), nullable=True),
        sa.Column("writer", sa.String(length=32), nullable=True),
        sa.Column("generation_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("delivered_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "content_type IN ('social_media_post', 'flyer_text')",
            name=op.f("ck_rltr_mktg_content_pieces_content_type"),
        ),
        sa.CheckConstraint(
            "purpose IN ('new_listing', 'price_improvement', 'flyer')",
            name=op.f("ck_rltr_mktg_content_pieces_purpose"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_approval_agent', 'pending_external_marketing_approval', 'approved_for_posting', 'rejected', 'pending_ai_revision', 'posted_successfully', 'posting_failed')",
            name=op.f("ck_rltr_mktg_content_pieces_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_content_pieces_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["rltr_mktg_listings.id"],
            name=op.f("fk_rltr_mktg_content_pieces_listing_id_rltr_mktg_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_content_pieces")),
    )
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_content_pieces_agent_id"), ["agent_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_content_pieces_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_content_pieces_status"), ["status", "updated_at"], unique=False
        )

    op.create_table(
        "rltr_mktg_listing_price_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("old_price", sa.Numeric(), nullable=True),
        sa.Column("new_price", sa.Numeric(), nullable=True),
        sa.Column(
            "changed_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["rltr_mktg_listings.id"],
            name=op.f("fk_rltr_mktg_listing_price_history_listing_id_rltr_mktg_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_listing_price_history")),
    )
    with op.batch_alter_table("rltr_mktg_listing_price_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_listing_price_history_listing_id"),
            ["listing_id"],
            unique=False,
        )

    op.create_table(
        "rltr_mktg_notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("notification_type", sa.String(length=48), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("related_entity_id", sa.Uuid(), nullable=True),
        sa.Column("is_read", sa.Boolean(), server_default=sa.text("false"), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "delivery_status", sa.String(length=16), server_default="pending", nullable=False
        ),
        sa.Column("sent_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "delivery_status IN ('pending', 'sent', 'skipped', 'failed')",
            name=op.f("ck_rltr_mktg_notifications_delivery_status"),
        ),
        sa.CheckConstraint(
            "notification_type IN ('content_awaiting_approval', 'post_success', 'post_failed', 'listing_ingested', 'listing_price_changed', 'listing_sold', 'token_expiring')",
            name=op.f("ck_rltr_mktg_notifications_notification_type"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_notifications_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_notifications")),
    )
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_notifications_agent_id"), ["agent_id", "is_read"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_notifications_delivery_status"),
            ["delivery_status", "created_at"],
            unique=False,
        )

    op.create_table(
        "rltr_mktg_social_media_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=100), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("token_expires_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("deactivated_reason", sa.Text(), nullable=True),
        sa.Column("expiry_warned_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "platform IN ('facebook', 'instagram')",
            name=op.f("ck_rltr_mktg_social_media_accounts_platform"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_social_media_accounts_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_social_media_accounts")),
        sa.UniqueConstraint(
            "agent_id",
            "platform",
            "account_id",
            name=op.f("uq_rltr_mktg_social_media_accounts_agent_id_platform_account_id"),
        ),
    )
    with op.batch_alter_table("rltr_mktg_social_media_accounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_social_media_accounts_agent_id"), ["agent_id"], unique=False
        )

    op.create_table(
        "rltr_mktg_users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("last_login_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=True),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_users_agent_id_rltr_mktg_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_users")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_rltr_mktg_users_agent_id")),
        sa.UniqueConstraint("email", name=op.f("uq_rltr_mktg_users_email")),
    )
    op.create_table(
        "rltr_mktg_approval_logs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("content_piece_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("action_type", sa.String(length=48), nullable=False),
        sa.Column(
            "timestamp",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("from_status", sa.String(length=48), nullable=True),
        sa.Column("to_status", sa.String(length=48), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action_type IN ('approved', 'rejected', 'requested_revisions', 'sent_to_marketing', 'recorded_marketing_approval', 'edited')",
            name=op.f("ck_rltr_mktg_approval_logs_action_type"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_approval_logs_agent_id_rltr_mktg_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["content_piece_id"],
            ["rltr_mktg_content_pieces.id"],
            name=op.f("fk_rltr_mktg_approval_logs_content_piece_id_rltr_mktg_content_pieces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_approval_logs")),
    )
    with op.batch_alter_table("rltr_mktg_approval_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_approval_logs_content_piece_id"),
            ["content_piece_id"],
            unique=False,
        )

    op.create_table(
        "rltr_mktg_content_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("content_piece_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("generated_text", db.base.JSONBType(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("writer", sa.String(length=32), nullable=True),
        sa.Column("warnings", db.base.JSONBType(), nullable=True),
        sa.Column("usage_tokens", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["content_piece_id"],
            ["rltr_mktg_content_pieces.id"],
            name=op.f("fk_rltr_mktg_content_versions_content_piece_id_rltr_mktg_content_pieces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_content_versions")),
        sa.UniqueConstraint(
            "content_piece_id",
            "version",
            name=op.f("uq_rltr_mktg_content_versions_content_piece_id_version"),
        ),
    )
    op.create_table(
        "rltr_mktg_pending_feedback",
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("content_piece_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prompt_message_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_pending_feedback_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["content_piece_id"],
            ["rltr_mktg_content_pieces.id"],
            name=op.f("fk_rltr_mktg_pending_feedback_content_piece_id_rltr_mktg_content_pieces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_rltr_mktg_pending_feedback")),
    )
    op.create_table(
        "rltr_mktg_post_schedule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("content_piece_id", sa.Uuid(), nullable=False),
        sa.Column("social_media_account_id", sa.Uuid(), nullable=False),
        sa.Column("scheduled_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("platform_post_id", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column(
            "updated_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'success', 'failed', 'cancelled')",
            name=op.f("ck_rltr_mktg_post_schedule_status"),
        ),
        sa.ForeignKeyConstraint(
            ["content_piece_id"],
            ["rltr_mktg_content_pieces.id"],
            name=op.f("fk_rltr_mktg_post_schedule_content_piece_id_rltr_mktg_content_pieces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["social_media_account_id"],
            ["rltr_mktg_social_media_accounts.id"],
            name=op.f(
                "fk_rltr_mktg_post_schedule_social_media_account_id_rltr_mktg_social_media_accounts"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_post_schedule")),
    )
    with op.batch_alter_table("rltr_mktg_post_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_post_schedule_content_piece_id"),
            ["content_piece_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_post_schedule_social_media_account_id"),
            ["social_media_account_id", "scheduled_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_post_schedule_status"),
            ["status", "scheduled_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("rltr_mktg_post_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_post_schedule_status"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_post_schedule_social_media_account_id"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_post_schedule_content_piece_id"))

    op.drop_table("rltr_mktg_post_schedule")
    op.drop_table("rltr_mktg_pending_feedback")
    op.drop_table("rltr_mktg_content_versions")
    with op.batch_alter_table("rltr_mktg_approval_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_approval_logs_content_piece_id"))

    op.drop_table("rltr_mktg_approval_logs")
    op.drop_table("rltr_mktg_users")
    with op.batch_alter_table("rltr_mktg_social_media_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_social_media_accounts_agent_id"))

    op.drop_table("rltr_mktg_social_media_accounts")
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_notifications_delivery_status"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_notifications_agent_id"))

    op.drop_table("rltr_mktg_notifications")
    with op.batch_alter_table("rltr_mktg_listing_price_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_listing_price_history_listing_id"))

    op.drop_table("rltr_mktg_listing_price_history")
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_content_pieces_status"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_content_pieces_listing_id"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_content_pieces_agent_id"))

    op.drop_table("rltr_mktg_content_pieces")
    op.drop_table("rltr_mktg_agent_service_areas")
    with op.batch_alter_table("rltr_mktg_agent_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_agent_listings_listing_id"))

    op.drop_table("rltr_mktg_agent_listings")
    with op.batch_alter_table("rltr_mktg_agent_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_agent_invites_agent_id"))

    op.drop_table("rltr_mktg_agent_invites")
    with op.batch_alter_table("rltr_mktg_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_listings_status"))

    op.drop_table("rltr_mktg_listings")
    op.drop_table("rltr_mktg_app_state")
    op.drop_table("rltr_mktg_agents")
