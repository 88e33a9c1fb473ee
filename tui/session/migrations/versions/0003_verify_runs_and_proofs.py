"""What `dbreview verify` proved: its runs, and the latest proof of each finding.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TEXT = sa.String(27)


def upgrade() -> None:
    op.create_table(
        "verify_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TEXT, nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("postgres", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_verify_runs_review_id_reviews"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_runs")),
    )
    op.create_index(op.f("ix_verify_runs_review_id"), "verify_runs", ["review_id"])
    op.create_table(
        "proofs",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"], name=op.f("fk_proofs_finding_id_findings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["verify_runs.id"], name=op.f("fk_proofs_run_id_verify_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_proofs")),
    )
    op.create_index(op.f("ix_proofs_run_id"), "proofs", ["run_id"])


def downgrade() -> None:
    op.drop_table("proofs")
    op.drop_table("verify_runs")
