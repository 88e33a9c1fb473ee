"""Drafted answers to the checklist's questions, built from the facts (never by running the rules).

Each answer is a short paragraph or a few bullet lines that cite `file:line`, for the reviewer to edit
or accept. Where a static reader cannot settle a question, the answer says what to look at.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from analyzers.facts.engines import pre_ping, serving_engines
from analyzers.facts.model import ColumnFact, Facts, ListenerFact, Span, SqlStatement, TableFact
from analyzers.rules.s01_configuration import pool_problems
from analyzers.rules.schema import (
    TENANT_SETTING,
    all_constraints,
    all_indexes,
    data_only,
    end_marker,
    fk_columns,
    healthcare,
    holds_phi,
    index_leads,
    is_clinical,
    is_link_table,
    is_test_path,
    rls_by_table,
    tenant_column,
    trees,
    unread_sql,
)

RLS_VARIABLES = ("app.current_user_id", "app.current_tenant_id")
MAX_LISTED = 6

Answer = Callable[[Facts], str]
_ANSWERS: dict[str, Answer] = {}


def draft_answers(facts: Facts) -> dict[str, str]:
    """question id -> drafted answer. One question that cannot be drafted never loses the others."""
    out: dict[str, str] = {}
    for qid, build in _ANSWERS.items():
        try:
            text = build(facts).strip()
        except Exception as exc:  # noqa: BLE001 - a drafting bug is shown, not raised
            text = f"(no draft: {type(exc).__name__} while reading the facts; answer from the code)"
        if text:
            out[qid] = text
    return out


def answer(qid: str) -> Callable[[Answer], Answer]:
    def register(fn: Answer) -> Answer:
        _ANSWERS[qid] = fn
        return fn

    return register


# -- helpers ------------------------------------------------------------------------------------


def at(span: Span) -> str:
    return f"{span.path}:{span.start}"


def listed(items: Iterable[str], limit: int = MAX_LISTED) -> str:
    items = list(items)
    if not items:
        return "none"
    shown = ", ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _app_listeners(facts: Facts) -> list[ListenerFact]:
    return [lst for lst in facts.listeners if not is_test_path(lst.span.path)]


def _settings(statements: Iterable[SqlStatement]) -> list[SqlStatement]:
    return [st for st in statements if st.kind in ("set", "set_local", "set_config")]


def _scope(st: SqlStatement) -> str:
    if st.kind == "set_local" or (st.kind == "set_config" and st.details.get("local") is True):
        return "transaction scope"
    if st.kind == "set" or (st.kind == "set_config" and st.details.get("local") is False):
        return "SESSION scope (outlives the transaction)"
    return "scope not readable"


def _models(facts: Facts) -> list[TableFact]:
    return [t for t in facts.tables.values() if not is_test_path(t.path)]


def _no_models(facts: Facts) -> str | None:
    if not _models(facts):
        return "No mapped models were found, so there is no schema to judge; check the layout (`dbreview scan --explain-layout`)."
    return None


def _rls_note(facts: Facts) -> str:
    unread = unread_sql(facts)
    if not unread:
        return ""
    return f" {len(unread)} part(s) of the migrations could not be read statically (first {at(unread[0])}): check them for RLS too."


def _has_fk(table: TableFact, column: ColumnFact, facts: Facts) -> bool:
    if column.foreign_keys:
        return True
    if any(c.kind == "foreign_key" and column.name in c.columns for c in all_constraints(table, facts)):
        return True
    migrated = facts.migration_tables.get(table.name)
    other = migrated.columns.get(column.name) if migrated else None
    return bool(other and other.foreign_keys)


_OUTSIDE_IDS = re.compile(r"stripe|external|session_id|request_id|trace|idempotency|fcm|device_id|subscription_id|customer_id|"
                          r"payment|price_id|s3|object_id|message_id|_sid$|firebase|oauth|tax_id|npi|dea|employee_id|job_id|task_id")


def _unlinked_ids(facts: Facts) -> list[tuple[TableFact, ColumnFact]]:
    out = []
    for table in _models(facts):
        for c in table.columns.values():
            if not c.name.endswith("_id") or c.primary_key or _OUTSIDE_IDS.search(c.name):
                continue
            if c.type_name not in ("UUID", "Uuid", "GUID", "Integer", "BigInteger", "SmallInteger"):
                continue
            stem = c.name[:-3]
            if f"{stem}_type" in table.columns:
                continue  # polymorphic
            if not _has_fk(table, c, facts):
                out.append((table, c))
    return out


def _unindexed_fks(facts: Facts) -> list[tuple[TableFact, ColumnFact]]:
    out, seen = [], set()
    for table in _models(facts):
        leads = index_leads(table, facts)
        for c in fk_columns(table):
            key = (c.span.path, c.span.start)
            if c.name not in leads and key not in seen:
                seen.add(key)
                out.append((table, c))
    return out


def _unique_over(table: TableFact, facts: Facts, columns: set[str], *, partial_ok: bool = True) -> str | None:
    """Where a unique constraint or index covering exactly `columns` is declared, if anywhere."""
    if len(columns) == 1:
        col = table.columns.get(next(iter(columns)))
        if col is not None and (col.unique or col.primary_key):
            return at(col.span)
    for c in all_constraints(table, facts):
        if c.kind in ("unique", "primary_key") and set(c.columns) == columns:
            return at(c.span)
    for ix in all_indexes(table, facts):
        if ix.unique and set(ix.columns) == columns and not ix.where_python and (partial_ok or not ix.where):
            return at(ix.span) + (f" (partial: WHERE {ix.where})" if ix.where else "")
    if len(columns) == 1:
        (name,) = columns
        migrated = facts.migration_tables.get(table.name)
        other = migrated.columns.get(name) if migrated else None
        if other is not None and (other.unique or other.primary_key):
            return at(other.span)
    return None


def _table(facts: Facts, pattern: str) -> TableFact | None:
    rx = re.compile(pattern)
    return next((t for t in _models(facts) if rx.search(t.name)), None)


def _col(table: TableFact | None, *names: str) -> ColumnFact | None:
    if table is None:
        return None
    return next((table.columns[n] for n in names if n in table.columns), None)


def _engines(facts: Facts):
    return serving_engines(facts)[0]


# -- 1. configuration --------------------------------------------------------------------------


@answer("q1.1")
def _q1_1(facts: Facts) -> str:
    listeners = _app_listeners(facts)
    lines = []
    for variable in RLS_VARIABLES:
        sites = [
            (lst, st) for lst in listeners for use in lst.sql for st in _settings(use.statements)
            if str(st.details.get("name", "")).lower() == variable
        ]
        in_code = [
            (use, st) for use in facts.sql for st in _settings(use.statements)
            if str(st.details.get("name", "")).lower() == variable and not is_test_path(use.span.path)
        ]
        if sites:
            for lst, st in sites[:3]:
                per_tx = "every transaction" if lst.event in ("after_begin", "begin") else f"the `{lst.event}` event only"
                lines.append(f"`{variable}`: set by the `{lst.event}` listener `{lst.function}` ({at(st.span)}), on {per_tx}, "
                             f"with {_scope(st)}")
        else:
            lines.append(f"`{variable}`: no event listener sets it")
        for use, st in in_code[:3]:
            lines.append(f"`{variable}` is also set by application code in `{use.function}` ({at(st.span)}), with {_scope(st)}")
    formatted = [u for lst in listeners for u in lst.sql if u.formatted]
    if formatted:
        lines.append(f"SQL built by string formatting in a listener at {at(formatted[0].span)}: values should be bound parameters")
    if not listeners and not _engines(facts):
        return "No engine set-up or event listener was found in application code; look for the session factory by hand."
    per_tx = [line for line in lines if "every transaction" in line]
    both = all(any(line.startswith(f"`{v}`: set by") and "every transaction" in line for line in lines) for v in RLS_VARIABLES)
    if both and not any("SESSION" in line for line in per_tx) and not formatted:
        head = "Yes: both variables are set at the start of every transaction, scoped to it, with bound parameters."
    elif both:
        head = "Set on every transaction, but not safely:"
    else:
        head = "Not on every transaction:"
    return head + "\n" + bullets(lines)


@answer("q1.2")
def _q1_2(facts: Facts) -> str:
    engines = _engines(facts)
    if not engines:
        return ("No application engine (`create_engine`/`create_async_engine`) was found outside tests and tooling; with "
                "Flask-SQLAlchemy look at SQLALCHEMY_ENGINE_OPTIONS, and at the pool's reset-on-return.")
    lines = []
    resets = [lst for lst in _app_listeners(facts) if lst.event in ("checkin", "reset")]
    for lst in resets:
        ran = ", ".join(st.text.upper() for u in lst.sql for st in u.statements) or "nothing readable"
        verdict = "a full reset" if any(st.kind == "discard_all" for u in lst.sql for st in u.statements) else \
            "not DISCARD ALL: temporary tables, prepared statements, advisory locks and LISTENs survive"
        lines.append(f"`{lst.event}` listener `{lst.function}` ({at(lst.span)}) runs {ran}: {verdict}")
    if not resets:
        lines.append("no `checkin`/`reset` pool listener: only SQLAlchemy's rollback on return cleans connections")
    uses = [u for lst in _app_listeners(facts) for u in lst.sql] + [u for u in facts.sql if not is_test_path(u.span.path)]
    session_scoped = [st for u in uses for st in _settings(u.statements) if "SESSION" in _scope(st)]
    if session_scoped:
        lines.append(f"{len(session_scoped)} session-scoped setting(s) (first {at(session_scoped[0].span)}) stay on the "
                     "pooled connection until the check-in reset runs")
    for e in engines[:3]:
        ping = pre_ping(e)
        said = {"on": "pool_pre_ping", "off": "no pool_pre_ping",
                "unread": f"settings passed as **{e.kwargs.get('**')}, not read here"}.get(ping, f"pool_pre_ping={ping} (decided at run time)")
        lines.append(f"`{e.target or 'engine'}` ({at(e.span)}): {said}")
    return bullets(lines)


@answer("q1.3")
def _q1_3(facts: Facts) -> str:
    rls = rls_by_table(facts)
    tenant_tables = [t for t in _models(facts) if tenant_column(t, facts) is not None]
    protected = [t for t in tenant_tables if rls.get(t.name) and rls[t.name].enabled]
    reads_tenant = [n for n, s in rls.items() if any(TENANT_SETTING.search(p.text) for p in s.policies)]
    variable_set = any(
        str(st.details.get("name", "")).lower() == "app.current_tenant_id"
        for lst in _app_listeners(facts) for u in lst.sql for st in _settings(u.statements)
    )
    lines = [
        f"tenant context `app.current_tenant_id` set by a listener: {'yes' if variable_set else 'no'}",
        f"{len(tenant_tables)} tenant-scoped tables (with organization_id/tenant_id); {len(protected)} have RLS enabled"
        + (f"; without: {listed(t.name for t in tenant_tables if t not in protected)}" if len(protected) < len(tenant_tables) else ""),
        f"{len(reads_tenant)} tables have a policy that reads the tenant setting; "
        f"{sum(1 for s in rls.values() if s.enabled and s.forced)} of {sum(1 for s in rls.values() if s.enabled)} RLS tables FORCE it",
    ]
    if not rls:
        lines.append("no Row-Level Security in the migrations: isolation rests on every query's WHERE clause"
                     + _rls_note(facts))
    return bullets(lines)


# -- 3. migrations ------------------------------------------------------------------------------


@answer("q3.1")
def _q3_1(facts: Facts) -> str:
    revs = facts.revisions
    if not revs:
        return "No Alembic revisions were found: nothing to roll back with `alembic downgrade` (check how the schema is built)."
    empty = [r for r in revs if r.downgrade_empty and r.upgrade and not data_only(r)]
    data = [r for r in revs if r.downgrade_empty and r.upgrade and data_only(r)]
    raises = [r for r in revs if r.downgrade_raises]
    incomplete = []
    for r in revs:
        if r.downgrade_empty or r.downgrade_raises:
            continue
        dropped = {op.table for op in r.downgrade if op.name == "drop_table"}
        if any(op.name == "create_table" and op.table not in dropped for op in r.upgrade):
            incomplete.append(r)
    lines = [f"{len(revs)} revisions in {len(trees(revs))} versions folder(s)"]
    for folder, tree in trees(revs).items():
        parents = {p for r in tree for p in r.down_revisions}
        heads = [r.revision for r in tree if r.revision and r.revision not in parents]
        merges = sum(1 for r in tree if len(r.down_revisions) > 1)
        if len(heads) > 1 or merges:
            lines.append(f"{folder}: {len(heads)} head(s), {merges} merge revision(s)")
    lines.append(f"{len(empty)} with an empty downgrade while the upgrade changes the schema: "
                 f"{listed(at(r.downgrade_span or r.span) for r in empty)}")
    if incomplete:
        lines.append(f"{len(incomplete)} whose downgrade leaves a created table behind: {listed(at(r.span) for r in incomplete)}")
    if data:
        lines.append(f"{len(data)} data-only revision(s) with no downgrade (usual: the old values are gone)")
    if raises:
        lines.append(f"{len(raises)} declared irreversible (the downgrade raises)")
    verdict = "Mostly yes" if not empty and not incomplete else "Not safely"
    return f"{verdict}; test `alembic downgrade base` then `upgrade head` on a copy to be sure.\n" + bullets(lines)


@answer("q3.2")
def _q3_2(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    created = sum(1 for r in facts.revisions for op in r.upgrade if op.name == "create_index")
    created += sum(1 for st in facts.migration_sql if st.kind == "create_index")
    missing = _unindexed_fks(facts)
    lines = [f"{created} index creations in the migrations; {len(missing)} foreign key column(s) lead no index: "
             f"{listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in missing)}"]
    lines.append("Frequent filters (status, dates, lookups by user) cannot be known statically: compare with the queries "
                 "in the services and `pg_stat_statements`.")
    return bullets(lines)


def _policy_lines(facts: Facts) -> list[str]:
    lines = []
    for name, state in sorted(rls_by_table(facts).items()):
        if not state.enabled:
            continue
        pols = []
        for p in state.policies:
            using = (p.details.get("using") or "").strip()
            check = (p.details.get("with_check") or "").strip()
            expr = using or check
            kind = ("always true" if expr.lower() in ("true", "(true)") else "reads the tenant" if TENANT_SETTING.search(p.text)
                    else "reads the user" if "current_user_id" in p.text else "other predicate")
            pols.append(f"{p.details.get('name')} [{str(p.details.get('command') or 'all').upper()}, {kind}]")
        forced = "FORCEd" if state.forced else "not forced"
        lines.append(f"{name} ({at(state.enabled.span)}, {forced}): {listed(pols) if pols else 'NO POLICY (denies every non-owner)'}")
    return lines


@answer("q3.3")
def _q3_3(facts: Facts) -> str:
    lines = _policy_lines(facts)
    if not lines:
        return "No migration enables Row-Level Security, so no policy enforces tenant isolation." + _rls_note(facts)
    return ("Policies as the migrations leave them (a policy `reads the tenant` when it compares with "
            "app.current_tenant_id; tables not FORCEd are bypassed by their owner):\n" + bullets(lines) + _rls_note(facts))


# -- 4. HIPAA -----------------------------------------------------------------------------------


@answer("q4.1")
def _q4_1(facts: Facts) -> str:
    if not healthcare(facts):
        return "The schema has no patients table, so no table is treated as PHI; if PHI lives elsewhere, list those tables by hand."
    rls = rls_by_table(facts)
    phi = [t for t in _models(facts) if holds_phi(t.name)]
    covered = [t for t in phi if rls.get(t.name) and rls[t.name].enabled]
    bare = [t for t in phi if t not in covered]
    lines = [f"{len(phi)} tables hold PHI by name (patients, clinical records, messages, billing...); {len(covered)} have RLS."]
    if bare:
        lines.append(f"Without RLS: {listed(f'{t.name} ({at(t.span)})' for t in bare)}.")
    no_policy = [t.name for t in covered if not rls[t.name].policies]
    if no_policy:
        lines.append(f"RLS enabled but no policy: {listed(no_policy)}.")
    return "No. " + " ".join(lines) + _rls_note(facts) if bare else "Yes by the migrations. " + " ".join(lines)


@answer("q4.2")
def _q4_2(facts: Facts) -> str:
    audit = [t for t in _models(facts) if re.match(r"^audit_(logs?|events?|trail)$", t.name)]
    if not audit:
        return "No audit log table was found; look for audit events written elsewhere (log pipeline, another service)."
    triggers = [st for st in facts.migration_sql if st.kind == "create_trigger" and "audit" in str(st.details.get("function", "")).lower()]
    audited = sorted({st.table for st in triggers if st.table})
    lines = [f"audit table(s): {listed(f'{t.name} ({at(t.span)})' for t in audit)}"]
    table = audit[0]
    for what, names in (("actor", ("actor_user_id", "actor_id", "user_id")), ("IP address", ("ip_address", "ip")),
                        ("impersonator", ("impersonator_id", "impersonated_by")), ("time", ("occurred_at", "created_at", "timestamp"))):
        c = _col(table, *names)
        lines.append(f"{what}: " + (f"{c.name} {c.type_name or ''} ({at(c.span)})" if c else "missing"))
    lines.append(f"audit triggers on {len(audited)} table(s): {listed(audited)}" if audited else "no audit trigger in the migrations")
    guarded = any(st.table == table.name and ((st.kind == "create_trigger" and {"UPDATE", "DELETE"} & set(st.details.get("events", [])))
                                              or st.kind == "revoke") for st in facts.migration_sql)
    lines.append("append-only: " + ("a trigger or REVOKE guards it" if guarded else "nothing in the migrations stops UPDATE/DELETE on it"))
    lines.append("Reads (SELECT) are invisible to triggers: check the application middleware that logs READ actions.")
    return bullets(lines)


@answer("q4.3")
def _q4_3(facts: Facts) -> str:
    if not healthcare(facts):
        return "No patients table: no clinical data to soft delete by the checklist's definition."
    clinical = [t for t in _models(facts) if is_clinical(t.name) and not is_link_table(t)]
    soft = [t for t in clinical if any(c in t.columns for c in ("deleted_at", "is_deleted", "archived_at"))]
    hard = [t for t in clinical if t not in soft]
    cascades = [(t, c, fk) for t in clinical for c in t.columns.values() for fk in c.foreign_keys if (fk.ondelete or "").upper() == "CASCADE"]
    by_class = {t.class_name: t for t in _models(facts) if t.class_name}
    deletes = [c for c in facts.calls if c.name == "session.delete" and not is_test_path(c.span.path)
               and by_class.get(c.kwargs.get("model", "")) in clinical]
    def without(t: TableFact) -> str:
        marker = end_marker(t)
        return f"{t.name} ({at(t.span)}{', has ' + marker if marker else ''})"

    lines = [f"{len(soft)} of {len(clinical)} clinical tables have deleted_at"
             + (f"; without: {listed(without(t) for t in hard)}" if hard else "")]
    if cascades:
        lines.append(f"{len(cascades)} ON DELETE CASCADE foreign key(s) into clinical tables (first {at(cascades[0][2].span)}): "
                     "one DELETE of a parent hard deletes them")
    if deletes:
        lines.append(f"{len(deletes)} session.delete() call(s) on clinical models: {listed(at(d.span) for d in deletes)}")
    lines.append("To demonstrate compliance, also show that queries filter deleted_at and that the application role has no DELETE grant.")
    return ("Not yet:" if hard or cascades or deletes else "Largely:") + "\n" + bullets(lines)


# -- 5. integrity -------------------------------------------------------------------------------


@answer("q5.1")
def _q5_1(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    unlinked = _unlinked_ids(facts)
    polymorphic = [(t, c) for t in _models(facts) for c in t.columns.values()
                   if c.name.endswith("_type") and f"{c.name[:-5]}_id" in t.columns]
    drift = [(t, c) for t in _models(facts) if t.name in facts.migration_tables and not facts.migration_tables[t.name].from_sql
             for c in t.columns.values() if c.name not in facts.migration_tables[t.name].columns]
    lines = [f"{len(unlinked)} `_id` column(s) with no foreign key: {listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in unlinked)}"]
    if polymorphic:
        lines.append(f"{len(polymorphic)} polymorphic type/id pair(s), which no foreign key can guard: "
                     f"{listed(f'{t.name}.{c.name}' for t, c in polymorphic)}")
    if drift:
        lines.append(f"{len(drift)} model column(s) that no migration creates (queries on them fail): "
                     f"{listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in drift)}")
    return bullets(lines)


@answer("q5.2")
def _q5_2(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    lines = []
    users = _table(facts, r"^(users?|accounts?)$")
    if users is not None and "email" in users.columns:
        where = _unique_over(users, facts, {"email"})
        lines.append(f"unique email: {where or 'NOT enforced'}")
    care = _table(facts, r"care_team")
    if care is not None and "patient_id" in care.columns:
        partial = [ix for ix in all_indexes(care, facts) if ix.unique and "patient_id" in ix.columns and "PRIMARY" in (ix.where or "").upper()]
        lines.append("one PRIMARY provider per patient: " + (f"partial unique index {partial[0].name} ({at(partial[0].span)})" if partial
                                                            else "NOT enforced in the database"))
    providers = _table(facts, r"^providers?$")
    npi = _col(providers, "npi_number", "npi")
    if providers is not None and npi is not None and "organization_id" in providers.columns:
        where = _unique_over(providers, facts, {"organization_id", npi.name})
        lines.append(f"unique (organization_id, {npi.name}): {where or 'NOT enforced'}")
    billing = _table(facts, r"billing_transactions?|payments?$")
    if billing is not None and "status" in billing.columns:
        checks = [c for c in all_constraints(billing, facts) if c.kind == "check" and "status" in (c.expression or "")]
        lines.append("billing status values: " + (f"CHECK ({at(checks[0].span)})" if checks else "free text"))
    for pattern, pair in ((r"organization_memberships?$", {"user_id", "organization_id"}),
                          (r"organization_patients?$", {"patient_id", "organization_id"}),
                          (r"proxy_assignments?$", {"patient_id", "proxy_id"})):
        t = _table(facts, pattern)
        if t is not None and pair <= set(t.columns):
            lines.append(f"unique ({', '.join(sorted(pair))}) on {t.name}: {_unique_over(t, facts, pair) or 'NOT enforced'}")
    if not lines:
        return "None of the checklist's named business rules has a table here to check; list the project's own rules and their constraints."
    return "The checklist's named rules:\n" + bullets(lines)


@answer("q5.3")
def _q5_3(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    models = _models(facts)
    checks = sum(1 for t in models for c in all_constraints(t, facts) if c.kind == "check")
    enums = sum(1 for t in models for c in t.columns.values() if c.type_name == "Enum")
    rx = re.compile(r"(^|_)(status|role|priority)$")
    free = [(t, c) for t in models for c in t.columns.values() if rx.search(c.name) and c.type_name in ("String", "Text", "VARCHAR", "Unicode")
            and not any(k.kind == "check" and c.name in (k.expression or "") for k in all_constraints(t, facts))]
    written = [c for t in models for c in t.columns.values() if c.nullable is not None]
    lines = [f"{checks} CHECK constraint(s) and {enums} Enum column(s)",
             f"{len(free)} status/role/priority column(s) with free text: {listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in free)}",
             f"nullability written out on {len(written)} column(s); the rest take SQLAlchemy's defaults (nullable unless a key "
             "or `Mapped[...]` without Optional)",
             "Validation in Pydantic schemas or services does not protect writes from scripts, migrations or other services."]
    return bullets(lines)


# -- 6. tenancy ---------------------------------------------------------------------------------


@answer("q6.1")
def _q6_1(facts: Facts) -> str:
    rls = rls_by_table(facts)
    tenant_tables = [t for t in _models(facts) if tenant_column(t, facts) is not None]
    if not tenant_tables:
        return "No table carries organization_id/tenant_id; isolation, if any, is by schema or database: check the connection set-up."
    open_tables = [t for t in tenant_tables if not (rls.get(t.name) and rls[t.name].enabled)]
    not_forced = [n for n, s in rls.items() if s.enabled and not s.forced]
    always_true = [f"{n}.{p.details.get('name')}" for n, s in rls.items() for p in s.policies
                   if (p.details.get("using") or "").strip().lower() in ("true", "(true)")]
    lines = []
    if open_tables:
        lines.append(f"tables with organization_id and no RLS (a query without its WHERE clause crosses tenants): "
                     f"{listed(f'{t.name} ({at(t.span)})' for t in open_tables)}")
    if not_forced:
        lines.append(f"RLS not FORCEd on {listed(sorted(not_forced))}: the owner role bypasses it (check which role the app uses)")
    if always_true:
        lines.append(f"policies that read as true: {listed(always_true)}")
    session = [st for u in facts.sql + [u for lst in _app_listeners(facts) for u in lst.sql]
               for st in _settings(u.statements) if "SESSION" in _scope(st) and "tenant" in str(st.details.get("name", ""))]
    if session:
        lines.append(f"the tenant is set with session scope ({at(session[0].span)}): it can leak to the next checkout")
    if not lines:
        return "Not through the tables we can see: every tenant-scoped table has RLS. Check the policies (q6.2) and the role the app connects as."
    return "Possibly, through:\n" + bullets(lines)


@answer("q6.2")
def _q6_2(facts: Facts) -> str:
    lines = _policy_lines(facts)
    if not lines:
        return "No: no migration enables Row-Level Security." + _rls_note(facts)
    rls = rls_by_table(facts)
    ignoring = [f"{t.name}.{p.details.get('name')}" for t in _models(facts) if tenant_column(t, facts) is not None and t.name in rls
                for p in rls[t.name].policies
                if (p.details.get("using") or "").strip().lower() not in ("", "true") and not TENANT_SETTING.search(p.text)
                and tenant_column(t, facts).name not in (p.details.get("using") or "")]  # type: ignore[union-attr]
    extra = f"\nPolicies on tenant tables that compare nothing with the tenant: {listed(ignoring)}." if ignoring else ""
    return "Policy by policy:\n" + bullets(lines) + extra + _rls_note(facts)


@answer("q6.3")
def _q6_3(facts: Facts) -> str:
    providers = _table(facts, r"^providers?$")
    if providers is None:
        return "No providers table: multi-organization access for providers does not apply here."
    org = providers.columns.get("organization_id")
    user = providers.columns.get("user_id")
    memberships = _table(facts, r"organization_memberships?$|org_members")
    lines = []
    if org is not None:
        unique_user = user is not None and _unique_over(providers, facts, {"user_id"})
        lines.append(f"providers carry organization_id ({at(org.span)}): one provider row per organization"
                     + ("" if unique_user else " (user_id is not unique, so a user can hold one per organization)"))
    else:
        lines.append("providers have no organization_id: organization access goes through memberships")
    if memberships is not None:
        lines.append(f"memberships table {memberships.name} ({at(memberships.span)}) links users to organizations")
    rls = rls_by_table(facts)
    state = rls.get(providers.name)
    lines.append("providers RLS: " + (("policies " + listed(str(p.details.get("name")) for p in state.policies)) if state and state.enabled else "none"))
    lines.append("Which rows a provider sees depends on the tenant the request selects: check the dependency that sets "
                 "app.current_tenant_id against the user's memberships.")
    return bullets(lines)


# -- 7. relationships ---------------------------------------------------------------------------


@answer("q7.1")
def _q7_1(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    lines = []
    for t in _models(facts):
        if re.match(r"^(providers?|staff|staff_members?|patients?|prox(y|ies))$", t.name) and "user_id" in t.columns:
            where = _unique_over(t, facts, {"user_id"})
            lines.append(f"{t.name}.user_id unique (1:1 profile): {where or 'no'}")
    for pattern, pair in ((r"organization_memberships?$", {"user_id", "organization_id"}),
                          (r"organization_patients?$", {"patient_id", "organization_id"}),
                          (r"proxy_assignments?$", {"patient_id", "proxy_id"}),
                          (r"care_team", {"patient_id", "provider_id"})):
        t = _table(facts, pattern)
        if t is not None and pair <= set(t.columns):
            lines.append(f"{t.name}: the same pair twice {'is prevented (' + w + ')' if (w := _unique_over(t, facts, pair)) else 'is possible'}")
    if not lines:
        return "None of the checklist's associations exist here; check the project's own link tables for unique pairs."
    return bullets(lines)


@answer("q7.2")
def _q7_2(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    unlinked = _unlinked_ids(facts)
    if not unlinked:
        return "None found: every `_id` column that looks like one of ours has a foreign key (outside systems' ids left out)."
    return (f"{len(unlinked)} column(s) named like references have no foreign key:\n"
            + bullets(f"{t.name}.{c.name} ({at(c.span)})" for t, c in unlinked[:12])
            + ("\n- ..." if len(unlinked) > 12 else ""))


@answer("q7.3")
def _q7_3(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    cascades: dict[str, list[str]] = {}
    for t in _models(facts):
        for c in t.columns.values():
            for fk in c.foreign_keys:
                if fk.ondelete:
                    cascades.setdefault(fk.ondelete.upper(), []).append(f"{t.name}.{c.name} -> {fk.table} ({at(fk.span)})")
    orm = [f"{t.class_name}.{r.attr} ({at(r.span)})" for t in _models(facts) for r in t.relationships
           if "delete" in (r.cascade or "") or "all" in (r.cascade or "")]
    lines = [f"ON DELETE {rule}: {len(items)} ({listed(items, 4)})" for rule, items in sorted(cascades.items())]
    if not cascades:
        lines.append("no foreign key sets ondelete: NO ACTION everywhere, so parents with children cannot be deleted")
    if orm:
        lines.append(f"ORM relationships that cascade deletes: {listed(orm, 4)}")
    if healthcare(facts):
        lines.append("Compare with FR-03: a CASCADE into clinical tables is a hard delete of clinical data.")
    return bullets(lines)


# -- 8. performance -----------------------------------------------------------------------------


@answer("q8.1")
def _q8_1(facts: Facts) -> str:
    if (msg := _no_models(facts)):
        return msg
    missing = _unindexed_fks(facts)
    composite = sum(1 for t in _models(facts) for ix in all_indexes(t, facts) if len(ix.columns) > 1)
    lines = [f"{len(missing)} foreign key column(s) without an index: "
             f"{listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in missing)}",
             f"{composite} composite index(es) declared",
             "Whether other filters need indexes depends on the queries: check EXPLAIN plans of the busiest endpoints."]
    return bullets(lines)


@answer("q8.2")
def _q8_2(facts: Facts) -> str:
    engines = _engines(facts)
    if not engines:
        return ("No application engine was found outside tests and tooling; pool settings live elsewhere "
                "(SQLALCHEMY_ENGINE_OPTIONS, a settings module): check them against the database's max_connections.")
    lines = [_pool_line(e) for e in engines[:6]]
    if len(engines) > 6:
        lines.append(f"... and {len(engines) - 6} more engine(s)")
    lines.append("Sizing needs the deployment: workers x (pool_size + max_overflow) must stay under max_connections.")
    return bullets(lines)


_POOL_DEFAULTS = {"pool_size": "5", "max_overflow": "10", "pool_timeout": "30 s", "pool_recycle": "never"}


def _pool_line(e) -> str:
    """One engine's pool: what it sets and from where (the expressions as written), what it leaves at
    SQLAlchemy's defaults, and what is concretely off (CFG006's reading)."""
    made = f", made by `{e.origin.function}` ({at(e.origin.span)})" if e.origin is not None and e.origin.function else ""
    if "**" in e.kwargs:
        return f"`{e.target or 'engine'}` ({at(e.span)}{made}): settings passed as **{e.kwargs['**']}, not read here"
    keys = ("poolclass", "pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping")
    shown = ", ".join(f"{k}={e.kwargs[k]}" for k in keys if k in e.kwargs)
    pooled = not any(p in e.kwargs.get("poolclass", "") for p in ("NullPool", "StaticPool"))
    left = [f"{k} ({v})" for k, v in _POOL_DEFAULTS.items() if k not in e.kwargs] if pooled else []
    parts = [shown or "no pool settings"] + ([f"SQLAlchemy's defaults for {', '.join(left)}"] if left else [])
    parts += [f"it {problem}" for problem, _ in pool_problems(e)]
    return f"`{e.target or 'engine'}` ({at(e.span)}{made}): " + "; ".join(parts)


@answer("q8.3")
def _q8_3(facts: Facts) -> str:
    jsonb = [(t, c) for t in _models(facts) for c in t.columns.values() if c.type_name == "JSONB"]
    if not jsonb:
        return "No JSONB columns in the models."
    queried = {(u.owner, u.attr): u for u in facts.json_uses}
    lines = []
    for t, c in jsonb[:10]:
        gin = any((ix.using or "").lower() == "gin" and c.name in ix.columns for ix in all_indexes(t, facts))
        use = queried.get((t.class_name or "", c.attr or c.name))
        how = f"queried at {at(use.span)} (`{use.operation}`)" if use else "no query into it found"
        lines.append(f"{t.name}.{c.name} ({at(c.span)}): {'GIN index' if gin else 'no GIN index'}, {how}")
    return bullets(lines) + ("\n- ..." if len(jsonb) > 10 else "")


# -- 9. time ------------------------------------------------------------------------------------


def _datetimes(facts: Facts) -> list[tuple[TableFact, ColumnFact]]:
    return [(t, c) for t in _models(facts) for c in t.columns.values() if c.timezone is not None]


@answer("q9.1")
def _q9_1(facts: Facts) -> str:
    cols = _datetimes(facts)
    if not cols:
        return "No DateTime columns in the models."
    naive = [(t, c) for t, c in cols if not c.timezone]
    db_aware = [(t, c) for t, c in naive if (m := facts.migration_tables.get(t.name)) and (o := m.columns.get(c.name)) and o.timezone]
    lines = [f"{len(cols) - len(naive)} of {len(cols)} DateTime columns are timezone-aware"]
    if naive:
        lines.append(f"naive: {listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in naive)}")
    if db_aware:
        lines.append(f"{len(db_aware)} of those are aware in the migrations (the database is right, the model drifts)")
    return ("Yes:" if not naive else "No:") + "\n" + bullets(lines)


@answer("q9.2")
def _q9_2(facts: Facts) -> str:
    cols = _datetimes(facts)
    naive_defaults = [(t, c) for t, c in cols if (c.default or "").find("utcnow") >= 0 or re.search(r"datetime\.now$", (c.default or "").strip())]
    server = [(t, c) for t, c in cols if c.server_default]
    lines = [f"{len(server)} DateTime column(s) default on the server (now()), {len(naive_defaults)} to a naive Python "
             f"datetime (utcnow): {listed(f'{t.name}.{c.name} ({at(c.span)})' for t, c in naive_defaults)}"]
    zones = [t.name for t in _models(facts) if any(c in t.columns for c in ("timezone", "time_zone", "tz"))]
    lines.append(f"time zone fields on: {listed(zones)}")
    lines.append("The conversion itself happens in the application or the client: look for zoneinfo/pytz use in the "
                 "API serializers; the database side is right when every column is timestamptz and values are UTC.")
    return bullets(lines)


@answer("q9.3")
def _q9_3(facts: Facts) -> str:
    org = _table(facts, r"^organizations?$")
    user = _table(facts, r"^users?$")
    lines = []
    for label, table, wanted in (("organization", org, "required, IANA name with a default"), ("user", user, "optional override")):
        c = _col(table, "timezone", "time_zone", "tz")
        if table is None:
            lines.append(f"no {label}s table")
        elif c is None:
            lines.append(f"{table.name}: no timezone field ({wanted} per FR-07)")
        else:
            state = f"default {c.default or c.server_default}" if (c.default or c.server_default) else "no default"
            lines.append(f"{table.name}.{c.name} ({at(c.span)}): {'nullable' if c.is_nullable else 'NOT NULL'}, {state}")
    ok = org is not None and _col(org, "timezone", "time_zone", "tz") and user is not None and _col(user, "timezone", "time_zone", "tz")
    return ("Yes, the data is there:" if ok else "Not fully:") + "\n" + bullets(lines) + \
        "\n- Check that values are validated as IANA names (zoneinfo.available_timezones())."


# -- 10. billing --------------------------------------------------------------------------------


@answer("q10.1")
def _q10_1(facts: Facts) -> str:
    lines = []
    ok = True
    for pattern in (r"^organizations?$", r"^patients?$"):
        t = _table(facts, pattern)
        if t is None:
            ok = False
            lines.append(f"no {pattern.strip('^$?').replace('s?', 's')} table")
            continue
        have = [c for c in ("stripe_customer_id", "subscription_status") if c in t.columns]
        ok &= len(have) == 2
        lines.append(f"{t.name}: " + (", ".join(f"{c} ({at(t.columns[c].span)})" for c in have) if have else "no Stripe fields"))
    return ("Yes:" if ok else "Not both:") + "\n" + bullets(lines)


@answer("q10.2")
def _q10_2(facts: Facts) -> str:
    billing = _table(facts, r"billing_transactions?|payments?$")
    if billing is None:
        return "No billing transactions table."
    c = billing.columns.get("managed_by_proxy_id")
    if c is None:
        return f"No: {billing.name} ({at(billing.span)}) has no managed_by_proxy_id."
    target = c.foreign_keys[0].table if c.foreign_keys else None
    note = f"it references {target}" if target else "it has no foreign key"
    if target and not re.search(r"prox", target):
        note += " (not the proxies table: check that it is the proxy's user and that the proxy held billing rights)"
    return f"Yes: {billing.name}.managed_by_proxy_id ({at(c.span)}); {note}."


@answer("q10.3")
def _q10_3(facts: Facts) -> str:
    overrides = _table(facts, r"subscription_overrides?|billing_overrides?|plan_overrides?|^overrides?$")
    if overrides is None:
        return "No: no subscription overrides table exists; trials and discounts would be manual edits in Stripe."
    kind = _col(overrides, "override_type", "type", "kind")
    if kind is None:
        have = "no override type column"
    elif kind.type_name == "Enum":
        have = f"{kind.name} is an Enum ({kind.type_args.get('values') or kind.type_args.get('name', '')}) ({at(kind.span)})"
    else:
        checks = [c for c in all_constraints(overrides, facts) if c.kind == "check" and kind.name in (c.expression or "")
                  and " IN " in (c.expression or "").upper()]
        values = re.findall(r"'([A-Z_]+)'", checks[0].expression or "") if checks else []
        have = (f"{kind.name} limited by CHECK to {', '.join(values)} ({at(checks[0].span)})" if values
                else f"{kind.name} is free text ({at(kind.span)})")
    tracked = [c for c in overrides.columns if re.search(r"expires|ends|starts|revoked|granted|reason|discount|percent", c)]
    return f"Yes: {overrides.name} ({at(overrides.span)}); {have}; tracks {listed(tracked)}."
