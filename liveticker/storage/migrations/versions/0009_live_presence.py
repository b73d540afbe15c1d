"""live presence: each server process's count of live readers per blog

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_presence",
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("readers", sa.Integer(), nullable=False),
        sa.Column(
            "reported_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"],
            ["blogs.id"],
            name=op.f("fk_live_presence_blog_id_blogs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("process", "blog_id", name=op.f("pk_live_presence")),
    )
    with op.batch_alter_table("live_presence") as batch_op:
        batch_op.create_index(batch_op.f("ix_live_presence_blog_id"), ["blog_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_live_presence_reported_at"), ["reported_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("live_presence")
