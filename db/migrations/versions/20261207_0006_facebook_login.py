"""facebook login: single-use states and the Pages offered after a login

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-07 11:22:50.952131+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rltr_mktg_facebook_logins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_facebook_logins_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_facebook_logins")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_rltr_mktg_facebook_logins_state_hash")),
    )
    with op.batch_alter_table("rltr_mktg_facebook_logins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_facebook_logins_agent_id"), ["agent_id"], unique=False
        )

    op.create_table(
        "rltr_mktg_facebook_login_pages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("login_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("page_id", sa.String(length=64), nullable=False),
        sa.Column("page_name", sa.String(length=200), nullable=False),
        sa.Column("page_token_encrypted", sa.Text(), nullable=False),
        sa.Column("ig_user_id", sa.String(length=64), nullable=True),
        sa.Column("ig_username", sa.String(length=200), nullable=True),
        sa.Column("expires_at", db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["rltr_mktg_agents.id"],
            name=op.f("fk_rltr_mktg_facebook_login_pages_agent_id_rltr_mktg_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["login_id"],
            ["rltr_mktg_facebook_logins.id"],
            name=op.f("fk_rltr_mktg_facebook_login_pages_login_id_rltr_mktg_facebook_logins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rltr_mktg_facebook_login_pages")),
    )
    with op.batch_alter_table("rltr_mktg_facebook_login_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_facebook_login_pages_agent_id"), ["agent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rltr_mktg_facebook_login_pages_login_id"), ["login_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rltr_mktg_facebook_login_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_facebook_login_pages_login_id"))
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_facebook_login_pages_agent_id"))

    op.drop_table("rltr_mktg_facebook_login_pages")
    with op.batch_alter_table("rltr_mktg_facebook_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rltr_mktg_facebook_logins_agent_id"))

    op.drop_table("rltr_mktg_facebook_logins")
