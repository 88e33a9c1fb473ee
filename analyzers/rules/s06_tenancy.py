"""Section 6: Multi-Tenancy & RLS (policies as the migrations create them)."""

from __future__ import annotations

import re

from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.runs_on import runs_on
from analyzers.rules.schema import (
    TENANT_SETTING, first_line, healthcare, holds_phi, is_link_table, migration_gaps, migration_sql, rls_by_table,
    schema_per_tenant, tenant_column, unread_sql, uses_rls, where,
)

_TENANT_MODEL = HEADER + '''
class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
'''


def _migration(sql: str) -> str:
    return f'''
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.execute("""{sql}""")
def downgrade():
    op.execute("DROP POLICY tenant ON documents")
'''


_GOOD_RLS = """
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid);
"""


# The same, written as a PL/pgSQL loop over a constant array (read by expanding the EXECUTE format()).
_LOOPED_RLS = """
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['documents'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (organization_id = current_setting(''app.current_tenant_id'')::uuid)', t);
    END LOOP;
END $$;
"""


class TenantTableWithoutRls(Rule):
    """A tenant-scoped table has no Row-Level Security.

    What it checks:
        Tables with a tenant column (`organization_id`, `tenant_id`, `org_id`, on some table that is not a link
        table: names only a membership table carries, as `users_tenants(user_id, tenant_id)`, do not count; else the
        foreign key to an organization-like table that much of the schema carries, or the columns the settings name) for
        which no migration runs `ALTER TABLE ... ENABLE ROW LEVEL SECURITY`. When no table has RLS at all,
        one finding for the design, listing the tables: critical where the schema holds patients; info where
        nothing in the migrations uses RLS (no policy, no current_setting() but in a function no policy calls, as an
        audit trigger's, and no tenant's setting): the product keeps tenants apart
        in its queries, and RLS is the checklist's defence in depth; else a warning; likewise one finding when fewer tables have RLS than lack it (a rollout begun). Each
        table is its own finding when only a few lack it; info where a migration hands that very table to a
        function dbreview could not read (`op.execute(enable_rls("documents"))`). Nothing when the code separates tenants by
        schema (`schema_translate_map`, a `search_path` set per tenant), or when the application is known to
        run on databases other than PostgreSQL only (analyzers/rules/runs_on.py): RLS is PostgreSQL's.
    Why it matters:
        Tenant isolation then rests on every query remembering its WHERE clause: one missing filter
        and Organization A reads Organization B's data.
    Example:
        organization_id column on documents; no ENABLE ROW LEVEL SECURITY for documents.
    Instead:
        In a migration: ENABLE and FORCE ROW LEVEL SECURITY, and a policy comparing organization_id
        with `current_setting('app.current_tenant_id')`.
    """

    ID = "TEN001"
    ITEM = "6.2"
    SEVERITY = Severity.CRITICAL
    VALID = (
        {"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS)},
        {"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration("SELECT 1"), "db.py": """
def tenant_session(engine, tenant_id):
    return engine.connect().execution_options(schema_translate_map={None: tenant_id})
"""},
    )
    INVALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration("SELECT 1")},
               {"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(
                   "ALTER TABLE patients ENABLE ROW LEVEL SECURITY; ALTER TABLE patients FORCE ROW LEVEL SECURITY")})

    def check(self):
        if not self.facts.revisions or schema_per_tenant(self.facts) or runs_on(self.facts).not_postgres:
            return  # nothing migrated to read; tenants in schemas of their own; or no PostgreSQL, whose feature RLS is
        scoped = [t for t in self.facts.tables.values() if tenant_column(t, self.facts) is not None]
        rls = rls_by_table(self.facts)
        if not any(state.enabled for state in rls.values()):
            if scoped:
                yield self._none_anywhere(scoped)
            return
        missing = [t for t in scoped if not (rls.get(t.name) and rls[t.name].enabled)]
        if len(missing) > len(scoped) - len(missing):
            yield self._partial(missing, len(scoped))  # RLS only begun: one decision, the rest of the rollout
            return
        for table in missing:
            col = tenant_column(table, self.facts)
            unread = unread_sql(self.facts, table.name)
            note, severity = "", None
            if not (holds_phi(table.name) or "patient_id" in table.columns) or is_link_table(table):
                severity = Severity.WARNING  # a tenant's rows (or a link of ids), not health data: not a release blocker
            if unread:
                note = f"; migration SQL we could not read ({where(unread)}) may do it: check"
                severity = Severity.WARNING
            handed = next((u for u in migration_gaps(self.facts, table.name) if u.kind == "sql" and u.text
                           and re.search(rf"""['"]{re.escape(table.name)}['"]""", u.text)), None)
            if handed is not None:  # `op.execute(enable_rls("documents"))`: a helper given this very table
                note = (f"; but a migration hands it to `{handed.text[:80]}` ({handed.span.path}:{handed.span.start}), which "
                        "dbreview could not read: if that enables it, nothing is missing")
                severity = Severity.INFO
            yield self.finding(
                f"{table.label} is tenant-scoped ({col.name}) but no migration enables Row-Level Security on it{note}",
                first_line(table.span), f"table:{table.name}:rls", severity=severity,
            )

    def _design(self) -> tuple[Severity, list]:
        """Critical where the schema holds patients (HIPAA), a warning elsewhere; unsure (info, saying
        what) when migration SQL that could not be read may enable RLS on any table."""
        anywhere = [u for u in migration_gaps(self.facts) if u.table is None and u.text is None]
        return (Severity.CRITICAL if healthcare(self.facts) else Severity.WARNING), anywhere

    def _none_anywhere(self, scoped):
        """No table has RLS: one decision for the design, not one finding per table. Where nothing in the
        migrations uses RLS at all (no policy, no current_setting()) and the schema holds no patients, the
        product keeps tenants apart in its queries by design: info, the checklist's defence in depth."""
        severity, unsure = self._design()
        by_design = not healthcare(self.facts) and not uses_rls(self.facts)
        message = (
            f"tenancy rests on the application's queries: {len(scoped)} tenant-scoped tables ({_names(scoped)}), and no "
            "migration enables Row-Level Security, creates a policy or reads a tenant setting. The checklist asks for "
            "RLS as defence in depth (a query that forgets its tenant filter then returns no other tenant's rows): "
            "record the design decision, or enable RLS" if by_design else
            f"{len(scoped)} tenant-scoped tables ({_names(scoped)}) and no migration enables Row-Level Security on "
            "any table: isolation rests on every query's WHERE clause. If tenants are separated another way (a "
            "schema or database per tenant), record it; else enable RLS")
        return self.grouped(
            message, [(first_line(t.span), f"table:{t.name}:rls", t.name) for t in scoped], "tenancy:no-rls",
            severity=Severity.INFO if by_design else severity, unsure=unsure,
        )

    def _partial(self, missing, scoped: int):
        severity, unsure = self._design()
        return self.grouped(
            f"Row-Level Security covers {scoped - len(missing)} of {scoped} tenant-scoped tables; {len(missing)} have "
            f"none ({_names(missing)}): their rows are isolated only by each query's WHERE clause",
            [(first_line(t.span), f"table:{t.name}:rls", t.name) for t in missing], "tenancy:rls-partial",
            severity=severity, unsure=unsure,
        )


def _names(tables) -> str:
    return ", ".join(t.name for t in tables[:5]) + (", ..." if len(tables) > 5 else "")


class RlsNotForced(Rule):
    """Row-Level Security is enabled but not forced.

    What it checks:
        Tables with ENABLE ROW LEVEL SECURITY and no FORCE ROW LEVEL SECURITY.
    Why it matters:
        The table's owner bypasses non-forced RLS; applications often connect as the owner (the role
        that ran the migrations), so the policies never apply to them.
    Example:
        ALTER TABLE documents ENABLE ROW LEVEL SECURITY;   -- and no FORCE
    Instead:
        `ALTER TABLE documents FORCE ROW LEVEL SECURITY;`, or connect as a role that does not own the tables.
    """

    ID = "TEN002"
    ITEM = "6.2"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS)},)
    INVALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS.replace("FORCE", "ENABLE"))},)

    def check(self):
        for name, state in sorted(rls_by_table(self.facts).items()):
            if state.enabled and not state.forced:
                yield self.finding(
                    f"RLS on {name} is enabled but not FORCEd: the table owner (often the application's role) bypasses it",
                    state.enabled.span, f"table:{name}:force-rls",
                )


