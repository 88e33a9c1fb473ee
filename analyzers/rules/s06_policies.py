"""Section 6, deeper: how the policies, the functions they rely on and the audit triggers are written
(the settings they read, casts, evaluation per row, SECURITY DEFINER, what the audit covers)."""

from __future__ import annotations

import re

from analyzers.facts.model import SqlStatement
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER, PATIENT
from analyzers.rules.s06_tenancy import _migration
from analyzers.rules.schema import (
    AUDITING, audit_triggers, first_line, healthcare, holds_phi, is_test_path, is_tooling_path, migration_sql, rls_by_table, settings_read,
    table_sql, unread_sql, where,
)


def _revision_of(facts, st: SqlStatement) -> str:
    rev = next((r for r in facts.revisions if r.path == st.span.path), None)
    return (rev.revision if rev and rev.revision else st.span.path)


def _per_revision(facts, statements: list[SqlStatement]) -> dict[str, list[SqlStatement]]:
    """Statements grouped by the revision holding them, in order: one root cause in one revision is one finding."""
    out: dict[str, list[SqlStatement]] = {}
    for st in statements:
        out.setdefault(_revision_of(facts, st), []).append(st)
    return out


def _others(first: SqlStatement, sts: list[SqlStatement], note) -> list:
    """Related locations for the statements after the first, one per place (a helper's template once)."""
    places = {(st.span.path, st.span.start): (st.span, note(st)) for st in sts if st.span != first.span}
    return list(places.values())


def _dynamic(st: SqlStatement) -> bool:
    """A policy named by a value we could not read (`CREATE POLICY {name} ON ...`)."""
    return "dbreview_dynamic" in str(st.details.get("name") or "")


def _what(st: SqlStatement) -> str:
    if st.kind == "create_policy":
        return f"a policy on {st.table} named at run time" if _dynamic(st) else f"policy {st.details.get('name')} on {st.table}"
    if st.kind == "create_function":
        return f"function {st.details.get('name')}()"
    return st.text.split("\n", 1)[0].strip()[:60]


_TYPED_CAST = re.compile(
    r"current_setting\s*\(\s*'([A-Za-z_][\w.]*)'\s*(?:,\s*(?:true|false)\s*)?\)\s*::\s*(uuid|int(?:eger|2|4|8)?|bigint|"
    r"smallint|numeric|boolean|bool)\b",
    re.I,
)
_HANDLED = re.compile(r"\bEXCEPTION\s+WHEN\b", re.I)


class SettingCastWithoutNullif(Rule):
    """A policy casts `current_setting(...)` to a type without NULLIF(..., '').

    What it checks:
        `current_setting('app.x', true)::uuid` (or `::int`, `::bigint`, `::boolean`) in migration SQL (policies,
        functions, views), not wrapped in `NULLIF(..., '')`. A function that catches errors around the cast
        (`EXCEPTION WHEN ...`) is not reported. One finding per revision, the other places as related locations.
    Why it matters:
        Once a pooled connection has held the setting (set per transaction, or reset with RESET ALL), PostgreSQL
        keeps it defined with the value `''`, not NULL: `''::uuid` raises `invalid input syntax for type uuid`, so
        every query on the table fails for a request without a tenant instead of returning no rows.
    Example:
        CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id', true)::uuid);
    Instead:
        `organization_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid`
    """

    ID = "TEN009"
    ITEM = "6.3"
    SEVERITY = Severity.WARNING
    INVALID = ({"migrations/versions/0001_rls.py": _migration(
        "CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id', true)::uuid)")},)
    VALID = ({"migrations/versions/0001_rls.py": _migration(
        "CREATE POLICY tenant ON documents USING "
        "(organization_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)")},
        {"migrations/versions/0001_fn.py": _migration("""
CREATE FUNCTION current_tenant() RETURNS uuid LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN current_setting('app.current_tenant_id', true)::uuid;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END $$""")})

    def check(self):
        casts = [st for st in migration_sql(self.facts).statements
                 if _TYPED_CAST.search(st.text) and not (st.kind == "create_function" and _HANDLED.search(st.text))]
        for revision, sts in _per_revision(self.facts, casts).items():
            first = sts[0]
            m = _TYPED_CAST.search(first.text)
            assert m is not None
            more = f" (and {len(sts) - 1} more statement(s) of this revision)" if len(sts) > 1 else ""
            yield self.finding(
                f"`{m.group(0)}` in {_what(first)}{more} is not wrapped in NULLIF(..., ''): once a pooled connection "
                f"has held `{m.group(1)}`, it reads '' where it is not set, and the cast raises instead of matching no "
                f"row, failing every query on the table. Use `NULLIF(current_setting('{m.group(1)}', true), '')::"
                f"{m.group(2).lower()}`",
                first.span, f"revision:{revision}:setting-cast",
                related=_others(first, sts, lambda st: f"casts without NULLIF: {_what(st)}"),
            )


