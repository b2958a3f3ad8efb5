"""dashboard: users become admins or agents' logins; sessions, login links, failed sign-ins

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 05:36:52.121916+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rltr_mktg_login_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("attempted_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_login_attempts")),
    )
    with op.batch_alter_table("rltr_mktg_login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_login_attempts_address"),
            ["address", "email", "attempted_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_login_attempts_attempted_at"), ["attempted_at"], unique=False
        )

    op.create_table(
        "rltr_mktg_login_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["rltr_mktg_users.id"],
            name=op.f("fk_rltr_mktg_login_links_user_id_rltr_mktg_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rltr_mktg_login_links_token_hash")),
    )
    with op.batch_alter_table("rltr_mktg_login_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_login_links_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "rltr_mktg_web_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["rltr_mktg_users.id"],
            name=op.f("fk_rltr_mktg_web_sessions_user_id_rltr_mktg_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rltr_mktg_web_sessions_token_hash")),
    )
    with op.batch_alter_table("rltr_mktg_web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_web_sessions_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("rltr_mktg_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("telegram_user_id", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_rltr_mktg_users_telegram_user_id"), ["telegram_user_id"]
        )

    # The dashboard's keyset pages: audit log (everyone, one agent), drafts, listings.
    with op.batch_alter_table("rltr_mktg_approval_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_approval_logs_timestamp"), ["timestamp", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_approval_logs_agent_id"),
            ["agent_id", "timestamp", "id"],
            unique=False,
        )
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_content_pieces_updated_at"), ["updated_at", "id"], unique=False
        )
    with op.batch_alter_table("rltr_mktg_listings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_listings_last_updated_at"),
            ["last_updated_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("rltr_mktg_listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_listings_last_updated_at"))
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_content_pieces_updated_at"))
    with op.batch_alter_table("rltr_mktg_approval_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_approval_logs_agent_id"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_approval_logs_timestamp"))
    with op.batch_alter_table("rltr_mktg_users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_rltr_mktg_users_telegram_user_id"), type_="unique")
        batch_op.drop_column("telegram_user_id")
        batch_op.drop_column("is_admin")

    with op.batch_alter_table("rltr_mktg_web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_web_sessions_user_id"))

    op.drop_table("rltr_mktg_web_sessions")
    with op.batch_alter_table("rltr_mktg_login_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_login_links_user_id"))

    op.drop_table("rltr_mktg_login_links")
    with op.batch_alter_table("rltr_mktg_login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_login_attempts_attempted_at"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_login_attempts_address"))

    op.drop_table("rltr_mktg_login_attempts")
