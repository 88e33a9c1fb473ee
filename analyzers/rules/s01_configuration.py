"""Section 1: Database Configuration (engine, pool, session factory, RLS context listeners)."""

from __future__ import annotations

import ast
import re

from analyzers import confine
from analyzers.facts.engines import FLASK_ENGINE, pre_ping, serving_engines, unsure_why
from analyzers.facts.engines import engines as all_engines
from analyzers.facts.model import CallFact, Hole, ListenerFact, Span, SqlStatement, SqlUse
from analyzers.facts.python_module import FLASK_OPTIONS
from analyzers.findings import Severity, identity_key
from analyzers.rules.base import Rule
from analyzers.rules.runs_on import runs_on
from analyzers.rules.s01_engine_per_request import engines_made_per_request
from analyzers.rules.schema import (
    app_calls, first_line, is_test_path, is_tooling_path, migration_gaps, rls_by_table, settings_read, where,
)
from analyzers.rules.source_trees import file_tree

PER_TRANSACTION_EVENTS = ("after_begin", "begin")
RESET_EVENTS = ("checkin", "reset")


def _setting_statements(uses: list[SqlUse]) -> list[tuple[SqlUse, SqlStatement]]:
    return [(u, st) for u in uses for st in u.statements if st.kind in ("set", "set_local", "set_config")]


def _sets(st: SqlStatement, variable: str) -> bool:
    return str(st.details.get("name", "")).lower() == variable


def _app_listeners(facts) -> list[ListenerFact]:
    return [lst for lst in facts.listeners if not is_test_path(lst.span.path)]


_ENGINE = '''
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine, async_sessionmaker
from sqlalchemy.orm import Session

engine = create_async_engine(URL, pool_size=10, max_overflow=5, pool_timeout=30, pool_recycle=1800, pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
'''
_GOOD_LISTENERS = '''
@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.execute(text("SELECT set_config('app.current_user_id', :u, true)"), {"u": user_id.get()})
    connection.execute(text("SELECT set_config('app.current_tenant_id', :t, true)"), {"t": tenant_id.get()})

@event.listens_for(engine.sync_engine, "checkin")
def reset(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("DISCARD ALL")
'''


