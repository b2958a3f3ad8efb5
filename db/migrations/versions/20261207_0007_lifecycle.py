"""lifecycle drafts, license numbers, draft reminders, weekly digests: status history, event
keys, lifecycle purposes, reminder settings and stamps, the digest notification type

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-07 11:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_PURPOSES = "purpose IN ('new_listing', 'price_improvement', 'flyer')"
_NEW_PURPOSES = (
    "purpose IN ('new_listing', 'price_improvement', 'flyer', "
    "'now_selling', 'just_sold', 'back_on_market')"
)

_TYPES = (
    "'content_awaiting_approval', 'post_success', 'post_failed', 'listing_ingested', "
    "'listing_price_changed', 'listing_sold', 'token_expiring'"
)
_OLD_TYPES = f"notification_type IN ({_TYPES})"
_NEW_TYPES = f"notification_type IN ({_TYPES}, 'weekly_digest')"


def upgrade() -> None:
    op.create_table(
        "rltr_mktg_listing_status_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("old_status", sa.String(length=32), nullable=False),
        sa.Column("new_status", sa.String(length=32), nullable=False),
        sa.Column(
            "changed_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["rltr_mktg_listings.id"],
            name=op.f("fk_rltr_mktg_listing_status_history_listing_id_rltr_mktg_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_listing_status_history")),
    )
    with op.batch_alter_table("rltr_mktg_listing_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_listing_status_history_changed_at"),
            ["changed_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_listing_status_history_listing_id"),
            ["listing_id"],
            unique=False,
        )
    with op.batch_alter_table("rltr_mktg_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("license_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("draft_reminder_hours", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("weekly_digest_on", sa.String(length=10), nullable=True))
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("reminded_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_rltr_mktg_content_pieces_agent_id_event_key"),
            ["agent_id", "event_key"],
        )
        batch_op.drop_constraint(op.f("ck_rltr_mktg_content_pieces_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", _NEW_PURPOSES)
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_rltr_mktg_notifications_notification_type"), type_="check"
        )
        batch_op.create_check_constraint("notification_type", _NEW_TYPES)


def downgrade() -> None:
    op.execute("DELETE FROM rltr_mktg_notifications WHERE notification_type = 'weekly_digest'")
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_rltr_mktg_notifications_notification_type"), type_="check"
        )
        batch_op.create_check_constraint("notification_type", _OLD_TYPES)
    op.execute(
        "DELETE FROM rltr_mktg_content_pieces "
        "WHERE purpose IN ('now_selling', 'just_sold', 'back_on_market')"
    )
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_rltr_mktg_content_pieces_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", _OLD_PURPOSES)
        batch_op.drop_constraint(
            batch_op.f("uq_rltr_mktg_content_pieces_agent_id_event_key"), type_="unique"
        )
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("event_key")
    with op.batch_alter_table("rltr_mktg_agents", schema=None) as batch_op:
        batch_op.drop_column("weekly_digest_on")
        batch_op.drop_column("draft_reminder_hours")
        batch_op.drop_column("license_number")
    with op.batch_alter_table("rltr_mktg_listing_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_listing_status_history_listing_id"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_listing_status_history_changed_at"))
    op.drop_table("rltr_mktg_listing_status_history")
