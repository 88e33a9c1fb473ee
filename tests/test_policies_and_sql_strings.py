"""Issue 8's deeper Row-Level Security rules (TEN008-TEN015, CFG001's idle listener) and SQL built from strings
(CFG003, CFG008): small repositories of our own with the exact finding, or its absence, pinned."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tests.test_precision import ENGINE, found, revision

# -- SQL built from strings: where the value comes from decides ----------------------------------------------

ROUTES = """
from fastapi import APIRouter, Header, Request
from sqlalchemy import text

router = APIRouter()
"""


def sql_finding(tmp_path, source: str, rule: str = "CFG008", called: str = ""):
    """`called`: calls made from a command-line module, with values from its arguments (a caller elsewhere)."""
    cli = {"app/cli.py": f"import sys\nfrom app.routes import *\n\n{called}\n"} if called else {}
    return found(tmp_path, {"app/routes.py": ROUTES + source, **cli}, rule)


def test_a_header_spliced_into_sql_is_a_critical_injection(tmp_path):
    (f,) = sql_finding(tmp_path, """
@router.get("/items")
async def items(request: Request, db):
    tenant = request.headers["x-tenant"]
    return await db.execute(text(f"SELECT * FROM items WHERE tenant = '{tenant}'"))
""")
    assert f.severity == Severity.CRITICAL and f.location.start_line == 10
    assert "`tenant` is a value" in f.message and "`request.headers['x-tenant']` is the request's headers, read on line 9" in f.message and "bound parameter" in f.message
    assert [r.location.start_line for r in f.related] == [8, 9]  # the route, then the assignment it was followed through


def test_a_route_parameter_used_as_an_identifier_says_quote_it(tmp_path):
    (f,) = sql_finding(tmp_path, """
@router.get("/items")
async def items(db, sort: str = "name"):
    return await db.execute(text(f"SELECT * FROM items ORDER BY {sort}"))
""")
    assert f.severity == Severity.CRITICAL and "`sort` is an identifier" in f.message and "quote it" in f.message


def test_an_identifier_already_in_double_quotes_is_told_to_be_escaped_not_quoted(tmp_path):
    """`"{schema}"` is quoted: what it lacks is a doubled `"` inside the name, and the message says so."""
    (f,) = sql_finding(tmp_path, """
@router.get("/schemas/{schema}/tables")
async def tables(db, schema: str):
    return await db.execute(text(f'SHOW TABLES IN "{schema}"'))
""")
    assert "`schema` is an identifier" in f.message and "quote it" not in f.message
    assert "it is written between double quotes, but a `\"` inside it is not doubled" in f.message


def test_a_header_parameter_is_the_request(tmp_path):
    (f,) = sql_finding(tmp_path, """
@router.get("/items")
async def items(db, tenant: str = Header(...)):
    return await db.execute(text("SELECT * FROM items WHERE tenant = '%s'" % tenant))
""")
    assert f.severity == Severity.CRITICAL and "header parameter of the route `items`" in f.message


@pytest.mark.parametrize("code", [
    # checked against a fixed set first
    """
SORTABLE = {"name", "created_at"}

@router.get("/items")
async def items(db, sort: str = "name"):
    if sort not in SORTABLE:
        raise ValueError(sort)
    return await db.execute(text(f"SELECT * FROM items ORDER BY {sort}"))
""",
    # typed parameters: FastAPI rejects anything but an int or a UUID
    """
import uuid

@router.get("/items/{item_id}")
async def item(db, item_id: uuid.UUID, limit: int = 10):
    return await db.execute(text(f"SELECT * FROM items WHERE id = '{item_id}' LIMIT {limit}"))
""",
    # an enum member, a number, a module constant
    """
from enum import Enum

class Status(str, Enum):
    active = "active"

TABLE = "items"

def active(db, limit):
    return db.execute(text(f"SELECT * FROM {TABLE} WHERE status = '{Status.active.value}' LIMIT {int(limit)}"))
""",
    # a helper whose every caller in the module passes a constant
    """
def count(db, table):
    return db.execute(text(f"SELECT count(*) FROM {table}")).scalar()