class RlsContextNotSet(Rule):
    """The settings the RLS policies read are not set at the start of every transaction.

    What it checks:
        For each custom setting the migrations' policies and functions read with `current_setting()`
        (`app.current_tenant_id`, `app.current_user_id` ...): that an `after_begin` (session) or `begin`
        (engine) listener sets it. A setting no code sets is critical: every policy that reads it sees
        NULL (the finding points at an `after_begin` listener whose body does nothing, when there is one). When no policy reads any setting, the code base does not use RLS: one info finding.
        Engines of tests, migrations, CLI tooling and data connectors are not the application's.
    Why it matters:
        A policy that reads an unset variable sees NULL: queries return nothing at best, and a
        variable left from an earlier request leaks another tenant's rows at worst. Setting it in a
        request dependency misses transactions begun later in the same session.
    Example:
        engine = create_async_engine(URL)   # and no after_begin listener
    Instead:
        Listen for `after_begin` and run `SELECT set_config('<setting>', :value, true)` with a bound
        parameter, for every setting the policies read.
    """

    ID = "CFG001"
    ITEM = "1.3"
    SEVERITY = Severity.CRITICAL
    _POLICY = """
from alembic import op
revision = "0001"
down_revision = None
def upgrade():
    op.execute("ALTER TABLE documents ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tenant ON documents USING (organization_id = current_setting('app.current_tenant_id')::uuid)")
def downgrade():
    op.execute("DROP POLICY tenant ON documents")
"""
    VALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS, "migrations/versions/0001_rls.py": _POLICY},
        # Only the tenant is read by a policy: the user id need not be set.
        {"db.py": _ENGINE + _GOOD_LISTENERS.replace("    connection.execute(text(\"SELECT set_config('app.current_user_id', :u, true)\"), {\"u\": user_id.get()})\n", ""),
         "migrations/versions/0001_rls.py": _POLICY},
    )
    INVALID = (
        {"db.py": _ENGINE, "migrations/versions/0001_rls.py": _POLICY},
        {"db.py": _ENGINE},
        {"db.py": _ENGINE + '''
@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    """The tenant is set by the request middleware."""
''', "migrations/versions/0001_rls.py": _POLICY},
    )

    def check(self):
        engines = serving_engines(self.facts)[0]
        if not engines:
            return
        listeners = _app_listeners(self.facts)
        read = {name: sts for name, sts in settings_read(self.facts).items() if "." in name}
        if not read:
            yield self._no_rls(engines, listeners)
            return
        unnamed = [u for u, st in _setting_statements(self.facts.sql + [u for lst in listeners for u in lst.sql])
                   if "{?}" in str(st.details.get("name") or "{?}")]  # set_config(:name, ...), SET {name} ...
        for variable, readers in sorted(read.items()):
            related = [(st.span, f"reads {variable}") for st in readers]
            per_tx = [
                lst for lst in listeners if lst.event in PER_TRANSACTION_EVENTS
                and any(_sets(st, variable) for _, st in _setting_statements(lst.sql))
            ]
            if per_tx:
                continue
            elsewhere = [lst for lst in listeners if any(_sets(st, variable) for _, st in _setting_statements(lst.sql))]
            in_code = [u for u, st in _setting_statements(self.facts.sql) if _sets(st, variable)]
            anchor = f"rls-variable:{variable}"
            if elsewhere:
                lst = elsewhere[0]
                yield self.finding(
                    f"`{variable}`, which RLS policies read, is set in a `{lst.event}` listener ({lst.function}), "
                    "which does not run per transaction: use `after_begin`",
                    first_line(lst.span), anchor, severity=Severity.WARNING, related=related,
                )
            elif in_code:
                yield self.finding(
                    f"`{variable}`, which RLS policies read, is set by application code "
                    f"({in_code[0].function or 'a function'}), not by an `after_begin` listener: check that every "
                    "transaction, including later ones in the same session, gets it",
                    first_line(in_code[0].span), anchor, severity=Severity.INFO, related=related,
                )
            elif unnamed:
                yield self.finding(
                    f"`{variable}` is read by RLS policies ({where([st.span for st in readers])}); no code sets it "
                    f"by name, but `{unnamed[0].function or 'a function'}` sets a setting whose name we cannot "
                    "read: check that it sets this one at the start of every transaction",
                    first_line(unnamed[0].span), anchor, severity=Severity.WARNING, related=related,
                )
            else:
                idle = next((lst for lst in listeners if lst.event in PER_TRANSACTION_EVENTS and lst.does_nothing), None)
                note = f"; the `{idle.event}` listener `{idle.function}` meant for it does nothing" if idle else ""
                yield self.finding(
                    f"`{variable}` is read by RLS policies ({where([st.span for st in readers])}) but no code "
                    f"sets it{note}: every policy that reads it sees NULL (no rows, or an error on a cast). Set it in "
                    "an `after_begin` listener with set_config(..., true)",
                    first_line(idle.span if idle else engines[0].span), anchor, related=related,
                )

    def _no_rls(self, engines, listeners):
        return self.finding(
            "no RLS policy reads a session setting (`current_setting(...)`), so nothing here isolates tenants with "
            "Row-Level Security. If the design calls for it (the checklist's), create policies on the tenant "
            "tables and set their settings in an `after_begin` listener with set_config(..., true)",
            first_line(engines[0].span), "rls-variables:none", severity=Severity.INFO,
            covers=[identity_key(self.ID, f"rls-variable:{v}") for v in ("app.current_user_id", "app.current_tenant_id")],
            unsure=[u for u in migration_gaps(self.facts) if u.table is None and u.text is None],
        )


class SessionScopedSetting(Rule):
    """An RLS variable is set for the whole connection instead of the transaction.

    What it checks:
        `SET app.x = ...` (without LOCAL) and `set_config('app.x', ..., false)` on the `app.*`
        settings.
    Why it matters:
        Session-scoped settings outlive the transaction and stay on the pooled connection: the next
        request that borrows it runs as the previous user and tenant unless something resets it.
    Example:
        connection.execute(text("SELECT set_config('app.current_tenant_id', :t, false)"), {"t": tid})
    Instead:
        `SET LOCAL` or `set_config(..., true)`: the value ends with the transaction.
    """

    ID = "CFG002"
    ITEM = "1.3"
    SEVERITY = Severity.CRITICAL
    VALID = ({"db.py": _ENGINE + _GOOD_LISTENERS},)
    INVALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS.replace(":t, true", ":t, false")},
        {"db.py": _ENGINE + '''
@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.execute(text("SET app.current_user_id = :u"), {"u": uid})
'''},
    )

    def check(self):
        resets = any(
            st.kind in ("discard_all", "reset_all") for lst in _app_listeners(self.facts)
            if lst.event in RESET_EVENTS for u in lst.sql for st in u.statements
        )
        uses = [u for lst in _app_listeners(self.facts) for u in lst.sql] + self.facts.sql
        for use, st in _setting_statements(uses):
            name = str(st.details.get("name", ""))
            if not name.lower().startswith("app."):
                continue
            session_scope = st.kind == "set" or (st.kind == "set_config" and st.details.get("local") is False)
            if not session_scope:
                continue
            how = "SET without LOCAL" if st.kind == "set" else "set_config(..., false)"
            if resets:
                yield self.finding(
                    f"`{name}` is set with {how}: it lasts until the connection is reset on check-in; within one "
                    "checkout it survives across transactions. Use a transaction-scoped setting",
                    st.span, f"setting:{name}:{use.function}", severity=Severity.WARNING,
                )
            else:
                yield self.finding(
                    f"`{name}` is set with {how} and nothing resets it on check-in: the next request on this "
                    "pooled connection inherits this user's or tenant's context",
                    st.span, f"setting:{name}:{use.function}",
                )