class PolicyAlwaysTrue(Rule):
    """A Row-Level Security policy lets every row through.

    What it checks:
        Policies whose USING (for reads: critical) or WITH CHECK (for writes: warning) expression is
        `true`; info when the policy is limited to named roles.
    Why it matters:
        Permissive policies are OR-ed: one `USING (true)` policy voids every other policy on the
        table for the roles it names.
    Example:
        CREATE POLICY open ON documents USING (true);
    Instead:
        Compare the row's tenant with `current_setting('app.current_tenant_id')`; give bypass to an
        explicit admin role only.
    """

    ID = "TEN003"
    ITEM = "6.2"
    SEVERITY = Severity.CRITICAL
    VALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS)},)
    INVALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY; CREATE POLICY open ON documents USING (true);")},
        {"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(
            "ALTER TABLE documents ENABLE ROW LEVEL SECURITY; CREATE POLICY ins ON documents FOR INSERT WITH CHECK (true);")},
    )

    def check(self):
        for name, state in sorted(rls_by_table(self.facts).items()):
            for pol in state.policies:
                using = (pol.details.get("using") or "").strip().lower()
                check = (pol.details.get("with_check") or "").strip().lower()
                command = str(pol.details.get("command") or "all").lower()
                opens_reads = using in ("true", "(true)") and command in ("all", "select", "update", "delete")
                opens_writes = check in ("true", "(true)") and command in ("all", "insert", "update")
                if not (opens_reads or opens_writes):
                    continue
                roles = [r for r in pol.details.get("roles", []) if r and r.upper() != "PUBLIC"]
                who = f"for {', '.join(roles)}" if roles else "for every role"
                if opens_reads:
                    what = f"USING (true) on {command.upper()}: every row of {name} is visible {who}"
                    severity = Severity.CRITICAL if not roles else Severity.INFO
                else:
                    what = (
                        f"WITH CHECK (true) on {command.upper()}: any row may be written {who}, including rows "
                        f"naming another tenant (for an audit table: forged entries). If only a trigger or a "
                        f"SECURITY DEFINER function must write, grant the policy to that role only"
                    )
                    severity = Severity.WARNING if not roles else Severity.INFO
                yield self.finding(
                    f"policy {pol.details.get('name')} on {name} is always true, {what}",
                    pol.span, f"policy:{name}:{pol.details.get('name')}", severity=severity,
                )