def counts(db):
    return [count(db, "items"), count(db, "orders")]
""",
    # a value from configuration (the operator's), a time zone's key
    """
def setup(conn, zone):
    conn.exec_driver_sql(f"SET search_path TO {settings.DB_SCHEMA}")
    conn.exec_driver_sql(f"SET LOCAL TIME ZONE '{zone.key}'")
""",
    # a module function that returns an int
    """
def _timeout_ms() -> int:
    return 5000

def ping(db):
    db.execute(text(f"SET LOCAL statement_timeout = {_timeout_ms()}"))
""",
])
def test_values_of_known_safe_origin_are_no_finding(tmp_path, code):
    assert sql_finding(tmp_path, code) == []


def test_a_value_from_a_caller_elsewhere_is_a_warning_and_an_identifier_info(tmp_path):
    findings = sql_finding(tmp_path, """
def by_value(db, value):
    return db.execute(text(f"SELECT * FROM reports WHERE owner = '{value}'"))

def by_column(db, column):
    return db.execute(text(f"SELECT * FROM reports ORDER BY {column}"))
""", called="by_value(None, sys.argv[1])\nby_column(None, sys.argv[2])")
    by_anchor = {f.anchor: f for f in findings}
    assert by_anchor["sql:by_value:value"].severity == Severity.WARNING
    assert "whose callers are not in this module" in by_anchor["sql:by_value:value"].message
    assert by_anchor["sql:by_column:column"].severity == Severity.INFO


def test_sql_built_up_with_plus_equals_is_followed(tmp_path):
    (f,) = sql_finding(tmp_path, """
@router.get("/items")
async def items(db, name: str):
    sql = "SELECT * FROM items WHERE active"
    sql += f" AND name = '{name}'"
    return await db.execute(text(sql))
""")
    assert f.severity == Severity.CRITICAL and "`name` is a value" in f.message


def test_a_password_written_into_ddl_is_reported(tmp_path):
    (f,) = sql_finding(tmp_path, """
def create_reader(conn, password):
    conn.exec_driver_sql(f"CREATE ROLE reader LOGIN PASSWORD '{password}'")
""", called="create_reader(None, sys.argv[1])")
    assert f.severity == Severity.WARNING and "statement log" in f.message


def test_a_migration_reports_only_values_it_cannot_follow_as_info(tmp_path):
    upgrade = """
conn = op.get_bind()
for row in conn.execute(sa.text("SELECT id, name FROM legacy_tags")).fetchall():
    op.execute(f"UPDATE tags SET slug = '{row[1].lower()}' WHERE id = {row[0]}")
for table in ("a", "b"):
    op.execute(f"ALTER TABLE {table} ADD COLUMN x int")
role = context.config.get_main_option("replication_role", "replicator")
op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
"""
    (f,) = found(tmp_path, {"migrations/versions/0001_tags.py": revision(upgrade)}, "CFG008")
    assert f.severity == Severity.INFO and f.item_id == "3.2" and "read from the database" in f.message
    # read back from the table it rewrites (tags), a value is no input: test_precision pins that; a role named in
    # Alembic's own configuration (`get_main_option`) is the operator's (SurfSense, 3 infos judged wrong)


def test_security_settings_from_the_request_are_critical_in_cfg003(tmp_path):
    code = ENGINE + """
from fastapi import Request
from sqlalchemy import text

async def set_tenant(request: Request, db):
    await db.execute(text(f"SET LOCAL app.current_tenant_id = '{request.headers['x-tenant']}'"))
