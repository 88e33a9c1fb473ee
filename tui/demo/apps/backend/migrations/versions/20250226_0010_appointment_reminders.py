"""appointment reminders: the channel and the opt-in, an index for the reminder job, the audit TRUNCATE trigger re-asserted

Revision ID: 0010
Revises: 0009
Create Date: 2025-02-26 10:41:27.553102+00:00

Databases restored from the pre-0005 dump lacked audit_logs' TRUNCATE trigger; this revision creates it where it
is missing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("appointments", sa.Column("reminder_channel", sa.String(length=16), nullable=False))
    op.add_column(
        "appointments",
        sa.Column("reminder_opt_in", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_appointments_reminder_channel",
            "appointments",
            ["reminder_channel"],
            postgresql_concurrently=True,
        )
    op.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_logs_no_truncate') THEN
                CREATE TRIGGER audit_logs_no_truncate
                    BEFORE TRUNCATE ON audit_logs
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_reject_change();
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_logs_no_truncate ON audit_logs")
    with op.get_context().autocommit_block():
        op.drop_index("ix_appointments_reminder_channel", table_name="appointments", postgresql_concurrently=True)
    op.drop_column("appointments", "reminder_opt_in")
    op.drop_column("appointments", "reminder_channel")
