"""one waiting post per account and slot

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:40:00+00:00

Two approvals by one agent at the same moment could both plan the same free slot. The
partial unique index makes the second one plan again. Posts already doubled up (from
before this index) keep their order and move a second apart, so the index can be built.
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "rltr_mktg_post_schedule"
INDEX = "uq_rltr_mktg_post_schedule_account_slot"
WAITING = "status IN ('pending', 'sent')"


def _spread_doubled_posts() -> None:
    bind = op.get_bind()
    posts = sa.table(
        TABLE,
        sa.column("id", sa.Uuid()),
        sa.column("social_media_account_id", sa.Uuid()),
        sa.column("scheduled_at", sa.DateTime(timezone=True)),
        sa.column("status", sa.String()),
    )
    rows = bind.execute(
        sa.select(posts.c.id, posts.c.social_media_account_id, posts.c.scheduled_at)
        .where(sa.text(WAITING))
        .order_by(posts.c.social_media_account_id, posts.c.scheduled_at, posts.c.id)
    ).all()
    taken: set[tuple[object, object]] = set()
    for post_id, account, at in rows:
        moved = at
        while (account, moved) in taken:
            moved = moved + timedelta(seconds=1)
        taken.add((account, moved))
        if moved != at:
            bind.execute(sa.update(posts).where(posts.c.id == post_id).values(scheduled_at=moved))


def upgrade() -> None:
    _spread_doubled_posts()
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            INDEX,
            ["social_media_account_id", "scheduled_at"],
            unique=True,
            postgresql_where=sa.text(WAITING),
            sqlite_where=sa.text(WAITING),
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(INDEX)
