"""publish leases and reconciliation: who holds a sent post until when, what reached the platform

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 12:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "rltr_mktg_post_schedule"


def upgrade() -> None:
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_until", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("container_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("container_created_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("platform_call_at", db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        for name in ("platform_call_at", "container_created_at", "container_id", "lease_until"):
            batch_op.drop_column(name)