class PolicyIgnoresTenant(Rule):
    """A policy on a tenant table does not look at the tenant.

    What it checks:
        Policies on tables with `organization_id` whose USING expression reads neither the tenant
        setting nor the organization column. An expression the migration formats into the SQL at upgrade
        time (`USING ({qual})`, copied from another policy) is one dbreview cannot see: info, saying so.
    Why it matters:
        The policy may restrict rows by user, but nothing stops a user with rows in two
        organizations, or a query run under another tenant's context, from mixing them.
    Example:
        CREATE POLICY own ON documents USING (owner_id = current_setting('app.current_user_id')::uuid);
    Instead:
        Add `organization_id = current_setting('app.current_tenant_id')::uuid` to the expression.
    """

    ID = "TEN004"
    ITEM = "6.3"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS)},)
    INVALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY; CREATE POLICY own ON documents USING (owner_id = current_setting('app.current_user_id')::uuid);")},)

    def check(self):
        rls = rls_by_table(self.facts)
        for table in self.facts.tables.values():
            col = tenant_column(table, self.facts)
            if col is None or table.name not in rls:
                continue
            for pol in rls[table.name].policies:
                using = pol.details.get("using") or ""
                if using.strip().lower() in ("true", ""):
                    continue  # TEN003's
                if not (TENANT_SETTING.search(using) or col.name in using or "organization" in using.lower()):
                    if "dbreview_dynamic" in using:  # USING ({qual}): copied in at upgrade time (from pg_policies ...)
                        yield self.finding(
                            f"policy {pol.details.get('name')} on {table.name} takes its USING expression from a value "
                            "the migration formats into the SQL at upgrade time, which dbreview cannot see: check that "
                            f"the expression it copies compares {col.name} with the tenant",
                            pol.span, f"policy:{table.name}:{pol.details.get('name')}:tenant", severity=Severity.INFO,
                        )
                        continue
                    yield self.finding(
                        f"policy {pol.details.get('name')} on {table.name} does not compare {col.name} with the tenant",
                        pol.span, f"policy:{table.name}:{pol.details.get('name')}:tenant",
                    )


class RlsWithoutPolicy(Rule):
    """Row-Level Security is enabled with no policy.

    What it checks:
        Tables with ENABLE ROW LEVEL SECURITY and no CREATE POLICY in any migration (info when some
        migration SQL could not be read and may create it).
    Why it matters:
        With no policy, RLS denies every row to every role but the owner: the feature using the
        table breaks for non-owner roles, or works only because the app is the owner (no isolation).
    Example:
        ALTER TABLE documents ENABLE ROW LEVEL SECURITY;   -- and no policy
    Instead:
        Create the tenant policy in the same migration.
    """

    ID = "TEN005"
    ITEM = "3.7"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_GOOD_RLS)},
             {"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(_LOOPED_RLS)})
    INVALID = ({"models.py": _TENANT_MODEL, "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY; ALTER TABLE documents FORCE ROW LEVEL SECURITY;")},)

    def check(self):
        for name, state in sorted(rls_by_table(self.facts).items()):
            if state.enabled and not state.policies:
                unread = unread_sql(self.facts, name)
                if unread:
                    yield self.finding(
                        f"RLS is enabled on {name} and no policy we could read exists; migration SQL we could not "
                        f"read ({where(unread)}) may create it: check it, or every non-owner role sees no rows",
                        state.enabled.span, f"table:{name}:no-policy", severity=Severity.INFO,
                    )
                    continue
                yield self.finding(
                    f"RLS is enabled on {name} but no policy exists: every non-owner role sees no rows",
                    state.enabled.span, f"table:{name}:no-policy",
                )


