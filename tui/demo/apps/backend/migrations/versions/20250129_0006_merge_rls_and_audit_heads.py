"""merge heads: row-level security and audit append-only

Revision ID: 0006
Revises: 0004, 0005
Create Date: 2025-01-29 08:55:13.402377+00:00
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
