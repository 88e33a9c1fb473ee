"""Undo: events grouped by reviewer action, with the target's state before and after; cursors say who left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("action", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("states", sa.Text(), nullable=True))
        batch.add_column(sa.Column("undoes", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_events_undoes"), ["undoes"], unique=False)
    with op.batch_alter_table("cursors") as batch:
        batch.add_column(sa.Column("left", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("cursors") as batch:
        batch.drop_column("left")
    with op.batch_alter_table("events") as batch:
        batch.drop_index(batch.f("ix_events_undoes"))
        batch.drop_column("undoes")
        batch.drop_column("states")
        batch.drop_column("action")
