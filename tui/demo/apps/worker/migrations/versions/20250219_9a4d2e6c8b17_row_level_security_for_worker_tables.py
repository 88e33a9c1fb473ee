"""row-level security for the worker's tables

Revision ID: 9a4d2e6c8b17
Revises: 5e1c7a9b3f20
Create Date: 2025-02-19 09:26:51.604118+00:00

Patients and proxies read their reminders through the API (role carebridge_api); the worker role
has BYPASSRLS. stripe_events is only ever written by the worker.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9a4d2e6c8b17"
down_revision: str | Sequence[str] | None = "5e1c7a9b3f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE reminder_deliveries ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE reminder_deliveries FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY recipient_only ON reminder_deliveries "
        "USING (recipient_user_id = current_setting('app.current_user_id')::uuid)"
    )

    op.execute("ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE stripe_events FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.execute("ALTER TABLE stripe_events NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE stripe_events DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS recipient_only ON reminder_deliveries")
    op.execute("ALTER TABLE reminder_deliveries NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE reminder_deliveries DISABLE ROW LEVEL SECURITY")
