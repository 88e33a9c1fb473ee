"""organization timezone: backfill from settings and default to UTC

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-15 10:41:27.006113+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE organizations
           SET timezone = COALESCE(settings ->> 'timezone', 'UTC')
         WHERE timezone IS NULL
        """
    )
    op.alter_column(
        "organizations",
        "timezone",
        existing_type=sa.String(64),
        nullable=False,
        server_default="UTC",
    )
    op.execute("UPDATE organizations SET settings = settings - 'timezone' WHERE settings ? 'timezone'")


def downgrade() -> None:
    pass
