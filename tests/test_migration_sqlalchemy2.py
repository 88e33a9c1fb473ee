"""MIG021 on histories of our own: the calls SQLAlchemy 2.0 removed, followed from `op.get_bind()`, and the
severity taken from the project's declared SQLAlchemy (a lock file, else its requirements), never guessed."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.facts.requirements import _verdict, sqlalchemy_requirement
from analyzers.findings import Severity
from analyzers.rules.s03_migration_sqlalchemy import RemovedSqlalchemyApi
from tests.test_migration_safety import chain

_OLD = '''conn = op.get_bind()
conn.execute(f"UPDATE orders SET total = {0}")
query = "UPDATE orders SET total = 1"
conn.execute(query)
engine = conn.engine
if engine.has_table("orders"):
    rows = conn.execute(sa.select([sa.column("id")]))
'''


def found(files):
    return list(RemovedSqlalchemyApi(facts_from_sources(files)).check())


def test_the_removed_calls_are_named_with_their_lines_and_the_declared_version_sets_the_severity():
    files = {**chain(_OLD), "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["sqlalchemy[asyncio]>=2.0.20"]\n'}
    (f,) = found(files)
    assert f.severity is Severity.WARNING and f.anchor == "migration:r01:sqlalchemy-2" and f.location.start_line == 9
    assert ("Connection.execute() given a plain string (2.0 raises ObjectNotExecutableError; it takes sa.text(...)) at "
            "lines 9 and 11") in f.message
    assert "Engine.has_table() (removed in 2.0: AttributeError) at line 13" in f.message
    assert "select() given a list" in f.message
    assert "it fails today: the project requires SQLAlchemy 2.x, `sqlalchemy[asyncio]>=2.0.20` (pyproject.toml:3)" in f.message
    # a lock file says what is installed, before the range
    locked = {**files, "uv.lock": 'version = 1\n[[package]]\nname = "sqlalchemy"\nversion = "2.0.36"\n'}
    (f,) = found(locked)
    assert "it fails today: the lock file installs SQLAlchemy 2.0.36 (uv.lock:3)" in f.message
    # a range that allows 2.x: a warning that says so
    (f,) = found({**chain(_OLD), "requirements.txt": "alembic\nSQLAlchemy>=1.4.1\n"})
    assert f.severity is Severity.WARNING
    assert "which the project's requirement `SQLAlchemy>=1.4.1` (requirements.txt:2) allows (no bound below 2.0)" in f.message


def test_a_project_below_2_0_or_of_no_declared_version_gets_one_info_per_folder_that_says_so():
    files = chain(_OLD, 'op.get_bind().execute("UPDATE orders SET total = 2")')
    (f,) = found({**files, "requirements.txt": "sqlalchemy==1.4.54\n", "requirements-dev.txt": "sqlalchemy>=2\n"})
    assert f.severity is Severity.INFO and f.anchor == "migrations:migrations/versions:sqlalchemy-2"
    assert f.message.startswith("2 revisions under migrations/versions (r01, r02) call what SQLAlchemy 2.0 removed")
    assert "they fail when the project moves to SQLAlchemy 2.0; today it runs `sqlalchemy==1.4.54` (requirements.txt:1)" in f.message
    (f,) = found(files)
    assert f.severity is Severity.INFO and "dbreview found no declared SQLAlchemy requirement" in f.message


def test_what_2_0_still_takes_is_no_finding():
    """text(), op.execute() of a string (Alembic wraps it), a DBAPI cursor's execute, a connection that
    arrives as a parameter (not followed), select() of columns, sa.inspect(...).has_table()."""
    files = {**chain('''
conn = op.get_bind()
conn.execute(sa.text("UPDATE orders SET total = 0"))
op.execute("UPDATE orders SET total = 1")
cursor = conn.connection.cursor()
cursor.execute("UPDATE orders SET total = 2")
conn.execute(sa.select(sa.column("id")))
if sa.inspect(conn).has_table("orders"):
    backfill(conn)
'''), "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["SQLAlchemy>=2.0"]\n'}
    files["migrations/versions/r01.py"] += '\ndef backfill(conn):\n    conn.execute("UPDATE orders SET total = 3")\n'
    assert found(files) == []


def test_declared_versions_read_as_written():
    cases = {(">=1.4.1", False): "allows", (">=2.0", False): "requires", ("==1.4.52", False): "excludes",
             ("<2.0,>=1.4", False): "excludes", ("~=1.4", False): "excludes", ("~=2.0.1", False): "requires",
             ("^2.0", True): "requires", ("^1.4", True): "excludes", ("1.4.5", True): "excludes", ("==2.*", False): "requires",
             ("", False): "allows", (">=1.3,<3", False): "allows", ("<=1.4.49", False): "excludes"}
    assert {k: _verdict(*k) for k in cases} == cases
    sources = {
        "pyproject.toml": ['[tool.ruff.lint.flake8-import-conventions.aliases]', 'sqlalchemy = "sa"'],  # no requirement
        "backend/pyproject.toml": ['[tool.poetry.dependencies]', 'SQLAlchemy = {version = "^1.4", extras = ["asyncio"]}'],
        "backend/requirements/main.txt": ["sqlalchemy[asyncio]==1.4.50 \\", "    --hash=sha256:0"],
        "backend/requirements/tests.txt": ["sqlalchemy==2.0.1"],
    }
    req = sqlalchemy_requirement("<memory>", "backend/migrations/versions/r01.py", sources)
    assert (req.path, req.line, req.text, req.verdict) == ("backend/requirements/main.txt", 1, "sqlalchemy[asyncio]==1.4.50", "excludes")
    assert sqlalchemy_requirement("<memory>", "migrations/versions/r01.py", sources) is None


def test_a_call_only_a_loop_or_an_if_reaches_says_so():
    files = {**chain('conn = op.get_bind()\nfor name in sa.inspect(conn).get_table_names():\n'
                     '    conn.execute(f"UPDATE {name} SET total = 0")'),
             "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["SQLAlchemy>=2.0"]\n'}
    (f,) = found(files)
    assert f.message.endswith("; every such call runs inside a loop or a condition: it fails where that code runs")
    down = {**chain('pass'), "pyproject.toml": files["pyproject.toml"]}
    down["migrations/versions/r01.py"] = down["migrations/versions/r01.py"].replace(
        "def downgrade():\n    pass", 'def downgrade():\n    op.get_bind().execute("DROP TABLE x")')
    (g,) = found(down)
    assert g.message.endswith("; every such call is in its downgrade, so the downgrade is what fails")
    assert f.anchor == "migration:r01:sqlalchemy-2"


def test_a_range_in_a_requirements_file_is_read_whole():
    """faraday (MIG021 judged wrong x7): `sqlalchemy>=1.2.0,<1.4.0` was cut at the comma and read as allowing 2.x."""
    sources = {"requirements.txt": ["flask>=2", "sqlalchemy>=1.2.0,<1.4.0", "psycopg2"]}
    req = sqlalchemy_requirement("<memory>", "migrations/versions/r01.py", sources)
    assert (req.text, req.verdict) == ("sqlalchemy>=1.2.0,<1.4.0", "excludes")
