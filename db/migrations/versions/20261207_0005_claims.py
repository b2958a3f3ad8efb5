"""claims with a lease: a process delivering a draft or notification, or rewriting a draft

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07 11:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.base

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _claim(name: str) -> sa.Column[object]:
    return sa.Column(name, db.base.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.add_column(_claim("delivery_claimed_until"))
        batch_op.add_column(_claim("revision_claimed_until"))
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.add_column(_claim("delivery_claimed_until"))


def downgrade() -> None:
    with op.batch_alter_table("rltr_mktg_notifications", schema=None) as batch_op:
        batch_op.drop_column("delivery_claimed_until")
    with op.batch_alter_table("rltr_mktg_content_pieces", schema=None) as batch_op:
        batch_op.drop_column("revision_claimed_until")
        batch_op.drop_column("delivery_claimed_until")
