"""row-level security: tenant isolation policies

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-22 16:20:05.551870+00:00

Policies read app.current_tenant_id, which the application sets at the start of every
transaction (see src/database.py). FORCE makes the policies apply to the table owner too.
Rows with a NULL organization_id (platform-level tickets and overrides) are reached only by
the support console, which connects with its own BYPASSRLS role.
asyncpg prepares every statement, so each op.execute() holds exactly one statement.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enable_tenant_isolation(table: str) -> None:
    """ENABLE + FORCE row-level security on `table` with the standard tenant policy."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (organization_id = current_setting('app.current_tenant_id')::uuid)"
    )


def _disable_tenant_isolation(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.execute("ALTER TABLE patients ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE patients FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON patients "
        "USING (organization_id = current_setting('app.current_tenant_id')::uuid)"
    )

    op.execute("ALTER TABLE organization_memberships ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE organization_memberships FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON organization_memberships "
        "USING (organization_id = current_setting('app.current_tenant_id')::uuid)"
    )

    for table in (
        "organization_patients", "providers", "staff", "care_team_assignments", "calls", "tasks",
        "subscription_overrides", "support_tickets",
    ):
        _enable_tenant_isolation(table)

    op.execute("ALTER TABLE appointments ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON appointments "
        "USING (organization_id = current_setting('app.current_tenant_id')::uuid)"
    )

    op.execute("ALTER TABLE contact_methods ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE contact_methods FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY contact_methods_access ON contact_methods
            USING (true)
            WITH CHECK (organization_id = current_setting('app.current_tenant_id')::uuid)
        """
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS contact_methods_access ON contact_methods")
    op.execute("ALTER TABLE contact_methods NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE contact_methods DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS tenant_isolation ON appointments")
    op.execute("ALTER TABLE appointments DISABLE ROW LEVEL SECURITY")
    for table in (
        "support_tickets", "subscription_overrides", "tasks", "calls", "care_team_assignments", "staff",
        "providers", "organization_patients",
    ):
        _disable_tenant_isolation(table)
    op.execute("DROP POLICY IF EXISTS tenant_isolation ON organization_memberships")
    op.execute("ALTER TABLE organization_memberships NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE organization_memberships DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS tenant_isolation ON patients")
    op.execute("ALTER TABLE patients NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE patients DISABLE ROW LEVEL SECURITY")
