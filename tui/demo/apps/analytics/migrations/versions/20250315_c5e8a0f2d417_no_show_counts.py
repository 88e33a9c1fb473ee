"""no-show counts

Revision ID: c5e8a0f2d417
Revises: 8d1f5b3a6c42
Create Date: 2025-03-15 11:03:27.640198+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e8a0f2d417"
down_revision: str | Sequence[str] | None = "8d1f5b3a6c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("daily_counts", sa.Column("no_shows", sa.Integer(), server_default="0", nullable=False))
    # the daily totals outgrow an integer one day: widen them
    op.alter_column("daily_counts", sa.Column("appointments", sa.BigInteger()))


def downgrade() -> None:
    op.drop_column("daily_counts", "no_shows")
