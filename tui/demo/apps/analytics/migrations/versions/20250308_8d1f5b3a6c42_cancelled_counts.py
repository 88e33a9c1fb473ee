"""cancelled counts; the days already counted are counted again

Revision ID: 8d1f5b3a6c42
Revises: 4a7c2e9d1b30
Create Date: 2025-03-08 16:40:05.118020+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from analytics.models import DailyCount

revision: str = "8d1f5b3a6c42"
down_revision: str | Sequence[str] | None = "4a7c2e9d1b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("daily_counts", sa.Column("cancelled", sa.Integer(), server_default="0", nullable=False))
    session = Session(bind=op.get_bind())
    for row in session.query(DailyCount).filter(DailyCount.day < sa.func.current_date()):
        row.computed_at = None  # the nightly job counts days without a computed_at again
    session.commit()


def downgrade() -> None:
    op.get_bind().execute("UPDATE daily_counts SET computed_at = NULL WHERE cancelled > 0")  # recount those days
    op.drop_table("daily_counts")  # the nightly job rebuilds the counts
