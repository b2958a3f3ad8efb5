"""delivery progress and retries of drafts and notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retry_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("delivery_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("delivery_retry_at", db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("delivery_parts", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        for column in _retry_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        for column in _retry_columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        for name in ("delivery_error", "delivery_retry_at", "delivery_attempts"):
            batch_op.drop_column(name)
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        for name in (
            "delivery_error",
            "delivery_retry_at",
            "delivery_attempts",
            "delivery_parts",
            "delivery_version",
        ):
            batch_op.drop_column(name)
