"""scheduled posts: the time the server publishes a post, and the index its check reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(
            sa.Column(
                "publish_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_posts_due", ["status", "publish_at"], unique=False)


def downgrade() -> None:
    # Scheduled posts become drafts: without the column nothing would ever publish them.
    posts = sa.table("posts", sa.column("status", sa.String()))
    op.execute(posts.update().where(posts.c.status == "scheduled").values(status="draft"))
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_index("ix_posts_due")
        batch_op.drop_column("publish_at")