class FormattedSettingSql(Rule):
    """SQL that sets the security context is built by string formatting.

    What it checks:
        f-strings, `%` or `.format()` building SQL that sets the security context (`app.*` settings, the
        role, the search_path) in event listeners and application code. Each value spliced in is followed
        within its function and module (CFG008's flow): from the request, critical; from a source that could
        not be followed, a warning; from the database or configuration, info; a constant, an enum member, a
        number, a typed or validated value, none.
    Why it matters:
        The user and tenant ids come from the request; spliced into SQL, a crafted value runs its own
        SQL on every transaction: SQL injection at the heart of tenant isolation.
    Example:
        connection.exec_driver_sql(f"SET app.current_tenant_id = '{tenant_id}'")
    Instead:
        `connection.execute(text("SELECT set_config('app.current_tenant_id', :tid, true)"), {"tid": tenant_id})`
    """

    ID = "CFG003"
    ITEM = "1.3"
    SEVERITY = Severity.WARNING
    VALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS},
        {"db.py": _ENGINE + '''
@event.listens_for(engine.sync_engine, "begin")
def limits(conn):
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(TIMEOUT_MS)}")
    conn.exec_driver_sql(f"SET LOCAL TIME ZONE '{zone.key}'")
'''},
    )
    INVALID = (
        {"db.py": _ENGINE + '''
@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.exec_driver_sql(f"SET LOCAL app.current_tenant_id = '{tenant_id.get()}'")
'''},
    )

    def check(self):
        from analyzers.rules.s01_sql_strings import app_uses, explain, hole_severity, risky, trail

        for use, listener in app_uses(self.facts):
            if not use.formatted or not sets_context(use) or (listener is None and is_tooling_path(use.span.path)):
                continue  # `SET search_path TO "{schema}"` in env.py: a value from the operator, not a request
            where = f"the `{listener.event}` listener `{use.function}`" if listener else f"`{use.function}`"
            anchor = f"listener:{use.function}:formatted" if listener else f"function:{use.function}:formatted"
            sql = f"`{(use.text or '').strip()[:80]}`"
            holes = risky(use, self.facts)
            if holes:
                severity = hole_severity(holes[0]) or Severity.INFO
                yield self.finding(
                    f"SQL that sets the security context is built by string formatting in {where}: {sql}; "
                    f"{explain(holes[0], sets_setting=True)}", use.span, anchor, severity=severity,
                    related=trail(use, holes[0], listener),
                )
            elif not use.holes:  # formatted in a way not followed (a `%` with a mapping): say so
                yield self.finding(
                    f"SQL that sets the security context is built by string formatting in {where}: {sql}; where the "
                    "value comes from is not followed here: pass it as a bound parameter (set_config(..., :value, true))",
                    use.span, anchor, related=trail(use, Hole("", "value", "unknown", "", 0), listener),
                )


def _engine_note(facts, call: CallFact, sure: bool) -> str:
    """What a pool finding adds about its engine: where Flask-SQLAlchemy takes its options from, and
    that dbreview could not tell that the engine serves the application."""
    note = " (Flask-SQLAlchemy makes this engine: set it in SQLALCHEMY_ENGINE_OPTIONS)" if call.name == FLASK_ENGINE else ""
    return note + ("" if sure else f" ({unsure_why(facts)})")


def _engine_name(call: CallFact) -> str:
    made = f" (made by `{call.origin.function}`)" if call.origin and call.origin.function else ""
    return f"`{call.target or 'engine'}`{made}"


def _by_factory(calls: list[CallFact]) -> list[list[CallFact]]:
    """Engines made by one factory of the app's (seen at each call of it) together: one fact, one finding."""
    groups: dict[int, list[CallFact]] = {}
    for call in calls:
        groups.setdefault(id(call.origin) if call.origin else id(call), []).append(call)
    return list(groups.values())


def _engine_finding(rule: Rule, group: list[CallFact], sure: bool, what: str, message: str,
                    severity: Severity | None = None):
    """One finding on the engines of `group` (the calls of one factory, or one engine): at the first, the
    others and the factory as related locations; it takes over the findings each would have had alone,
    and the one the factory's own call had before its callers were followed."""
    call, origin = group[0], group[0].origin
    related = [(c.span, f"`{c.target or 'engine'}`: the same factory") for c in group[1:]]
    if origin is not None:
        related.insert(0, (origin.span, f"made by `{origin.function}`"))
    anchors = [f"engine:{c.target}:{what}" for c in group] + ([f"engine:{origin.target}:{what}"] if origin else [])
    return rule.finding(
        message + _engine_note(rule.facts, call, sure), call.span, anchors[0],
        severity=severity if sure else Severity.INFO, related=related + _options_read(rule.facts, call),
        covers=[identity_key(rule.ID, a) for a in anchors[1:]],
    )


