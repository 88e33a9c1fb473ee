"""Initial schema: reviews, findings, item verdicts, answers, events, cursors, docs read, scan errors.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Timestamps are UTC ISO-8601 text (tui.session.models.UTCDateTime); a migration spells out the plain
column types so it never changes when the models do.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TEXT = sa.String(27)


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_path", sa.Text(), nullable=False),
        sa.Column("checklist_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTC_TEXT, nullable=False),
        sa.Column("updated_at", UTC_TEXT, nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("repo_path", "checklist_id", name=op.f("uq_reviews_repo_path_checklist_id")),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("original_severity", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("start_line", sa.Integer(), nullable=False),
        sa.Column("end_line", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("detection", sa.String(16), nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("dismiss_reason", sa.String(32), nullable=True),
        sa.Column("needs_second_look", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_seen", UTC_TEXT, nullable=False),
        sa.Column("last_seen", UTC_TEXT, nullable=False),
        _fk_review("findings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("review_id", "fingerprint", name=op.f("uq_findings_review_id_fingerprint")),
    )
    op.create_table(
        "item_verdicts",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("at", UTC_TEXT, nullable=False),
        _fk_review("item_verdicts"),
        sa.PrimaryKeyConstraint("review_id", "item_id", name=op.f("pk_item_verdicts")),
    )
    op.create_table(
        "answers",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("drafted", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=True),
        sa.Column("at", UTC_TEXT, nullable=True),
        _fk_review("answers"),
        sa.PrimaryKeyConstraint("review_id", "question_id", name=op.f("pk_answers")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("at", UTC_TEXT, nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _fk_review("events"),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_events_finding_id_findings"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_events_review_id_id"), "events", ["review_id", "id"])
    op.create_index(op.f("ix_events_finding_id"), "events", ["finding_id"])
    op.create_table(
        "cursors",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_TEXT, nullable=False),
        _fk_review("cursors"),
        sa.PrimaryKeyConstraint("review_id", "reviewer", name=op.f("pk_cursors")),
    )
    op.create_table(
        "docs_read",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("at", UTC_TEXT, nullable=False),
        _fk_review("docs_read"),
        sa.PrimaryKeyConstraint("review_id", "path", "reviewer", name=op.f("pk_docs_read")),
    )
    op.create_table(
        "scan_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        _fk_review("scan_errors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_errors")),
    )
    op.create_index(op.f("ix_scan_errors_review_id"), "scan_errors", ["review_id"])


def downgrade() -> None:
    for table in ("scan_errors", "docs_read", "cursors", "events", "answers", "item_verdicts", "findings", "reviews"):
        op.drop_table(table)


def _fk_review(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["review_id"], ["reviews.id"], name=op.f(f"fk_{table}_review_id_reviews"), ondelete="CASCADE"
    )
