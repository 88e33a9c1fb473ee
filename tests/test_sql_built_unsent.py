"""SQL built from strings on code nobody tuned for (issue 7, first meeting with five backends): a template made
constant by textwrap.dedent, a statement built and never sent, one reported twice (where it is built and where
it is sent), a function nothing calls, a whole-table write its comment says is meant, and a removed SQLAlchemy
call that runs only once per stored row. Small repositories of our own with the exact finding, or its absence,
pinned."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.findings import Severity
from analyzers.rules.s03_migration_sqlalchemy import RemovedSqlalchemyApi
from tests.test_migration_safety import chain
from tests.test_precision import found

TEMPLATE = '''
import textwrap
from alembic import op

revision = "0002"
down_revision = "0001"

body = textwrap.dedent(
    """\\
    Hello ((name)), your service is live.
    """
)


def upgrade():
    for table in ("templates", "templates_history"):
        op.execute(f"INSERT INTO {table} (id, content) VALUES ('a1', '{body}')")


def downgrade():
    pass
'''


def test_a_template_through_textwrap_dedent_is_as_constant_as_the_literal(tmp_path):
    assert found(tmp_path, {"migrations/versions/0002_template.py": TEMPLATE}, "CFG008") == []


def test_dedent_of_a_value_from_the_database_still_is_one(tmp_path):
    stored = TEMPLATE.replace(
        'def upgrade():\n', 'def upgrade():\n    body = textwrap.dedent(op.get_bind().execute("SELECT content FROM drafts").scalar())\n')
    (f,) = found(tmp_path, {"migrations/versions/0002_template.py": stored}, "CFG008")
    assert f.severity is Severity.INFO and "read from the database" in f.message


JOBS = '''
import sqlalchemy as sa
from app.tasks import run


def rebuild(conn, mode):
    weekly = sa.text(f"INSERT INTO weekly SELECT cmt_{mode}_email FROM commits").bindparams(source="x")
#    conn.execute(weekly)
    monthly = sa.text(f"INSERT INTO monthly SELECT cmt_{mode}_email FROM commits")
    conn.execute(monthly)


def touched(conn, repo_id, since):
    if since:
        query = sa.text(f"SELECT id FROM issues WHERE repo_id = {repo_id} AND updated_at > '{since}'")
    else:
        query = sa.text(f"SELECT id FROM issues WHERE repo_id = {repo_id}")
    return conn.execute(query).fetchall()


def forgotten(conn, repo_id):
    conn.execute(sa.text(f"DELETE FROM insights WHERE repo_id = {repo_id}"))


@run
def job(conn, mode, repo_id):
    rebuild(conn, mode)
    touched(conn, repo_id, None)
'''


def test_sql_built_and_never_sent_is_no_finding_and_a_statement_is_reported_where_it_is_sent(tmp_path):
    files = {"app/__init__.py": "", "app/tasks.py": "def run(f):\n    return f\n", "app/jobs.py": JOBS}
    got = sorted((f.location.start_line, f.anchor, f.severity) for f in found(tmp_path, files, "CFG008"))
    assert got == [
        (10, "sql:rebuild:mode", Severity.INFO),  # monthly is sent; weekly (line 7) is built, never sent
        (18, "sql:touched:repo_id", Severity.WARNING),  # once, where `query` is sent, not again at lines 15 and 17
        (22, "sql:forgotten:repo_id", Severity.INFO),
    ]


def test_a_function_nothing_calls_is_said_so_and_lowered_to_info(tmp_path):
    files = {"app/__init__.py": "", "app/tasks.py": "def run(f):\n    return f\n", "app/jobs.py": JOBS}
    (f,) = [f for f in found(tmp_path, files, "CFG008") if f.anchor == "sql:forgotten:repo_id"]
    assert f.severity is Severity.INFO
    assert "no call of forgotten was found in the application's code outside tests: nothing runs it today" in f.message
    called = {**files, "app/tasks.py": files["app/tasks.py"] + "\nfrom app.jobs import forgotten\n\n@run\ndef go(c, r):\n    forgotten(c, r)\n"}
    (f,) = [f for f in found(tmp_path, called, "CFG008") if f.anchor == "sql:forgotten:repo_id"]
    assert f.severity is Severity.WARNING and "nothing runs it" not in f.message


CACHES = '''
import sqlalchemy as sa


def invalidate_caches(conn):
# Invalidate all caches
    conn.execute(sa.text("UPDATE repo_groups SET rg_recache = 1"))


def clear_flags(conn):
    """Marks the groups as rebuilt."""
    conn.execute(sa.text("UPDATE repo_groups SET rg_recache = 0"))


def log_out(conn, user_id):
    """Every session of the user ends."""
    conn.execute(sa.text("DELETE FROM sessions"), {"user_id": user_id})
'''


def test_a_whole_table_write_its_comment_or_docstring_says_is_meant_is_no_finding(tmp_path):
    got = sorted((f.location.start_line, f.message) for f in found(tmp_path, {"app/caches.py": CACHES}, "CFG013"))
    assert got == [
        (12, "clear_flags updates every row of repo_groups (no WHERE): check a condition was not lost"),
        (17, "log_out deletes every row of sessions (no WHERE): check a condition was not lost"),
    ]  # log_out's "Every session" is no excuse: the user_id passed with it is what the lost WHERE used


ROWS = '''conn = op.get_bind()
results = conn.execute(sa.text("SELECT id FROM orders WHERE total IS NULL"))
rows = results.fetchall()
for row in rows:
    conn.execute(f"UPDATE orders SET total = 0 WHERE id = {row.id}")
'''


def test_a_removed_call_run_once_per_stored_row_is_info_and_says_a_fresh_database_passes():
    files = {**chain(ROWS), "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["sqlalchemy>=2.0.20"]\n'}
    (f,) = RemovedSqlalchemyApi(facts_from_sources(files)).check()
    assert f.severity is Severity.INFO and f.anchor == "migration:r01:sqlalchemy-2"
    assert ("but every such call runs inside a loop over rows the revision reads from the database (line 11): only a "
            "database that holds such rows when it upgrades past this revision runs it; a fresh one, where that table "
            "is empty, passes") in f.message
    constant = {**files, **chain(ROWS.replace("for row in rows:", "for row in (1, 2):").replace("{row.id}", "{row}"))}
    (f,) = RemovedSqlalchemyApi(facts_from_sources(constant)).check()
    assert f.severity is Severity.WARNING and "loop over rows" not in f.message


def test_a_search_path_every_new_connection_gets_is_no_context_for_discard_all(tmp_path):
    db = '''
from sqlalchemy import create_engine, event

engine = create_engine("postgresql://app@db/app", pool_size=5, pool_pre_ping=True)


@event.listens_for(engine, "connect")
def set_search_path(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION search_path=public,metrics")
    cursor.close()
'''
    assert found(tmp_path / "a", {"app/db.py": db}, "CFG004") == []  # no RLS, no context per transaction
    with_rls = db + '''

def as_tenant(conn, tenant):
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
'''
    (f,) = found(tmp_path / "b", {"app/db.py": with_rls.replace("import create_engine, event", "import create_engine, event, text")},
                 "CFG004")
    assert f.severity is Severity.INFO and f.anchor == "pool:checkin"
    assert "DISCARD ALL also resets what the `connect` listener sets (app/db.py:10): set it again after it" in f.message


FLASK_APP = '''
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://app@db/app"
    pre_ping = app.config.get("APP_DATABASE_POOL_PRE_PING")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] = 5
    app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = pre_ping
    db.init_app(app)
    return app
'''


def test_an_engine_option_set_apart_in_flask_configuration_is_read(tmp_path):
    assert found(tmp_path / "a", {"app/__init__.py": FLASK_APP}, "CFG005") == []  # the configuration decides
    unset = FLASK_APP.replace('    app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = pre_ping\n', "")
    (f,) = found(tmp_path / "b", {"app/__init__.py": unset}, "CFG005")
    assert f.severity is Severity.WARNING


def test_annotated_flask_engine_options_in_a_settings_class_are_read(tmp_path):
    config = '''
from typing import Any


class Config:
    SQLALCHEMY_DATABASE_URI = "postgresql://app@db/app"
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_size": 5, "pool_recycle": 300}
'''
    app = FLASK_APP.split('    pre_ping =')[0].replace('    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://app@db/app"\n',
                                                       '    app.config.from_object("app.config.Config")\n')
    (f,) = found(tmp_path, {"app/__init__.py": app + "    db.init_app(app)\n    return app\n", "app/config.py": config}, "CFG005")
    assert f.severity is Severity.INFO and "pool_recycle=300 retires connections older than that" in f.message


HELPERS = '''
import sqlalchemy as sa


def reset_marks(conn, key):
    conn.execute(sa.text(f"UPDATE ledger SET notes = notes - '{key}'"))


def seed_flags(conn, key):
    conn.execute(sa.text(f"UPDATE ledger SET flags = '{key}'"))
'''

REVISION = '''
from alembic import op

revision = "0007"
down_revision = None


def upgrade():
    from app.upkeep import reset_marks
    reset_marks(op.get_bind(), op.get_context().opts["key"])


def downgrade():
    pass
'''


def test_a_function_a_migration_calls_is_not_said_to_be_run_by_nothing(tmp_path):
    files = {"app/__init__.py": "", "app/upkeep.py": HELPERS, "migrations/env.py": "",
             "migrations/versions/0007_reset.py": REVISION}
    got = {f.anchor: f.message for f in found(tmp_path, files, "CFG008")}
    assert "nothing runs it" not in got["sql:reset_marks:key"]  # the revision's upgrade calls it
    assert "no call of seed_flags was found in the application's code outside tests: nothing runs it" in got[
        "sql:seed_flags:key"]  # nothing does
    by_module = REVISION.replace("from app.upkeep import reset_marks\n    reset_marks(", "from app import upkeep\n    upkeep.reset_marks(")
    got = {f.anchor: f.message for f in found(tmp_path, {**files, "migrations/versions/0007_reset.py": by_module}, "CFG008")}
    assert "nothing runs it" not in got["sql:reset_marks:key"]


EXPLAINED = '''
import sqlalchemy as sa
from app.tasks import run


@run
def plan(conn, body, costs, timing):
    flags = ", ".join((["COSTS"] if costs else []) + (["TIMING"] if timing else []))
    flags = f" ({flags})" if flags else ""
    return conn.execute(sa.text(f"EXPLAIN{flags} SELECT * FROM ledger")).fetchall()


@run
def wrapped(conn, order):
    order = f" ORDER BY {order}" if order else ""
    return conn.execute(sa.text(f"SELECT * FROM ledger{order}")).fetchall()
'''


def test_a_value_reassigned_from_itself_is_followed_to_its_literals(tmp_path):
    files = {"app/__init__.py": "", "app/tasks.py": "def run(f):\n    return f\n", "app/plans.py": EXPLAINED}
    got = {f.anchor: f.message for f in found(tmp_path, files, "CFG008")}
    assert not any(a.startswith("sql:plan:") for a in got)  # only "COSTS", "TIMING" or nothing: fixed text
    assert "`order` is a parameter of `wrapped`" in got["sql:wrapped:order"]  # what it was before: still reported


PLUGIN = '''
import os
from pathlib import Path

import sqlalchemy as sa
from app.tasks import run
from app.remote import fetch_label

folder = os.getenv("LEDGER_PLUGIN_DIR")
library, label = None, None
if folder:
    library = str((Path(folder) / "ledger.so").resolve())
    label = fetch_label()


@run
def load(conn):
    if library:
        conn.execute(sa.text(f"CREATE FUNCTION ledger_cmp(text, text) RETURNS boolean AS '{library}' LANGUAGE c"))
    conn.execute(sa.text(f"COMMENT ON TABLE ledger IS '{label}'"))
'''


def test_a_module_value_set_in_branches_is_followed_to_each_assignment(tmp_path):
    files = {"app/__init__.py": "", "app/tasks.py": "def run(f):\n    return f\n", "app/plugins.py": PLUGIN}
    got = {f.anchor: f for f in found(tmp_path, files, "CFG008")}
    assert "sql:load:library" not in got  # None, or a path made of the operator's environment: configuration
    assert "sql:load:label" in got  # None, or what fetch_label() returns: not followed, still reported
    assert "fetch_label()" in got["sql:load:label"].message


def test_a_function_a_script_calls_is_run(tmp_path):
    """ichnaea (CFG008 judged wrong x2): `scripts/db.py create` calls create_db; "nothing runs it today (delete the
    function)" was false. Scripts are not the service's evidence, but they do run what they call."""
    files = {"app/__init__.py": "", "app/tasks.py": "def run(f):\n    return f\n", "app/jobs.py": JOBS,
             "app/scripts/maintain.py": "import sqlalchemy\nfrom app.jobs import forgotten\n\n\ndef main(c, r):\n"
                                        "    forgotten(c, r)\n\n\nif __name__ == '__main__':\n    main(None, 1)\n"}
    (f,) = [f for f in found(tmp_path, files, "CFG008") if f.anchor == "sql:forgotten:repo_id"]
    assert "nothing runs it" not in f.message