def _options_read(facts, call: CallFact) -> list:
    """Where the app's configuration gives a Flask-SQLAlchemy engine its options (related locations)."""
    if call.name != FLASK_ENGINE:
        return []
    return [(c.span, f"{c.target}: the engine's configuration") for c in app_calls(facts, FLASK_OPTIONS)]


def _unpooled(call) -> bool:
    return "NullPool" in call.kwargs.get("poolclass", "")


def sets_context(use: SqlUse) -> bool:
    """Does it set the security context (an `app.*` setting, the role, the search_path that picks a
    tenant's schema) or a setting whose name is built at run time? `SET LOCAL statement_timeout = {ms}`
    or `SET TIME ZONE '{zone}'` do not."""
    for st in use.statements:
        if st.kind not in ("set", "set_local", "set_config"):
            continue
        name = str(st.details.get("name") or "{?}").lower()
        if name.startswith(("app.", "{", "dbreview", "role", "session_authorization", "search_path")):
            return True
    return False


def _setting_said(st: SqlStatement) -> str:
    """`SET pg_trgm.similarity_threshold`, `set_config('app.user_id', ..., false)`: what a statement sets."""
    name = st.details.get("name")
    if not name:
        sql = " ".join(st.text.split())
        return f"`{sql if len(sql) <= 80 else sql[:77] + '...'}`"
    return f"`SET {name}`" if st.kind == "set" else f"`set_config('{name}', ..., false)`"


def _is_async(call: CallFact) -> bool:
    return call.name.rsplit(".", 1)[-1].startswith("async_") or call.name.endswith("create_async_engine")


def _engines_running(use: SqlUse, listener: ListenerFact | None, engines: list[CallFact]) -> list[list[CallFact]]:
    """The engines (by factory) whose connections may run `use`: a listener's, those its target names; else
    an awaited call's, the async engines; a call not awaited, the synchronous ones (an async engine's
    connections run synchronous code only through run_sync or a listener). All of them when that leaves none."""
    if listener is not None:
        named = [c for c in engines if c.target and re.match(rf"{re.escape(c.target)}\b", listener.target)]
    elif use.awaited is not None:
        named = [c for c in engines if _is_async(c) == use.awaited]
    else:
        named = []
    return _by_factory(named or engines)


