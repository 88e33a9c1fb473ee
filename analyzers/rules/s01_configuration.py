"""Section 1: Database Configuration (engine, pool, session factory, RLS context listeners)."""

from __future__ import annotations

from analyzers.facts.model import ListenerFact, SqlStatement, SqlUse
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.schema import app_calls, first_line, is_test_path, is_tooling_path, uses_rls

RLS_VARIABLES = ("app.current_user_id", "app.current_tenant_id")
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
    """The RLS session variables are not set at the start of every transaction.

    What it checks:
        That an `after_begin` (session) or `begin` (engine) listener sets `app.current_user_id` and
        `app.current_tenant_id`, the settings the Row-Level Security policies read. When no policy
        reads them either, the code base does not use RLS: info. Engines of tests, migrations, CLI
        tooling and data connectors are not the application's.
    Why it matters:
        A policy that reads an unset variable sees NULL: queries return nothing at best, and a
        variable left from an earlier request leaks another tenant's rows at worst. Setting it in a
        request dependency misses transactions begun later in the same session.
    Example:
        engine = create_async_engine(URL)   # and no after_begin listener
    Instead:
        Listen for `after_begin` and run `SELECT set_config('app.current_tenant_id', :tid, true)`
        with a bound parameter, for both variables.
    """

    ID = "CFG001"
    ITEM = "1.3"
    SEVERITY = Severity.CRITICAL
    VALID = ({"db.py": _ENGINE + _GOOD_LISTENERS},)
    INVALID = ({"db.py": _ENGINE},)

    def check(self):
        engines = app_calls(self.facts, "create_engine", "create_async_engine")
        if not engines:
            return
        listeners = _app_listeners(self.facts)
        for variable in RLS_VARIABLES:
            per_tx = [
                lst for lst in listeners if lst.event in PER_TRANSACTION_EVENTS
                and any(_sets(st, variable) for _, st in _setting_statements(lst.sql))
            ]
            if per_tx:
                continue
            elsewhere = [lst for lst in listeners if any(_sets(st, variable) for _, st in _setting_statements(lst.sql))]
            in_code = [u for u, st in _setting_statements(self.facts.sql) if _sets(st, variable)]
            if elsewhere:
                lst = elsewhere[0]
                yield self.finding(
                    f"`{variable}` is set in a `{lst.event}` listener ({lst.function}), which does not run per "
                    "transaction: use `after_begin`",
                    first_line(lst.span), f"rls-variable:{variable}", severity=Severity.WARNING,
                )
            elif in_code:
                yield self.finding(
                    f"`{variable}` is set by application code ({in_code[0].function or 'a function'}), not by an "
                    "`after_begin` listener: check that every transaction, including later ones in the same "
                    "session, gets it",
                    first_line(in_code[0].span), f"rls-variable:{variable}", severity=Severity.INFO,
                )
            elif not uses_rls(self.facts):
                yield self.finding(
                    f"`{variable}` is never set, and no RLS policy reads it either: this code base does not isolate "
                    "tenants with Row-Level Security. If it should (the checklist's design), set it in an "
                    "`after_begin` listener with set_config(..., true)",
                    first_line(engines[0].span), f"rls-variable:{variable}", severity=Severity.INFO,
                )
            else:
                yield self.finding(
                    f"`{variable}` is never set: no `after_begin` listener sets it, so RLS policies that read it "
                    "see no user or tenant",
                    first_line(engines[0].span), f"rls-variable:{variable}",
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
        f-strings, `%` or `.format()` building SQL in event listeners or statements that set `app.*`
        settings.
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
    SEVERITY = Severity.CRITICAL
    VALID = ({"db.py": _ENGINE + _GOOD_LISTENERS},)
    INVALID = (
        {"db.py": _ENGINE + '''
@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    connection.exec_driver_sql(f"SET LOCAL app.current_tenant_id = '{tenant_id.get()}'")
'''},
    )

    def check(self):
        seen = set()
        for lst in _app_listeners(self.facts):
            for use in lst.sql:
                if use.formatted and id(use) not in seen:
                    seen.add(id(use))
                    yield self.finding(
                        f"SQL built by string formatting in the `{lst.event}` listener `{lst.function}`: "
                        f"`{(use.text or '').strip()[:80]}`; pass values as bound parameters",
                        use.span, f"listener:{lst.function}:formatted",
                    )
        for use in self.facts.sql:
            if is_test_path(use.span.path) or is_tooling_path(use.span.path):
                continue  # `SET search_path TO "{schema}"` in env.py: a value from the operator, not a request
            # The security context (`app.*`) or a name we cannot read; `SET LOCAL statement_timeout = {ms}` is not it
            if use.formatted and any(
                st.kind in ("set", "set_local", "set_config")
                and (str(st.details.get("name") or "{?}").lower().startswith(("app.", "{", "dbreview")) or "{" in st.text.split("=")[0])
                for st in use.statements
            ):
                yield self.finding(
                    f"a session setting is built by string formatting in `{use.function}`: "
                    f"`{(use.text or '').strip()[:80]}`; pass values as bound parameters",
                    use.span, f"function:{use.function}:formatted",
                )


class PoolNotDiscarded(Rule):
    """Pooled connections are not cleaned with DISCARD ALL when they are returned.

    What it checks:
        A `checkin` (or `reset`) pool listener that runs `DISCARD ALL`. Without any such listener it is
        a warning when the code sets session-scoped state, info otherwise.
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
    VALID = ({"db.py": _ENGINE + _GOOD_LISTENERS},)
    INVALID = (
        {"db.py": _ENGINE + _GOOD_LISTENERS.replace('"DISCARD ALL"', '"RESET ALL"')},
        {"db.py": _ENGINE + _GOOD_LISTENERS.split("@event.listens_for(engine")[0]},
    )

    def check(self):
        engines = app_calls(self.facts, "create_engine", "create_async_engine")
        if not engines:
            return
        resets = [lst for lst in _app_listeners(self.facts) if lst.event in RESET_EVENTS]
        if not resets:
            uses = [u for lst in _app_listeners(self.facts) for u in lst.sql] + [
                u for u in self.facts.sql if not is_test_path(u.span.path) and not is_tooling_path(u.span.path)
            ]
            session_state = [
                st for _, st in _setting_statements(uses)
                if st.kind == "set" or (st.kind == "set_config" and st.details.get("local") is False)
            ]
            if session_state:
                yield self.finding(
                    "no `checkin` pool listener, and the code sets session-scoped state "
                    f"({session_state[0].span.path}:{session_state[0].span.start}): the next request that borrows "
                    "the connection inherits it; run DISCARD ALL on checkin",
                    first_line(engines[0].span), "pool:checkin", severity=Severity.WARNING,
                )
            else:
                yield self.finding(
                    "no `checkin` pool listener; SQLAlchemy rolls back on return, and nothing here sets "
                    "session-scoped state, so DISCARD ALL on checkin is defence in depth (the checklist asks for it)",
                    first_line(engines[0].span), "pool:checkin", severity=Severity.INFO,
                )
            return
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


class PoolWithoutPrePing(Rule):
    """The engine does not check connections before use.

    What it checks:
        `pool_pre_ping=True` on `create_engine` / `create_async_engine` (unless the pool is NullPool).
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
    INVALID = ({"db.py": _ENGINE.replace(", pool_pre_ping=True", "")},)

    def check(self):
        for call in app_calls(self.facts, "create_engine", "create_async_engine"):
            if "NullPool" in call.kwargs.get("poolclass", "") or "**" in call.kwargs:
                continue  # no pool, or settings passed as **kwargs we cannot read
            if call.kwargs.get("pool_pre_ping", "False") != "False":
                continue  # True, or a setting from configuration
            yield self.finding(
                f"`{call.target or 'engine'}` has no `pool_pre_ping=True`: stale connections fail the first query after a "
                "database restart or network drop",
                call.span, f"engine:{call.target}:pre_ping",
            )


class PoolSizingDefaults(Rule):
    """The connection pool runs on SQLAlchemy's defaults.

    What it checks:
        `pool_size`, `max_overflow`, `pool_timeout` and `pool_recycle` on the engine.
    Why it matters:
        The defaults (5 connections + 10 overflow, 30 s wait, never recycled) are rarely what a
        production service and its database's `max_connections` call for; unrecycled connections
        are cut by proxies and load balancers.
    Example:
        engine = create_async_engine(URL, pool_pre_ping=True)
    Instead:
        Size the pool for the workers x connections the database allows, and set `pool_recycle`.
    """

    ID = "CFG006"
    ITEM = "1.1"
    SEVERITY = Severity.INFO
    VALID = ({"db.py": _ENGINE},)
    INVALID = ({"db.py": "from sqlalchemy import create_engine\nengine = create_engine(URL, pool_pre_ping=True)\n"},)

    SETTINGS = ("pool_size", "max_overflow", "pool_timeout", "pool_recycle")

    def check(self):
        for call in app_calls(self.facts, "create_engine", "create_async_engine"):
            if "NullPool" in call.kwargs.get("poolclass", "") or "StaticPool" in call.kwargs.get("poolclass", ""):
                continue
            missing = [s for s in self.SETTINGS if s not in call.kwargs and "**" not in str(call.kwargs)]
            if missing:
                yield self.finding(
                    f"`{call.target or 'engine'}` leaves {', '.join(missing)} at their defaults; check them against the "
                    "expected load and the database's max_connections",
                    call.span, f"engine:{call.target}:sizing",
                )


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
