"""drop patients.phone (numbers now live in contact_methods)

Revision ID: 0007
Revises: 0006
Create Date: 2025-02-05 11:30:59.884512+00:00

The numbers were copied into contact_methods by scripts/backfill_contact_methods.py
before this revision was deployed.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("patients", "phone")
    op.create_index("ix_contact_methods_patient_id_is_primary", "contact_methods", ["patient_id", "is_primary"])


def downgrade() -> None:
    op.drop_index("ix_contact_methods_patient_id_is_primary", table_name="contact_methods")