class PoolNotDiscarded(Rule):
    """Pooled connections are not cleaned with DISCARD ALL when they are returned.

    What it checks:
        A `checkin` (or `reset`) pool listener that runs `DISCARD ALL`. A listener that never reaches the
        connection (it counts or logs checkins, keeps figures in `record.info`) is no reset hook and counts
        as none. A SET sent on a connection its function opens and never commits is undone by the rollback
        on return: not session state; nor is one a `connect` listener sends to every new connection (each
        pooled connection carries the same), nor SET LOCAL and SET TRANSACTION (READ ONLY, ISOLATION LEVEL),
        which end with the transaction; nor one sent in a function after it made an engine of its own that it
        does not keep (`replica = create_engine(url)`, `Session(bind=replica)`, then the SET): it is on that
        engine's connections, which every use of it sets again, not on the application's pool. Without any such
        listener it is
        a warning when the code sets session-scoped state, said of the engine whose connections run the
        SET (an awaited execute: an async engine; one not awaited: a synchronous one), info when dbreview
        cannot tell which of several engines that is; info when security context (RLS settings, role,
        search_path) is set per transaction or tables have RLS, and nothing otherwise (SQLAlchemy's
        rollback on return is enough): a search_path a `connect` listener sets is no such context (DISCARD
        ALL would wipe it; where the info stands, it says to set it again). A SET sent once in the function
        that makes the engine (`engine.execute("SET SESSION sql_mode=...")` after create_engine) is meant for
        every connection but reaches one: a warning that says to set it in a `connect` listener instead.
    Why it matters:
        `ROLLBACK` and `RESET ALL` leave temporary tables, prepared statements, advisory locks and
        LISTEN registrations on the connection; with RLS context set per session, a connection that
        is not fully reset can carry one tenant's state into the next checkout.
    Example:
        @event.listens_for(engine.sync_engine, "checkin")
        def reset(dbapi_connection, record):
            dbapi_connection.cursor().execute("RESET ALL")
    Instead:
        Run `DISCARD ALL` in the checkin listener (after a ROLLBACK if a transaction may be open).
    """

    ID = "CFG004"
    ITEM = "1.4"
    SEVERITY = Severity.WARNING
    INVALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS.replace('"DISCARD ALL"', '"RESET ALL"')},
        {"db.py": _ENGINE + _GOOD_LISTENERS.split("@event.listens_for(engine")[0]},
    )
    VALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS},
        {"db.py": _ENGINE.replace("pool_size=10, max_overflow=5, pool_timeout=30, pool_recycle=1800, ", "poolclass=NullPool, ")},
    )

    def check(self):
        engines, sure = serving_engines(self.facts)
        engines = [c for c in engines if not _unpooled(c)]
        if not engines:
            return  # no engine, or none keeps connections (NullPool): nothing is checked in
        unsure = "" if sure else f" ({unsure_why(self.facts)})"
        # A listener that never reaches the connection (a counter, a metric) resets nothing: as if absent.
        resets = [lst for lst in _app_listeners(self.facts) if lst.event in RESET_EVENTS and lst.touches_connection]
        if not resets:
            idle = [lst for lst in _app_listeners(self.facts) if lst.event in RESET_EVENTS]
            none = "no `checkin` pool listener" if not idle else (
                "no `checkin` pool listener that resets the connection (" + ", ".join(
                    f"`{lst.function}` at {lst.span.path}:{lst.span.start}" for lst in idle[:2])
                + f" {'do' if len(idle) > 1 else 'does'} not touch the connection)")
            listened = {id(u): lst for lst in _app_listeners(self.facts) for u in lst.sql}
            # set on every new connection (a `connect` listener): each pooled connection carries it alike, no leak
            baseline = {key for key, lst in listened.items() if lst.event in ("connect", "first_connect")}
            uses = [u for lst in _app_listeners(self.facts) for u in lst.sql] + [
                u for u in self.facts.sql if not is_test_path(u.span.path) and not is_tooling_path(u.span.path)
            ]
            session_state = [
                (u, st) for u, st in _setting_statements(uses)
                if (st.kind == "set" or (st.kind == "set_config" and st.details.get("local") is False)) and not u.rolled_back
                and id(u) not in baseline
            ]
            undone = _set_back(self.facts, session_state) | _on_own_engine(self.facts, session_state)
            session_state = [(u, st) for u, st in session_state if id(u) not in undone]
            at_setup = [(u, st) for u, st in session_state if id(u) not in listened and _made_with(u, engines)]
            for u, st in at_setup[:1]:
                yield self.finding(
                    f"{_setting_said(st)} ({u.span.path}:{u.span.start}) runs once, in `{u.function}` where the engine is "
                    "made, on the one connection the pool hands out then: that connection keeps the setting and the "
                    "pool's other connections never get it; set it in a `connect` listener, which runs on each new "
                    "connection", u.span, f"pool:set-once:{st.details.get('name') or u.function}",
                )
            session_state = [(u, st) for u, st in session_state if (u, st) not in at_setup]
            if session_state:
                yield self._leak(session_state, listened, engines, sure, unsure, none)
            elif any(sets_context(u) for u in uses if id(u) not in baseline) or any(
                    s.enabled or s.policies for s in rls_by_table(self.facts).values()):
                kept = next((u for u in uses if id(u) in baseline and sets_context(u)), None)
                yield self.finding(
                    f"{none}; SQLAlchemy rolls back on return, and nothing here sets "
                    "session-scoped state, so with Row-Level Security context per transaction DISCARD ALL on "
                    "checkin is defence in depth (the checklist asks for it)"
                    + (f"; DISCARD ALL also resets what the `connect` listener sets ({kept.span.path}:{kept.span.start}): "
                       "set it again after it" if kept else "") + unsure,
                    first_line(engines[0].span), "pool:checkin", severity=Severity.INFO,
                )
            return  # no session state and no RLS context to leak: the rollback on return is enough
        for lst in resets:
            kinds = [st.kind for u in lst.sql for st in u.statements]
            if "discard_all" in kinds:
                continue
            ran = ", ".join(st.text.upper() for u in lst.sql for st in u.statements) or "nothing we can read"
            yield self.finding(
                f"the `{lst.event}` listener `{lst.function}` runs {ran}, not DISCARD ALL: temporary tables, "
                "prepared statements, advisory locks and LISTENs survive into the next checkout",
                lst.span, f"pool:{lst.event}:{lst.function}",
            )

    def _leak(self, session_state, listened, engines, sure, unsure, none):
        """No reset on checkin while the code sets session-scoped state: said of the engine whose connections
        run the SET (an awaited execute is an async session's, one not awaited a synchronous one's); where
        more than one engine (or factory) may be it, the finding says so and is info."""
        found = [(u, st, _engines_running(u, listened.get(id(u)), engines)) for u, st in session_state]
        use, st, groups = min(found, key=lambda f: len(f[2]))  # the SET whose engine is surest
        message = (f"{none}, and the code sets session-scoped state ({use.span.path}:"
                   f"{use.span.start}: {_setting_said(st)}): the setting stays on the "
                   "connection when it goes back to the pool, and whatever runs on that connection next runs with it "
                   "unless it sets it again; run DISCARD ALL on checkin")
        related = [(use.span, "sets session-scoped state")]
        if len(groups) > 1:
            kind = {True: "async ", False: "synchronous ", None: ""}[use.awaited]
            names = ", ".join(f"{_engine_name(g[0])} at {g[0].span.path}:{g[0].span.start}" for g in groups)
            message += (f" (not certain which engine: it is sent through a {kind}session or connection, and dbreview "
                        f"could not tell which of the {len(groups)} {kind}engines ({names}) it comes from)")
            related += [(g[0].span, f"{_engine_name(g[0])}: may be the one") for g in groups[1:]]
        severity = Severity.WARNING if sure and len(groups) == 1 else Severity.INFO
        return self.finding(message + unsure, first_line(groups[0][0].span), "pool:checkin", severity=severity,
                            related=related)


