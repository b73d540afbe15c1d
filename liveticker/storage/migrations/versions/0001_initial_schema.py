"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 07:05:21.721975
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_used_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "blogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("short_code", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("standfirst", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("lead_image", sa.JSON(), nullable=True),
        sa.Column("key_points", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closing_message", sa.Text(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "published_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "updated_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "coverage_start", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "coverage_end", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_blogs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blogs")),
        sa.UniqueConstraint("short_code", name=op.f("uq_blogs_short_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_blogs_slug")),
    )
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blogs_status"), ["status"], unique=False)

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("short_code", sa.String(length=8), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("social", sa.JSON(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("key_event", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "published_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "updated_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("deleted_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"], ["blogs.id"], name=op.f("fk_posts_blog_id_blogs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("short_code", name=op.f("uq_posts_short_code")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_stream", ["blog_id", "status", "published_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_posts_one_pinned",
            ["blog_id"],
            unique=True,
            sqlite_where=sa.text("pinned AND status = 'published'"),
            postgresql_where=sa.text("pinned AND status = 'published'"),
        )

    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"], ["blogs.id"], name=op.f("fk_revisions_blog_id_blogs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_revisions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_revisions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisions")),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisions_blog_id"), ["blog_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revisions_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisions_post_id"))
        batch_op.drop_index(batch_op.f("ix_revisions_blog_id"))

    op.drop_table("revisions")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_posts_one_pinned",
            sqlite_where=sa.text("pinned AND status = 'published'"),
            postgresql_where=sa.text("pinned AND status = 'published'"),
        )
        batch_op.drop_index("ix_posts_stream")

    op.drop_table("posts")
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blogs_status"))

    op.drop_table("blogs")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