_SETTING_CALL = re.compile(r"current_setting\s*\(", re.I)
_WRAPPED = re.compile(r"\(\s*select\s+(?:(?:nullif|coalesce|cast)\s*\(\s*)*$", re.I)


def _per_row(expression: str) -> bool:
    """Does the expression call current_setting() outside a `(SELECT ...)` of its own (an InitPlan, run once)?"""
    return any(not _WRAPPED.search(expression[: m.start()]) for m in _SETTING_CALL.finditer(expression))


class SettingReadPerRow(Rule):
    """A policy calls `current_setting()` for every row instead of once per query.

    What it checks:
        Policies whose USING or WITH CHECK expression calls `current_setting(...)` directly rather than inside a
        scalar subquery `(SELECT current_setting(...))`. One finding per revision (info: a cost, not a hole).
    Why it matters:
        PostgreSQL evaluates a plain function call in a policy for each row it filters (unless an index
        condition takes it); wrapped in `(SELECT ...)` it becomes an InitPlan, evaluated once per query.
        Supabase's linter reports the same pattern (`auth_rls_initplan`) on large tables.
    Example:
        CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid);
    Instead:
        `USING (organization_id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid))`
    """

    ID = "TEN012"
    ITEM = "8.4"
    SEVERITY = Severity.INFO
    INVALID = ({"migrations/versions/0001_rls.py": _migration(
        "CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid)")},)
    VALID = ({"migrations/versions/0001_rls.py": _migration(
        "CREATE POLICY tenant ON documents USING "
        "(organization_id = (SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid))")},)

    def check(self):
        policies = [st for st in migration_sql(self.facts).statements if st.kind == "create_policy" and any(
            _per_row(str(st.details.get(k) or "")) for k in ("using", "with_check"))]
        for revision, sts in _per_revision(self.facts, policies).items():
            names = ", ".join(_what(st) for st in sts[:4]) + (", ..." if len(sts) > 4 else "")
            yield self.finding(
                f"{len(sts)} polic{'y calls' if len(sts) == 1 else 'ies call'} current_setting() per row ({names}): "
                "wrap it in a scalar subquery, `(SELECT current_setting(...))`, so it is evaluated once per query",
                sts[0].span, f"revision:{revision}:per-row-setting",
                related=_others(sts[0], sts, _what),
            )


