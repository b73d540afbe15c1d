"""community notes: reader accounts, notes, ratings, status history, scoring runs, leases

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 19:54:59
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column(
            "expires_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "notes_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "started_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("now_millis", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes_runs")),
    )
    op.create_table(
        "note_participants",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=True),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("rating_impact", sa.Integer(), nullable=False),
        sa.Column("writing_impact", sa.Integer(), nullable=False),
        sa.Column("enrollment_state", sa.String(length=32), nullable=False),
        sa.Column("needed_to_earn_in", sa.Integer(), nullable=False),
        sa.Column("times_earned_out", sa.Integer(), nullable=False),
        sa.Column(
            "state_changed_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "updated_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_note_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_note_participants")),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("classification", sa.String(length=48), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("core_status", sa.String(length=32), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=True),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("intercept_min", sa.Float(), nullable=True),
        sa.Column("intercept_max", sa.Float(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("scored_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=False),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"], ["blogs.id"], name=op.f("fk_notes_blog_id_blogs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_notes_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["removed_by"],
            ["users.id"],
            name=op.f("fk_notes_removed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.UniqueConstraint("post_id", "author_id", name=op.f("uq_notes_post_id")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_notes_blog_status", ["blog_id", "status"], unique=False)

    op.create_table(
        "note_ratings",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("helpfulness", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["notes.id"],
            name=op.f("fk_note_ratings_note_id_notes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"],
            ["users.id"],
            name=op.f("fk_note_ratings_rater_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("note_id", "rater_id", name=op.f("pk_note_ratings")),
    )
    with op.batch_alter_table("note_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_note_ratings_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_note_ratings_rater_id"), ["rater_id"], unique=False)

    op.create_table(
        "note_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["notes.id"],
            name=op.f("fk_note_status_changes_note_id_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_status_changes")),
    )
    with op.batch_alter_table("note_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_note_status_changes_note_id"), ["note_id"], unique=False
        )

    op.create_table(
        "note_status_history",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["notes.id"],
            name=op.f("fk_note_status_history_note_id_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_note_status_history")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("participant_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("writing_granted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("signup_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_signup_key"), ["signup_key"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_participant_id"), ["participant_id"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("writing_granted", server_default=None)


def downgrade() -> None:
    # Reader accounts have no role before this revision: they go, with their sessions and
    # tokens (their notes and ratings go with the tables).
    op.execute(sa.text("DELETE FROM users WHERE role = 'reader'"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_participant_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_users_signup_key"))
        batch_op.drop_column("signup_key")
        batch_op.drop_column("writing_granted")
        batch_op.drop_column("participant_id")

    op.drop_table("note_status_history")
    with op.batch_alter_table("note_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_status_changes_note_id"))

    op.drop_table("note_status_changes")
    with op.batch_alter_table("note_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_note_ratings_rater_id"))
        batch_op.drop_index(batch_op.f("ix_note_ratings_created_at"))

    op.drop_table("note_ratings")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_blog_status")
        batch_op.drop_index(batch_op.f("ix_notes_author_id"))

    op.drop_table("notes")
    op.drop_table("note_participants")
    op.drop_table("notes_runs")
    op.drop_table("leases")