"""
    (f,) = found(tmp_path, {"app/db.py": code}, "CFG003")
    assert f.severity == Severity.CRITICAL and "set_config" in f.message
    assert found(tmp_path, {"app/db.py": code}, "CFG008") == []  # one finding, CFG003's


# -- Row-level security, deeper --------------------------------------------------------------------------------

POLICY = "CREATE POLICY tenant ON documents USING (organization_id = {expr})"


def policies(*sql: str) -> dict[str, str]:
    body = "\n".join(f"op.execute({s!r})" for s in sql)
    return {"migrations/versions/0001_rls.py": revision(body)}


def test_cast_without_nullif_is_one_warning_per_revision(tmp_path):
    files = policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY",
        POLICY.format(expr="current_setting('app.current_tenant_id', true)::uuid"),
        POLICY.replace("tenant ON documents", "tenant ON notes").format(
            expr="current_setting('app.current_tenant_id', true)::uuid"),
    )
    (f,) = found(tmp_path, files, "TEN009")
    assert f.severity == Severity.WARNING and "and 1 more statement" in f.message and len(f.related) == 1
    assert f.anchor == "revision:0001:setting-cast"


def test_nullif_and_a_scalar_subquery_are_right(tmp_path):
    files = policies("ALTER TABLE documents ENABLE ROW LEVEL SECURITY", POLICY.format(
        expr="(SELECT NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)"))
    assert found(tmp_path, files, "TEN009") == [] and found(tmp_path, files, "TEN012") == []


def test_a_cast_inside_an_exception_handler_is_caught(tmp_path):
    files = policies("""CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v uuid;
BEGIN
    BEGIN
        v := current_setting('app.current_user_id', true)::uuid;
    EXCEPTION WHEN OTHERS THEN
        v := NULL;
    END;
    RETURN NULL;
END $$""")
    assert found(tmp_path, files, "TEN009") == []


def test_policy_on_a_table_without_rls(tmp_path):
    (f,) = found(tmp_path, policies(POLICY.format(expr="1")), "TEN010")
    assert f.severity == Severity.WARNING and "do nothing" in f.message


def test_overlapping_permissive_policies_point_at_the_later_one(tmp_path):
    files = policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY",
        POLICY.format(expr="current_setting('app.current_tenant_id')::uuid"),
        "CREATE POLICY mine ON documents FOR SELECT USING (owner_id = current_setting('app.current_user_id')::uuid)",
        "CREATE POLICY admins ON documents FOR SELECT TO admin USING (true)",  # a named role beside PUBLIC: a grant
    )
    (f,) = found(tmp_path, files, "TEN011")
    assert f.severity == Severity.INFO and "tenant, mine" in f.message and "SELECT" in f.message
    assert f.location.start_line == 9  # the `mine` policy


def test_security_definer_without_search_path(tmp_path):
    fn = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN NULL; END $$"
    (f,) = found(tmp_path, policies(fn), "TEN013")
    assert f.severity == Severity.WARNING and f.item_id == "3.8" and "f()" in f.message
    assert found(tmp_path, policies(fn + " ", "ALTER FUNCTION f() SET search_path = public, pg_temp"), "TEN013") == []


def test_audit_guarded_by_row_triggers_alone(tmp_path):
    guard = "CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION reject()"
    (f,) = found(tmp_path, policies(guard), "TEN014")
    assert f.severity == Severity.WARNING and "audit_events" in f.message and "TRUNCATE" in f.message
    assert found(tmp_path, policies(guard, "REVOKE ALL ON audit_events FROM app"), "TEN014") == []


def test_audit_triggers_that_skip_phi_tables(tmp_path):
    models = """
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass
""" + "".join(f"""
class T{name}(Base):
    __tablename__ = "{name}"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
""" for name in ("patients", "appointments", "clinical_notes", "settings"))
    trigger = "CREATE TRIGGER audit_patients AFTER UPDATE ON patients FOR EACH ROW EXECUTE FUNCTION audit_row()"
    (f,) = found(tmp_path, {"app/models.py": models, **policies(trigger)}, "TEN015")
    assert f.severity == Severity.WARNING and "appointments, clinical_notes" in f.message and "settings" not in f.message
    listener = "from sqlalchemy import event\n@event.listens_for(Session, 'after_flush')\ndef audit_changes(s, ctx):\n    pass\n"
    (f,) = found(tmp_path, {"app/models.py": models, "app/audit.py": listener, **policies(trigger)}, "TEN015")
    assert f.severity == Severity.INFO and "audit_changes" in f.message


def test_a_setting_set_but_read_by_no_policy(tmp_path):
    code = ENGINE + """
