"""post summaries: each post's plain-text excerpt, derived once at write time

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from liveticker.domain.markdown import SUMMARY_LIMIT, plain_text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
    # Existing posts get theirs now, so no page view ever derives one. The renderer is
    # the application's (the same text a new post gets), read in batches by id.
    posts = sa.table(
        "posts", sa.column("id", sa.Integer), sa.column("body", sa.Text), sa.column("summary")
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.body)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for post_id, body in rows:
            if body:
                bind.execute(
                    posts.update()
                    .where(posts.c.id == post_id)
                    .values(summary=plain_text(body, limit=SUMMARY_LIMIT))
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("summary")