class PolicyWithoutRls(Rule):
    """A policy exists on a table whose Row-Level Security is not enabled.

    What it checks:
        Tables with CREATE POLICY in the migrations and no `ENABLE ROW LEVEL SECURITY` (or one a later revision
        disables). Info when migration SQL that could not be read may enable it.
    Why it matters:
        Policies do nothing until RLS is enabled on the table: the code reads as if the table were isolated
        while every role sees every row.
    Example:
        CREATE POLICY tenant ON documents USING (...);   -- and no ALTER TABLE documents ENABLE ROW LEVEL SECURITY
    Instead:
        `ALTER TABLE documents ENABLE ROW LEVEL SECURITY;` (and FORCE) in the same migration as the policy.
    """

    ID = "TEN010"
    ITEM = "6.2"
    SEVERITY = Severity.WARNING
    _POLICY = "CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid);"
    INVALID = ({"migrations/versions/0001_rls.py": _migration(_POLICY)},)
    VALID = ({"migrations/versions/0001_rls.py": _migration("ALTER TABLE documents ENABLE ROW LEVEL SECURITY; " + _POLICY)},)

    def check(self):
        for name, state in sorted(rls_by_table(self.facts).items()):
            if state.enabled or not state.policies:
                continue
            pol = state.policies[0]
            unread = unread_sql(self.facts, name)
            note = f"; migration SQL we could not read ({where(unread)}) may enable it: check" if unread else ""
            yield self.finding(
                f"{len(state.policies)} polic{'y' if len(state.policies) == 1 else 'ies'} on {name} "
                f"({', '.join(str(p.details.get('name')) for p in state.policies[:4])}) but no migration enables "
                f"Row-Level Security on {name}: the policies do nothing and every role sees every row{note}",
                pol.span, f"table:{name}:policy-without-rls", severity=Severity.INFO if unread else None,
                related=[(p.span, f"policy {p.details.get('name')}") for p in state.policies[1:]],
            )


_ALL_COMMANDS = ("select", "insert", "update", "delete")


def _commands(policy: SqlStatement) -> set[str]:
    command = str(policy.details.get("command") or "all").lower()
    return set(_ALL_COMMANDS) if command == "all" else {command}


def _roles(policy: SqlStatement) -> set[str]:
    return {str(r).lower() for r in policy.details.get("roles") or () if r} or {"public"}


class OverlappingPermissivePolicies(Rule):
    """Several permissive policies apply to the same role and command on one table.

    What it checks:
        Pairs of PERMISSIVE policies (the default) on one table (not where a policy is named at run time: which
        ones are left after the drops cannot be told) whose commands overlap (ALL covers every
        command) and that name the same role (PUBLIC, or no TO clause, counts as one role here: a policy added for
        one named role beside a PUBLIC one is a deliberate grant, not reported).
    Why it matters:
        Permissive policies are OR-ed: a row any one of them lets through is visible, so each one widens
        access, and a broad one voids a narrow one. Every policy is also evaluated for every row. Often meant
        (a tenant's rows OR a user's own); a reviewer should confirm it, or make one RESTRICTIVE.
    Example:
        CREATE POLICY tenant ON documents USING (...tenant...);
        CREATE POLICY owner ON documents USING (owner_id = ...);   -- both FOR ALL, TO PUBLIC
    Instead:
        One policy with the whole condition, or `AS RESTRICTIVE` for a condition every row must also meet.
    """

    ID = "TEN011"
    ITEM = "6.2"
    SEVERITY = Severity.INFO
    _TWO = ("ALTER TABLE documents ENABLE ROW LEVEL SECURITY; "
            "CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid); ")
    INVALID = ({"migrations/versions/0001_rls.py": _migration(
        _TWO + "CREATE POLICY owner ON documents USING (owner_id = current_setting('app.current_user_id')::uuid);")},)
    VALID = ({"migrations/versions/0001_rls.py": _migration(
        _TWO + "CREATE POLICY owner ON documents AS RESTRICTIVE USING (owner_id = current_setting('app.current_user_id')::uuid);")},
             {"migrations/versions/0001_rls.py": _migration(
        _TWO + "CREATE POLICY audit_read ON documents FOR SELECT TO auditor USING (true);")},)

    def check(self):
        for name, state in sorted(rls_by_table(self.facts).items()):
            if any(st.kind in ("create_policy", "drop_policy") and _dynamic(st) for st in table_sql(self.facts, name)):
                continue  # a policy named at run time: which ones are left cannot be told
            permissive = [p for p in state.policies if p.details.get("permissive", True)]
            pairs = []
            for i, a in enumerate(permissive):
                for b in permissive[i + 1:]:
                    commands = _commands(a) & _commands(b)
                    if commands and _roles(a) & _roles(b):
                        pairs.append((a, b, commands))
            if not pairs:
                continue
            a, b, commands = pairs[0]
            involved = list({id(p): p for pair in pairs for p in pair[:2]}.values())
            names = ", ".join(str(p.details.get("name")) for p in involved)
            latest = involved[-1]  # the policy that widened the others: the one a reviewer looks at
            yield self.finding(
                f"{len(involved)} permissive policies on {name} ({names}) apply to the same role and command "
                f"(e.g. {a.details.get('name')} and {b.details.get('name')} for {', '.join(sorted(c.upper() for c in commands))}): "
                "they are OR-ed, so each widens what the others allow, and each is evaluated per row. Confirm that is "
                "meant, or merge them, or make one AS RESTRICTIVE",
                latest.span, f"table:{name}:permissive-policies",
                related=_others(latest, involved, lambda p: f"policy {p.details.get('name')}"),
            )