def _on_own_engine(facts, state: list[tuple[SqlUse, SqlStatement]]) -> set[int]:
    """The SETs sent in a function after it made an engine of its own, one-shot (`engine = create_engine(replica_url)`,
    `Session(bind=engine)`, `SET SESSION ... READ ONLY`): they are on that engine's connection, which no pool of
    the application's serving engines holds, and every use of it sets them again."""
    local = [e.call for e in all_engines(facts) if e.call.scope in ("local", "passed")]  # not kept past the call
    return {id(u) for u, _ in state if any(e.span.path == u.span.path and e.function == u.function
                                           and e.span.start < u.span.start for e in local)}


def _made_with(use: SqlUse, engines) -> bool:
    """Is `use` sent in the function that makes one of `engines` (`engine = create_engine(...)` then
    `engine.execute("SET ...")`): once, at set-up, not per request?"""
    return bool(use.function) and any(e.span.path == use.span.path and e.function == use.function for e in engines)


def _set_back(facts, state: list[tuple[SqlUse, SqlStatement]]) -> set[int]:
    """The SETs a function undoes in the `finally` of a `try` that the SET opens or precedes
    (`SET session_replication_role = 'replica'` ... `finally: SET ... = 'origin'`), and those that undo them: the
    connection goes back to the pool as it came, on every path."""
    out: set[int] = set()
    trees: dict[str, ast.AST | None] = {}
    for use, st in state:
        name = str(st.details.get("name", "")).lower()
        later = [u for u, o in state if u.span.path == use.span.path and u.function == use.function
                 and u.span.start > use.span.start and str(o.details.get("name", "")).lower() == name]
        if not name or not later:
            continue
        if use.span.path not in trees:
            try:
                trees[use.span.path] = file_tree(facts, use.span.path, confine.read_text(facts.root, use.span.path))
            except (OSError, SyntaxError, ValueError):
                trees[use.span.path] = None
        tree = trees[use.span.path]
        for node in ast.walk(tree) if tree is not None else ():
            if not (isinstance(node, ast.Try) and node.finalbody and node.lineno <= use.span.start + 2):
                continue
            undo = [u for u in later if use.span.start < node.finalbody[0].lineno <= u.span.start <= (node.finalbody[-1].end_lineno or 0)]
            if undo:
                out.update([id(use), *map(id, undo)])
    return out