class PhiWithoutRls(Rule):
    """A table of protected health information has no Row-Level Security.

    What it checks:
        Tables that hold PHI (patients, clinical records, messages, calls...) but carry no tenant
        column, and on which no migration enables RLS; not where the application is known to run on
        MySQL or MariaDB with nothing naming PostgreSQL (they have no Row-Level Security).
    Why it matters:
        Such tables reach their tenant through a join (a patient enrolled in organizations); without
        a policy, any query that forgets the join reads every organization's patients.
    Example:
        patients table (linked to organizations through organization_patients), no RLS.
    Instead:
        A policy that checks membership: `EXISTS (SELECT 1 FROM organization_patients op WHERE
        op.patient_id = id AND op.organization_id = current_setting('app.current_tenant_id')::uuid)`.
    """

    ID = "TEN006"
    ITEM = "4.3"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
''', "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE patients ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON patients USING (id IS NOT NULL)")},)
    INVALID = ({"models.py": HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
''', "migrations/versions/0001_rls.py": _migration("SELECT 1")},)

    def check(self):
        if not self.facts.revisions or not healthcare(self.facts) or runs_on(self.facts).mysql_only:
            return  # Row-Level Security is PostgreSQL's: on MySQL alone there is none to ask for
        rls = rls_by_table(self.facts)
        for table in self.facts.tables.values():
            if tenant_column(table, self.facts) is None and holds_phi(table.name) and not (rls.get(table.name) and rls[table.name].enabled):
                unread = unread_sql(self.facts, table.name)
                note = f"; migration SQL we could not read ({where(unread)}) may enable it: check" if unread else ""
                yield self.finding(
                    f"{table.label} holds PHI and has no Row-Level Security (and no tenant column to scope it by){note}",
                    first_line(table.span), f"table:{table.name}:phi-rls",
                    severity=Severity.INFO if unread else None,
                )


class NoSuperAdminPath(Rule):
    """Policies give platform owners no way in.

    What it checks:
        When users carry a super-admin flag and RLS policies exist: whether any policy (or a
        BYPASSRLS role) mentions the super-admin case.
    Why it matters:
        Support staff then reach tenant data by connecting as the table owner or disabling RLS, both
        unaudited. Whether that is intended cannot be read from code: confirm it.
    Example:
        users.is_super_admin exists; no policy refers to it.
    Instead:
        A policy clause such as `OR current_setting('app.is_super_admin', true) = 'true'`, set only by
        audited admin endpoints; or a dedicated BYPASSRLS role.
    """

    ID = "TEN007"
    ITEM = "6.4"
    SEVERITY = Severity.INFO
    VALID = ({"models.py": HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    is_super_admin: Mapped[bool] = mapped_column(default=False)
''', "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE users ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON users USING (current_setting('app.is_super_admin', true) = 'true')")},)
    INVALID = ({"models.py": HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    is_super_admin: Mapped[bool] = mapped_column(default=False)
''', "migrations/versions/0001_rls.py": _migration(
        "ALTER TABLE users ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON users USING (id = current_setting('app.current_user_id')::uuid)")},)

    def check(self):
        users = next((t for t in self.facts.tables.values() if re.match(r"^users?$", t.name)), None)
        flag = users and next((users.columns[c] for c in ("is_super_admin", "is_superuser") if c in users.columns), None)
        policies = [p for s in rls_by_table(self.facts).values() for p in s.policies]
        if not flag or not policies:
            return
        if any(re.search(r"super|admin|bypass", p.text, re.I) for p in policies) or any(
            "BYPASSRLS" in st.text.upper() for st in migration_sql(self.facts).statements
        ):
            return
        yield self.finding(
            f"users.{flag.name} exists but no RLS policy or BYPASSRLS role mentions it: check how platform owners reach "
            "tenant data, and that it is audited", flag.span, "policy:super-admin",
        )