class SecurityDefinerSearchPath(Rule):
    """A SECURITY DEFINER function does not pin its search_path.

    What it checks:
        `CREATE FUNCTION ... SECURITY DEFINER` in migration SQL without `SET search_path = ...` in its
        definition or in a later `ALTER FUNCTION ... SET search_path`.
    Why it matters:
        The function runs with its owner's rights (usually the table owner: RLS does not apply to it) and
        resolves unqualified names through the caller's search_path. A caller who can create a temporary table
        or an object in a schema on that path makes it read or write theirs: `pg_temp` is searched first for
        tables. PostgreSQL's documentation says to pin it for every SECURITY DEFINER function.
    Example:
        CREATE FUNCTION audit_trigger_func() RETURNS trigger AS $$ ... INSERT INTO audit_logs ... $$ LANGUAGE plpgsql SECURITY DEFINER;
    Instead:
        `... LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;` (pg_temp last),
        and schema-qualify the tables it touches.
    """

    ID = "TEN013"
    ITEM = "6.2"
    SEVERITY = Severity.WARNING
    _FUNCTION = ("CREATE FUNCTION audit_trigger_func() RETURNS trigger AS $$ BEGIN INSERT INTO audit_logs DEFAULT VALUES; "
                 "RETURN NULL; END $$ LANGUAGE plpgsql SECURITY DEFINER")
    INVALID = ({"migrations/versions/0001_audit.py": _migration(_FUNCTION)},)
    VALID = ({"migrations/versions/0001_audit.py": _migration(_FUNCTION + " SET search_path = pg_catalog, public, pg_temp")},
             {"migrations/versions/0001_audit.py": _migration(
                 _FUNCTION + "; ALTER FUNCTION audit_trigger_func() SET search_path = public, pg_temp")})

    def check(self):
        statements = migration_sql(self.facts).statements
        pinned = {str(st.details.get("name")).lower() for st in statements
                  if st.kind in ("create_function", "alter_function") and "search_path" in (st.details.get("settings") or ())}
        seen = set()
        for st in statements:
            name = str(st.details.get("name") or "").lower()
            if st.kind != "create_function" or not st.details.get("security_definer") or name in pinned or name in seen:
                continue
            seen.add(name)
            trigger = str(st.details.get("returns") or "").lower() == "trigger"
            yield self.finding(
                f"function {st.details.get('name')}() is SECURITY DEFINER and does not pin its search_path: it runs with "
                "its owner's rights (past RLS) and resolves unqualified names through the caller's search_path, where "
                "a temporary table or an object in a writable schema can stand in for the one it means. Add "
                "`SET search_path = pg_catalog, public, pg_temp` to it",
                first_line(st.span), f"function:{name}:search-path", item="3.8" if trigger else None,
            )


def _audit_tables(facts) -> list[str]:
    names = set(facts.tables) | set(facts.migration_tables) | set(rls_by_table(facts))
    return sorted(n for n in names if AUDITING.search(n))


