"""blog teams: the staff who may work on each blog

Every current editor and contributor becomes a member of every existing blog, so nothing
changes on upgrade until an admin narrows a team.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:35:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blog_members",
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_blog_members_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"],
            ["blogs.id"],
            name=op.f("fk_blog_members_blog_id_blogs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_blog_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blog_id", "user_id", name=op.f("pk_blog_members")),
    )
    with op.batch_alter_table("blog_members") as batch_op:
        batch_op.create_index(batch_op.f("ix_blog_members_user_id"), ["user_id"], unique=False)
    # Everyone who could work on every blog before keeps doing so.
    connection = op.get_bind()
    blogs = [row[0] for row in connection.execute(sa.text("SELECT id FROM blogs"))]
    staff = [
        row[0]
        for row in connection.execute(
            sa.text("SELECT id FROM users WHERE role IN ('editor', 'contributor')")
        )
    ]
    members = sa.table(
        "blog_members",
        sa.column("blog_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("added_at", liveticker.storage.types.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    rows = [{"blog_id": b, "user_id": u, "added_at": now} for b in blogs for u in staff]
    if rows:
        op.bulk_insert(members, rows)


def downgrade() -> None:
    with op.batch_alter_table("blog_members") as batch_op:
        batch_op.drop_index(batch_op.f("ix_blog_members_user_id"))
    op.drop_table("blog_members")
