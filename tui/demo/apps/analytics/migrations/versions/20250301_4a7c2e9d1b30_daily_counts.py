"""daily_counts

Revision ID: 4a7c2e9d1b30
Revises:
Create Date: 2025-03-01 09:12:44.501322+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4a7c2e9d1b30"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("appointments", sa.Integer(), server_default="0", nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_counts")),
    )


def downgrade() -> None:
    op.drop_table("daily_counts")
