"""CFG008 on values that pass through the project's own quoting helpers, numbers with a default, and names read
from the database's catalogue (issue 7, backends nobody tuned for): small repositories of our own with the
exact finding, or its absence, pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found

QUOTING = '''
import sqlalchemy as sa


def quote_name(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""').replace("\\0", "") + '"'


def quote_pair(schema, name):
    return f'"{schema.replace(chr(34), chr(34) * 2)}"."{name.replace(chr(34), chr(34) * 2)}"'


def plain(name):
    return name.strip()


def drop_table(conn, table_id):
    conn.execute(sa.text(f"DROP TABLE {quote_name(table_id)} CASCADE"))


def drop_index(conn, index):
    conn.execute(sa.text("DROP INDEX {0}".format(sa.column(index))))
'''


def test_a_value_through_the_modules_own_quoting_helper_or_sqlalchemys_column_is_no_finding(tmp_path):
    assert found(tmp_path, {"app/store.py": QUOTING}, "CFG008") == []


def test_a_quoting_helper_imported_from_another_module_is_read_there(tmp_path):
    jobs = '''
import sqlalchemy as sa
from app.store import quote_name, plain
from app import store


def touch(conn, job_id):
    conn.execute(sa.text(f"UPDATE {quote_name(job_id)} SET seen = true"))


def count(conn, job_id):
    return conn.execute(sa.text("SELECT count(*) FROM {0}".format(store.quote_name(job_id)))).scalar()


def rename(conn, job_id):
    conn.execute(sa.text(f"ALTER TABLE {plain(job_id)} ADD COLUMN seen boolean"))
'''
    (f,) = found(tmp_path, {"app/store.py": QUOTING, "app/__init__.py": "", "app/jobs.py": jobs}, "CFG008")
    assert f.location.path == "app/jobs.py" and f.location.start_line == 16 and f.severity == Severity.INFO
    assert f.anchor == "sql:rename:plain(job_id)"  # read there, and it does not quote: the finding stands
    assert "`plain(job_id)` is the result of `app.store.plain()`, which is not followed" in f.message


def test_a_helper_dbreview_cannot_read_is_named_and_the_claim_stays_info(tmp_path):
    code = '''
import sqlalchemy as sa
from vendored_names import fix_name


def mark(conn, job_id):
    conn.execute(sa.text(f"UPDATE jobs SET state = 'seen' WHERE id = '{fix_name(job_id)}'"))
'''
    (f,) = found(tmp_path, {"app/mark.py": code}, "CFG008")
    assert f.severity == Severity.INFO and f.anchor == "sql:mark:fix_name(job_id)"
    assert "`fix_name(job_id)` passes through `vendored_names.fix_name()`, which dbreview could not read" in f.message


def test_a_number_by_default_from_a_mapping_not_followed_is_info_and_says_both_paths(tmp_path):
    code = '''
import sqlalchemy as sa

_TIMEOUT = 30000


def run(context, conn):
    timeout = context.get("query_timeout", _TIMEOUT)
    conn.execute(sa.text(f"SET LOCAL statement_timeout TO {timeout}"))


def run_int(context, conn):
    timeout = int(context.get("query_timeout", _TIMEOUT))
    conn.execute(sa.text(f"SET LOCAL statement_timeout TO {timeout}"))
'''
    (f,) = found(tmp_path, {"app/run.py": code}, "CFG008")
    assert f.severity == Severity.INFO and f.anchor == "sql:run:timeout" and f.location.start_line == 9
    assert "`30000` is a constant on one path, but on another `context` is a parameter of `run`" in f.message
    assert "SET takes no bound parameters" in f.message


def test_names_read_from_the_catalogue_are_not_a_callers(tmp_path):
    code = '''
import sqlalchemy as sa


def drop_unique_indexes(conn, table):
    rows = conn.execute(sa.text("""
        SELECT i.relname, t.relname FROM pg_class t, pg_class i
        JOIN pg_index x ON i.oid = x.indexrelid
        WHERE t.relname = :t AND x.indisunique
    """), {"t": table}).fetchall()
    for row in rows:
        conn.execute(sa.text(f"DROP INDEX {row[0]}"))


def drop_listed(conn):
    rows = conn.execute(sa.text("SELECT name FROM index_list")).fetchall()
    for row in rows:
        conn.execute(sa.text(f"DROP INDEX {row[0]}"))
'''
    (f,) = found(tmp_path, {"app/indexes.py": code}, "CFG008")
    assert f.anchor == "sql:drop_listed:row[0]" and f.severity == Severity.INFO  # a table of the application's own
    assert "is read from the database" in f.message
