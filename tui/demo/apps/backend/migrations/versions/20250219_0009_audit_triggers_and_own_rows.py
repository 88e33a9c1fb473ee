"""audit triggers on clinical tables; an append-only archive of old audit rows; users see their own
notifications and assigned tasks

Revision ID: 0009
Revises: 0008
Create Date: 2025-02-19 10:12:40.318202+00:00

audit_row_change() writes one audit_logs row per change; it runs as its owner so that the
application role needs no INSERT grant on audit_logs. The policies read the user once per query
(a scalar subquery) and get NULL, not an error, when the setting is empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDITED = ("patients", "appointments")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_row_change() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN
            INSERT INTO audit_logs (id, actor_user_id, action, resource_type, resource_id, changes)
            VALUES (
                gen_random_uuid(),
                NULLIF(current_setting('app.current_user_id', true), '')::uuid,
                CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END::audit_action,
                TG_TABLE_NAME,
                COALESCE(NEW.id, OLD.id),
                to_jsonb(COALESCE(NEW, OLD))
            );
            RETURN NULL;
        END;
        $$
        """
    )
    for table in AUDITED:
        op.execute(
            f"CREATE TRIGGER audit_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_row_change()"
        )

    op.create_table(
        "audit_log_archive",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("batch_month", sa.String(7), nullable=False),
        sa.Column("entries", postgresql.JSONB(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_audit_log_archive_batch_month", "audit_log_archive", ["batch_month"])
    op.execute(
        "CREATE TRIGGER audit_log_archive_append_only BEFORE UPDATE OR DELETE ON audit_log_archive "
        "FOR EACH ROW EXECUTE FUNCTION audit_logs_reject_change()"
    )

    op.execute(
        "CREATE POLICY own_notifications ON notifications "
        "USING (user_id = (SELECT NULLIF(current_setting('app.current_user_id', true), '')::uuid))"
    )
    op.execute(
        "CREATE POLICY assigned_tasks ON tasks "
        "USING (assignee_id = (SELECT NULLIF(current_setting('app.current_user_id', true), '')::uuid))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS assigned_tasks ON tasks")
    op.execute("DROP POLICY IF EXISTS own_notifications ON notifications")
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS audit_{table} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS audit_row_change()")
    op.drop_table("audit_log_archive")
