"""Findings keep their related locations; the scan's not-applicable suggestions per item.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("related", sa.Text(), server_default="[]", nullable=False))
    op.create_table(
        "not_applicable",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_not_applicable_review_id_reviews"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("review_id", "item_id", name=op.f("pk_not_applicable")),
    )


def downgrade() -> None:
    op.drop_table("not_applicable")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("related")
