"""review: when a post joined its blog's review queue, and an editor's comment on returning it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(
            sa.Column(
                "submitted_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("review_comment", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("posts") as batch_op:
        batch_op.alter_column("review_comment", server_default=None)


def downgrade() -> None:
    # Posts waiting for review become drafts: without the column nothing would list them.
    posts = sa.table("posts", sa.column("status", sa.String()))
    op.execute(posts.update().where(posts.c.status == "submitted").values(status="draft"))
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("review_comment")
        batch_op.drop_column("submitted_at")
