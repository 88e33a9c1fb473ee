"""report labels and page hits

Revision ID: e2b6d9c4f081
Revises: c5e8a0f2d417
Create Date: 2025-03-22 10:41:09.118304+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b6d9c4f081"
down_revision: str | Sequence[str] | None = "c5e8a0f2d417"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_labels",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_labels")),
        sa.UniqueConstraint("name", "scope", name=op.f("uq_report_labels_name")),
    )
    op.create_table(
        "page_hits",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("name", "report_labels", ["scope"])
    op.create_index("ix_page_hits_path_md5", "page_hits", [sa.func.md5("path")])
    op.create_index("ix_page_hits_path_lower", "page_hits", [sa.func.lower(sa.column("path"))])


def downgrade() -> None:
    op.drop_table("page_hits")
    op.drop_table("report_labels")