from sqlalchemy import event, text
from sqlalchemy.orm import Session

@event.listens_for(Session, "after_begin")
def context(session, transaction, connection):
    connection.execute(text("SELECT set_config('app.current_tenant_id', :t, true)"), {"t": tenant.get()})
    connection.execute(text("SELECT set_config('app.current_user_id', :u, true)"), {"u": user.get()})
"""
    files = {"app/db.py": code, **policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY", POLICY.format(expr="current_setting('app.current_tenant_id')::uuid"))}
    (f,) = found(tmp_path, files, "TEN008")
    assert f.severity == Severity.INFO and "`app.current_user_id` is set here" in f.message
    switch = """CREATE FUNCTION keep_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('app.current_user_id', true) = 'purge' THEN RETURN OLD; END IF;
    RAISE EXCEPTION 'audit rows are kept';
END $$"""
    files = {"app/db.py": code, **policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY", POLICY.format(expr="current_setting('app.current_tenant_id')::uuid"),
        switch)}
    assert found(tmp_path, files, "TEN008") == []  # read by a trigger function: a switch, not dead code


def test_cfg001_points_at_an_after_begin_listener_that_does_nothing(tmp_path):
    code = ENGINE + """
from sqlalchemy import event
from sqlalchemy.orm import Session

@event.listens_for(Session, "after_begin")
def set_rls(session, transaction, connection):
    pass
"""
    files = {"app/db.py": code, **policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY", POLICY.format(expr="current_setting('app.current_tenant_id')::uuid"))}
    (f,) = found(tmp_path, files, "CFG001")
    assert f.severity == Severity.CRITICAL and "`set_rls` meant for it does nothing" in f.message
    assert f.location.start_line == 11  # the listener, not the engine


def test_values_inside_a_joined_list_of_formatted_rows_are_values(tmp_path):
    (f,) = sql_finding(tmp_path, """
def upsert(session, tenant_id, fields):
    rows = ", ".join(f"('{tenant_id}', '{field}')" for field in fields)
    session.execute(text(f"MERGE INTO t USING (VALUES {rows}) AS s (a, b) ON t.a = s.a WHEN MATCHED THEN DELETE"))
""", called="upsert(None, sys.argv[1], sys.argv[2:])")
    assert f.severity == Severity.WARNING and "`tenant_id` is a value" in f.message and "1 more value" in f.message


def test_a_loop_over_an_enum_the_module_declares_is_constant(tmp_path):
    upgrade = """
op.execute(f"UPDATE fields SET kind = CASE type {' '.join(f"WHEN {e.value} THEN '{e.name}'" for e in _Kind)} END")
"""
    source = revision(upgrade).replace("def upgrade():", "from enum import Enum\nclass _Kind(Enum):\n    a = 1\n\ndef upgrade():")
    assert found(tmp_path, {"migrations/versions/0001_kinds.py": source}, "CFG008") == []


def test_one_select_of_several_set_config_calls_sets_each_setting(tmp_path):
    """tracecat (CFG001 critical judged wrong): `SELECT set_config('app.bypass', ...), set_config('app.current_org_id',
    ...)` built from module constants sets every setting it names, not only the first."""
    code = ENGINE + """
from sqlalchemy import event, text
from sqlalchemy.orm import Session

BYPASS = "app.bypass"
TENANT = "app.current_tenant_id"
CONTEXT_SQL = text(f"SELECT set_config('{BYPASS}', :b, true), set_config('{TENANT}', :t, true)")

@event.listens_for(Session, "after_begin")
def context(session, transaction, connection):
    connection.execute(CONTEXT_SQL, {"b": "off", "t": tenant.get()})
"""
    files = {"app/db.py": code, **policies(
        "ALTER TABLE documents ENABLE ROW LEVEL SECURITY",
        POLICY.format(expr="NULLIF(current_setting('app.current_tenant_id', true), '')::uuid")
        + " OR current_setting('app.bypass', true) = 'on'")}
    assert found(tmp_path, files, "CFG001") == []