class AuditImmutableByRowTriggersOnly(Rule):
    """An audit table is kept append-only by row triggers alone.

    What it checks:
        Audit tables (`audit_logs`, `audit_events` ...) with a trigger on UPDATE or DELETE in the migrations,
        and nothing that covers TRUNCATE: no `BEFORE TRUNCATE` statement trigger and no `REVOKE TRUNCATE` (or
        `REVOKE ALL`) on the table.
    Why it matters:
        Row triggers do not fire on TRUNCATE: one statement empties the audit trail that the triggers guard row
        by row. The table's owner can also `ALTER TABLE ... DISABLE TRIGGER`; if the application connects as
        the owner, the guard is only as strong as the application.
    Example:
        CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION reject();
    Instead:
        `REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM <the application's role>` with the table owned by
        another role, and a `BEFORE TRUNCATE ... FOR EACH STATEMENT` trigger.
    """

    ID = "TEN014"
    ITEM = "2.audit.1"
    SEVERITY = Severity.WARNING
    _GUARD = ("CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON audit_logs FOR EACH ROW EXECUTE FUNCTION reject(); ")
    INVALID = ({"migrations/versions/0001_audit.py": _migration(_GUARD)},)
    VALID = (
        {"migrations/versions/0001_audit.py": _migration(
            _GUARD + "CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_logs FOR EACH STATEMENT EXECUTE FUNCTION reject();")},
        {"migrations/versions/0001_audit.py": _migration(_GUARD + "REVOKE UPDATE, DELETE, TRUNCATE ON audit_logs FROM app;")},
    )

    def check(self):
        statements = migration_sql(self.facts).statements
        for table in _audit_tables(self.facts):
            triggers = [st for st in statements if st.kind == "create_trigger" and st.table == table]
            guards = [t for t in triggers if {"UPDATE", "DELETE"} & set(t.details.get("events") or ())
                      and not {"INSERT"} & set(t.details.get("events") or ())]
            if not guards:
                continue
            truncate_trigger = any("TRUNCATE" in (t.details.get("events") or ()) for t in triggers)
            revoked = any(st.kind == "revoke" and table in (st.details.get("tables") or ()) and {
                p.lower() for p in st.details.get("privileges") or ()} & {"truncate", "all"} for st in statements)
            if truncate_trigger or revoked:
                continue
            guard = guards[0]
            yield self.finding(
                f"{table} is kept append-only by the row trigger {guard.details.get('name')} alone: TRUNCATE fires no "
                f"row trigger, and the table's owner can DISABLE TRIGGER. Revoke UPDATE, DELETE and TRUNCATE on "
                f"{table} from the application's role (with another role owning it), and add a BEFORE TRUNCATE trigger",
                first_line(guard.span), f"table:{table}:append-only",
            )


class AuditTriggersSkipPhi(Rule):
    """Audit triggers are installed on some tables but not on tables that hold health data.

    What it checks:
        Where migrations attach audit triggers (a trigger or trigger function named `audit...`) to tables, the
        tables of the models that hold PHI (patients, appointments, documents, messages, notes, contact
        methods ...) that no audit trigger covers. One finding listing them. Info when the code also audits
        in ORM event listeners (their coverage is not followed) or when migration SQL could not be read.
    Why it matters:
        HIPAA asks for an audit trail of every change to PHI; an audit that covers some PHI tables looks
        complete in review while what changed in the others' rows is recorded nowhere.
    Example:
        audit_trigger on patients and user_consents; none on appointments or documents.
    Instead:
        Attach the audit trigger to every PHI table (and to new ones in the migration that creates them).
    """

    ID = "TEN015"
    ITEM = "3.8"
    SEVERITY = Severity.WARNING
    _TRIGGER = ("CREATE TRIGGER audit_patients AFTER INSERT OR UPDATE OR DELETE ON patients "
                "FOR EACH ROW EXECUTE FUNCTION audit_trigger_func();")
    _MODELS = HEADER + PATIENT + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