class PoolWithoutPrePing(Rule):
    """The engine does not check connections before use.

    What it checks:
        `pool_pre_ping=True` on the engines that serve the application (analyzers/facts/engines.py):
        `create_engine`, `create_async_engine`, `engine_from_config`, Flask-SQLAlchemy's engine with the
        app's SQLALCHEMY_ENGINE_OPTIONS; an engine made by the app's own factory is read where the factory
        is called, with what each call passes. Not engines of tests, tooling, one-shot checks or other
        databases; unless the pool is NullPool; not engines of a library's factory that pre-pings by itself
        (oslo.db's `create_engine`), nor where a request makes the engine anew (CFG020: no pool is reused there, so
        that is the finding). An engine dbreview cannot tell serves requests: info. Info
        too, saying what is there, when the pool's liveness is set up on purpose: `pool_recycle` set, or the
        pre-ping a parameter of the app's own engine factory that this call leaves off.
    Why it matters:
        After a database restart or failover, or a connection dropped by a proxy, the first query on
        each stale pooled connection fails with an error the user sees.
    Example:
        engine = create_async_engine(URL, pool_size=10)
    Instead:
        `create_async_engine(URL, pool_size=10, pool_pre_ping=True, pool_recycle=1800)`
    """

    ID = "CFG005"
    ITEM = "1.6"
    SEVERITY = Severity.WARNING
    VALID = ({"db.py": _ENGINE},)
    INVALID = ({"db.py": _ENGINE.replace(", pool_pre_ping=True", "")},
               {"db.py": _ENGINE.replace(", pool_pre_ping=True", "").replace("pool_recycle=1800", "pool_recycle=settings.RECYCLE")})

    def check(self):
        engines, sure = serving_engines(self.facts)
        per_request = engines_made_per_request(self.facts)  # CFG020's: a pool made per request has worse troubles
        no_ping = [
            c for c in engines  # NullPool keeps nothing to ping; **kwargs: settings we cannot read
            if not _unpooled(c) and pre_ping(c) == "off" and (c.span.path, c.span.start) not in per_request
        ]
        known = runs_on(self.facts)
        servers = {name: span for name, span in known.found.items() if name != "SQLite"}
        if known.found and not servers:
            return  # SQLite alone: a file, no server to restart and no connection a proxy drops
        for group in _by_factory(no_ping):
            call = group[0]
            chosen = _chosen(call, servers)
            sqlite = known.urls.get("SQLite", [])
            if chosen:
                said = (f"{'; '.join(chosen)}. A connection the database dropped (a restart, a failover) still fails the "
                        "first query that borrows it: whether a ping on every checkout is worth it here is a deployment "
                        "decision")
            elif (pinned := _pinned_connection(self.facts, call)) is not None:
                said = (f"the sessions are bound to one connection opened at import (`{pinned[1]}`, "
                        f"{pinned[0].path}:{pinned[0].start}), which is never checked out of the pool again, so a ping "
                        "at checkout would not check it: the query that meets a dropped connection fails (SQLAlchemy "
                        "reconnects it on its next use), and every session of the process shares that one connection. "
                        "Bind the sessionmaker to the engine, with pool_pre_ping=True")
            else:
                said = "stale connections fail the first query after a database restart or network drop"
                if sqlite:  # SQLite by default, a server by choice: the deployment decides whether there is one
                    said += (f" on {_named(servers)}; but the application's configuration also names SQLite "
                             f"({sqlite[0].path}:{sqlite[0].start}), where there is no server to restart: whether this "
                             "pool ever meets one depends on the database a deployment picks")
            yield _engine_finding(self, group, sure, "pre_ping", f"{_engine_name(call)} has no `pool_pre_ping=True`: {said}",
                                  Severity.INFO if chosen or sqlite else None)


def _pinned_connection(facts, call: CallFact) -> tuple[Span, str] | None:
    """`connection = engine.connect()` at the top of the engine's module and a sessionmaker bound to it (simplelogin's
    app/db.py): the sessions use that one connection, never one from the pool. (its line, the assignment)"""
    if not call.target or not call.target.isidentifier():
        return None
    lines = facts.lines(Span(call.span.path, 1, 10**6))
    opened = re.compile(rf"^(\w+)\s*=\s*{re.escape(call.target)}\.connect\(\)\s*(#.*)?$")
    for n, line in enumerate(lines, 1):
        if (m := opened.match(line)) and any(re.search(rf"sessionmaker\([^)]*\bbind\s*=\s*{m.group(1)}\b", other)
                                             for other in lines):
            return Span(call.span.path, n, n), line.strip()
    return None


def _named(found: dict) -> str:
    return ", ".join(f"{name} ({span.path}:{span.start})" for name, span in found.items())


def _chosen(call: CallFact, servers: dict) -> list[str]:
    """What says the pool's liveness was set up on purpose: pool_recycle set (by the app, or by Flask-SQLAlchemy
    itself on MySQL, the only server the application names), the pre-ping a parameter of the app's own engine factory
    (which this call leaves off)."""
    out = []
    recycle = call.kwargs.get("pool_recycle", "-1").strip()
    if recycle not in ("-1", "None"):
        out.append(f"pool_recycle={recycle} retires connections older than that, so idle cuts by a proxy are covered")
    elif call.name == FLASK_ENGINE and list(servers) == ["MySQL"]:
        out.append(f"on {_named(servers)}, Flask-SQLAlchemy sets pool_recycle=7200 itself, so MySQL's idle "
                   "timeout (wait_timeout) is covered")
    origin = call.origin
    if origin is not None and origin.kwargs.get("pool_pre_ping") in origin.params:
        out.append(f"the factory `{origin.function}` ({origin.span.path}:{origin.span.start}) takes the pre-ping as its "
                   f"parameter `{origin.kwargs['pool_pre_ping']}` and this call leaves it off")
    return out


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FROM_SETTINGS = re.compile(r"settings|config|environ|getenv|\benv\b", re.I)
SIZING = ("pool_size", "max_overflow", "pool_timeout")  # what a pool without a queue (NullPool, StaticPool) rejects


