"""log of the present: event entities, no draft-period events, the audit log

Every event names the entity it shows; earlier events of the same entity are emptied
(kind "superseded"), and events from a blog's draft period are dropped, so no public
replay can serve text that a reader could not see on the page now.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 17:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import liveticker.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SUPERSEDED = "superseded"

# Frozen copies of the tables as this migration knows them (the models move on).
_events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("blog_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("entity", sa.String),
    sa.column("data", sa.JSON),
)
_blogs = sa.table("blogs", sa.column("id", sa.Integer), sa.column("status", sa.String))


def _entity(kind: str, data: Any) -> str:
    if kind in ("post", "remove") and isinstance(data, dict) and "id" in data:
        return f"post:{data['id']}"
    return kind  # "blog", "key-points"


def _is_public(data: Any) -> bool:
    return isinstance(data, dict) and data.get("status") in ("live", "closed")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch_op:
        batch_op.add_column(
            sa.Column("entity", sa.String(length=80), nullable=False, server_default="")
        )
        batch_op.create_index("ix_events_entity", ["blog_id", "entity"], unique=False)
    with op.batch_alter_table("events") as batch_op:
        batch_op.alter_column("entity", server_default=None)
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at", liveticker.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["blog_id"],
            ["blogs.id"],
            name=op.f("fk_audit_entries_blog_id_blogs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_audit_entries_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_blog_id"), ["blog_id"], unique=False)
    _compact_existing_logs()


def _compact_existing_logs() -> None:
    connection = op.get_bind()
    for blog_id, status in connection.execute(sa.select(_blogs.c.id, _blogs.c.status)).all():
        rows = connection.execute(
            sa.select(_events.c.id, _events.c.seq, _events.c.kind, _events.c.data)
            .where(_events.c.blog_id == blog_id)
            .order_by(_events.c.seq)
        ).all()
        if status == "draft":
            drafts = [row.id for row in rows]
        else:
            went_live = next(
                (row.seq for row in rows if row.kind == "blog" and _is_public(row.data)), None
            )
            drafts = [row.id for row in rows if went_live is not None and row.seq < went_live]
        if drafts:
            connection.execute(sa.delete(_events).where(_events.c.id.in_(drafts)))
        dropped = set(drafts)
        latest: dict[str, int] = {}
        kept = [row for row in rows if row.id not in dropped]
        for row in kept:
            latest[_entity(row.kind, row.data)] = row.seq
        for row in kept:
            entity = _entity(row.kind, row.data)
            if latest[entity] == row.seq:
                connection.execute(
                    sa.update(_events).where(_events.c.id == row.id).values(entity=entity)
                )
            else:
                connection.execute(
                    sa.update(_events)
                    .where(_events.c.id == row.id)
                    .values(kind=SUPERSEDED, data={}, entity="")
                )


def downgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_blog_id"))
    op.drop_table("audit_entries")
    with op.batch_alter_table("events") as batch_op:
        batch_op.drop_index("ix_events_entity")
        batch_op.drop_column("entity")