'''
    INVALID = ({"models.py": _MODELS, "migrations/versions/0001_audit.py": _migration(_TRIGGER)},)
    VALID = ({"models.py": _MODELS, "migrations/versions/0001_audit.py": _migration(
        _TRIGGER + _TRIGGER.replace("patients", "appointments"))},)

    def check(self):
        if not healthcare(self.facts):
            return
        triggers = audit_triggers(migration_sql(self.facts).statements)
        if not triggers:
            return  # no audit triggers at all: HIP004 and the audit items speak of the audit itself
        covered = {t.table for t in triggers}
        missing = sorted((t for t in self.facts.tables.values() if holds_phi(t.name) and t.name not in covered
                          and (t.name in self.facts.migration_tables or not self.facts.migration_tables)),
                         key=lambda t: t.name)
        if not missing:
            return
        orm_audit = [lst for lst in self.facts.listeners if AUDITING.search(lst.function)
                     and not is_test_path(lst.span.path) and not is_tooling_path(lst.span.path)]
        unread = unread_sql(self.facts)
        doubt = ""
        if orm_audit:
            doubt = (f"; the code also audits in the ORM listener {orm_audit[0].function} "
                     f"({orm_audit[0].span.path}:{orm_audit[0].span.start}), which may cover them: check")
        elif unread:
            doubt = f"; migration SQL we could not read ({where(unread)}) may attach more: check"
        names = ", ".join(t.name for t in missing[:6]) + (", ..." if len(missing) > 6 else "")
        yield self.grouped(
            f"audit triggers cover {len(covered)} table(s) ({', '.join(sorted(covered)[:5])}"
            f"{', ...' if len(covered) > 5 else ''}) but not {len(missing)} that hold health data ({names}): no trigger "
            f"records the old and new values of their rows{doubt}",
            [(first_line(t.span), f"table:{t.name}:audit-trigger", t.name) for t in missing],
            "audit:triggers-skip-phi", severity=Severity.INFO if doubt else None,
        )


class SettingSetButUnread(Rule):
    """The application sets a session setting that no policy or function reads.

    What it checks:
        `app.*` (or other dotted) settings the application sets (set_config, SET) while the migrations'
        policies and functions read other settings with current_setting(), and none reads this one (a
        trigger function that reads it, as a switch for a purge, counts as reading it).
    Why it matters:
        Either a policy is missing (the checklist expects both the user and the tenant to scope rows), or the
        setting is dead code that reviewers will take for isolation that does not exist.
    Example:
        set_config('app.current_user_id', ...) in the listener; policies read only app.current_tenant_id.
    Instead:
        Write the policies that should read it, or stop setting it.
    """

    ID = "TEN008"
    ITEM = "6.3"
    SEVERITY = Severity.INFO
    _LISTENER = '''
from sqlalchemy import event, text
from sqlalchemy.orm import Session

@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.execute(text("SELECT set_config('app.current_tenant_id', :t, true)"), {"t": tenant.get()})
    connection.execute(text("SELECT set_config('app.current_region', :r, true)"), {"r": region.get()})
'''
    _POLICIES = ("ALTER TABLE documents ENABLE ROW LEVEL SECURITY; CREATE POLICY tenant ON documents USING "
                 "(organization_id = current_setting('app.current_tenant_id')::uuid);")
    INVALID = ({"db.py": _LISTENER, "migrations/versions/0001_rls.py": _migration(_POLICIES)},)
    VALID = ({"db.py": _LISTENER, "migrations/versions/0001_rls.py": _migration(
        _POLICIES + " CREATE POLICY region ON documents AS RESTRICTIVE USING (region = current_setting('app.current_region'));")},)

    def check(self):
        read = settings_read(self.facts)
        if not any("." in name for name in read):
            return  # no policy reads a setting: CFG001 says RLS is not in use
        read_anywhere = settings_read(self.facts, every_function=True)  # a trigger function's switch is read too
        uses = [u for lst in self.facts.listeners for u in lst.sql] + list(self.facts.sql)
        seen = set()
        for use in uses:
            if is_test_path(use.span.path) or is_tooling_path(use.span.path):
                continue
            for st in use.statements:
                name = str(st.details.get("name") or "").lower()
                if st.kind not in ("set", "set_local", "set_config") or "." not in name or "{" in name:
                    continue
                if name in read_anywhere or name in seen:
                    continue
                seen.add(name)
                yield self.finding(
                    f"`{name}` is set here but no policy or function in the migrations reads it (they read "
                    f"{', '.join(sorted(n for n in read if '.' in n)[:3])}): a policy that should use it is missing, or "
                    "the setting isolates nothing",
                    st.span, f"rls-variable:{name}:unread",
                )
