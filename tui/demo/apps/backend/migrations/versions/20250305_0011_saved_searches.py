"""saved patient-list searches

Revision ID: 0011
Revises: 0010
Create Date: 2025-03-05 10:02:41.507316+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_searches",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("owner_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("external_ref", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=True),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_saved_searches_owner_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    op.create_index(op.f("ix_saved_searches_owner_id"), "saved_searches", ["owner_id"])
    op.create_index(op.f("ix_saved_searches_deleted_at"), "saved_searches", ["deleted_at"])
    op.create_index(
        "uq_saved_searches_owner_name_live", "saved_searches", ["owner_id", "name"], unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_saved_searches_owner_name_live", table_name="saved_searches")
    op.drop_index(op.f("ix_saved_searches_deleted_at"), table_name="saved_searches")
    op.drop_index(op.f("ix_saved_searches_owner_id"), table_name="saved_searches")
    op.drop_table("saved_searches")