def pool_problems(call: CallFact) -> list[tuple[str, Severity]]:
    """What is concretely off in one engine's pool settings (a statement each, with its severity): settings
    that contradict each other or the pool class, a pool without an upper bound, sizes fixed in code
    beside others read from the settings. Defaults alone are none: whether they fit depends on the
    deployment (the drafted answer to the pool-sizing question lists them)."""
    kw = call.kwargs
    pool = kw.get("poolclass", "")
    if "**" in kw:
        return []  # settings we cannot read
    if "NullPool" in pool or "StaticPool" in pool:
        given = [s for s in SIZING if s in kw]
        if given:
            name = "NullPool" if "NullPool" in pool else "StaticPool"
            return [(f"sets {', '.join(f'{s}={kw[s]}' for s in given)} with poolclass={name}, which takes no such "
                     "argument: create_engine raises TypeError when it makes this engine", Severity.WARNING)]
        return []
    out = []
    if kw.get("max_overflow", "").strip() == "-1":
        out.append(("sets max_overflow=-1: no upper bound on connections; under load the pool opens connections "
                    "until PostgreSQL refuses them (max_connections), for every client of the database", Severity.WARNING))
    if kw.get("pool_size", "").strip() == "0":
        out.append(("sets pool_size=0: the pool keeps every connection it ever opened, with no upper bound", Severity.WARNING))
    fixed = [s for s in SIZING if _NUMBER.match(kw.get(s, "").strip())]
    read = [s for s in SIZING if s in kw and s not in fixed and _FROM_SETTINGS.search(kw[s])]
    if fixed and read and not out:
        out.append((f"takes {', '.join(f'{s} from `{kw[s]}`' for s in read)} but fixes "
                    f"{', '.join(f'{s}={kw[s]}' for s in fixed)} in the code: a deployment that tunes the one through its "
                    "settings cannot tune the other", Severity.INFO))
    return out


class PoolSizingDefaults(Rule):
    """The connection pool is unbounded, or its settings contradict each other.

    What it checks:
        The pool settings of the engines that serve the application (as CFG005 finds them; never SQLite-only,
        one-shot, tooling or test engines): `pool_size`/`max_overflow`/`pool_timeout` with `NullPool` or
        `StaticPool` (create_engine rejects them), `max_overflow=-1` or `pool_size=0` (no upper bound),
        and sizes fixed in the code beside others read from the settings. Settings left at SQLAlchemy's
        defaults are no finding: whether 5 + 10 connections fit depends on the process count and the
        database's max_connections, which the code does not tell; the drafted answer to "Is the connection
        pool sized appropriately?" lists each engine's settings and where they come from.
    Why it matters:
        An unbounded pool exhausts max_connections under load, for every client of the database; a pool
        argument the pool class rejects stops the engine from being made; a size fixed in code silently
        ignores the deployment's tuning.
    Example:
        engine = create_async_engine(URL, pool_size=settings.POOL_SIZE, max_overflow=-1)
    Instead:
        Bound the pool (`max_overflow` >= 0) and take every size from the same settings.
    """

    ID = "CFG006"
    ITEM = "1.1"
    SEVERITY = Severity.INFO
    VALID = (
        {"db.py": _ENGINE},
        {"db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_pre_ping=True)\n"},
    )
    INVALID = (
        {"db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_pre_ping=True, max_overflow=-1)\n"},
        {"db.py": "from sqlalchemy import create_engine\nfrom sqlalchemy.pool import NullPool\n"
                  "engine = create_engine(URL, poolclass=NullPool, pool_size=10)\n"},
        {"db.py": "from sqlalchemy import create_engine\n"
                  "engine = create_engine(URL, pool_size=settings.DB_POOL_SIZE, max_overflow=20)\n"},
    )

    def check(self):
        engines, sure = serving_engines(self.facts)
        by_problem: dict[tuple[str, Severity], list[CallFact]] = {}
        for call in engines:
            for problem in pool_problems(call):
                by_problem.setdefault(problem, []).append(call)
        for (problem, severity), calls in by_problem.items():
            for group in _by_factory(calls):
                yield _engine_finding(self, group, sure, "sizing", f"{_engine_name(group[0])} {problem}", severity)


class AsyncSessionExpiresOnCommit(Rule):
    """An async session factory expires objects on commit.

    What it checks:
        `async_sessionmaker(...)` / `sessionmaker(class_=AsyncSession)` without `expire_on_commit=False`.
    Why it matters:
        After commit, touching an attribute of an expired object triggers a lazy load, which async
        sessions cannot do implicitly: `MissingGreenlet` errors in production code paths.
    Example:
        AsyncSessionLocal = async_sessionmaker(engine)
    Instead:
        `async_sessionmaker(engine, expire_on_commit=False)`
    """

    ID = "CFG007"
    ITEM = "1.5"
    SEVERITY = Severity.WARNING
    VALID = ({"db.py": _ENGINE},)
    INVALID = ({"db.py": _ENGINE.replace(", expire_on_commit=False", "")},)

    def check(self):
        for call in app_calls(self.facts, "async_sessionmaker", "sessionmaker"):
            is_async = call.name.endswith("async_sessionmaker") or "AsyncSession" in call.kwargs.get("class_", "")
            if is_async and call.kwargs.get("expire_on_commit") != "False":
                yield self.finding(
                    f"`{call.target or 'session factory'}` expires objects on commit: reading them afterwards needs "
                    "an implicit lazy load, which fails under asyncio",
                    call.span, f"sessionmaker:{call.target}",
                )
