"""index patients by name within an organization (front-desk search)

Revision ID: 0008
Revises: 0007
Create Date: 2025-02-12 09:14:03.120877+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_patients_name_search", "patients", ["organization_id", "last_name", "first_name"])


def downgrade() -> None:
    # The name of the index in the first draft of this revision.
    op.drop_index("ix_patients_last_name_first_name", table_name="patients")
