"""blog language, sibling blogs in other languages, and a named look

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Blogs written before languages existed were English pages: "en" keeps them so.
    with op.batch_alter_table("blogs") as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(35), nullable=False, server_default="en")
        )
        batch_op.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("theme", sa.String(40), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("blogs") as batch_op:
        batch_op.drop_column("theme")
        batch_op.drop_column("translations")
        batch_op.drop_column("language")
