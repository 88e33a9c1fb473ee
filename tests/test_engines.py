"""Which engine serves the application: found wherever it is made (at import, by the app's own factory,
from configuration, by Flask-SQLAlchemy from SQLALCHEMY_ENGINE_OPTIONS), told apart from engines that
pool settings do not concern (tests, tooling, a setup check, a backup, another database), and, where
dbreview cannot tell, the configuration rules say so at info. Each fixture is written for these tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.facts.engines import engines, serving_engines
from tests.test_precision import found as found_in
from tui import cli

FIXTURES = Path(__file__).parent / "fixtures"


def _pool_findings(found, rules=("CFG004", "CFG005", "CFG006")):
    return [(f.rule_id, f.severity.value, f"{f.location.path}:{f.location.start_line}", f.message)
            for f in found.result.findings if f.rule_id in rules]


@pytest.fixture(scope="module")
def engine_roles():
    return scan(FIXTURES / "engine_roles")


def test_every_engine_has_a_role(engine_roles):
    roles = {f"{e.call.span.path}:{e.call.span.start}": (e.call.name, e.serves, e.why) for e in engines(engine_roles.facts)}
    assert roles == {
        "app/cli/dump.py:6": ("sqlalchemy.create_engine", False, "migration or command-line tooling"),
        # the app's factory (app/db.py:8), seen where it is called: twice in app/db.py, once in app/reports.py
        "app/db.py:11": ("sqlalchemy.create_engine", True, "made at import"),
        "app/db.py:12": ("sqlalchemy.create_engine", True, "made at import"),
        "app/reports.py:7": ("sqlalchemy.create_engine", True, "made at import"),
        "app/reports.py:8": ("sqlalchemy.create_engine", False, "another database (an engine for sqlite)"),  # app/stores.py:22
        "app/sessions.py:7": ("sqlalchemy.create_engine", True,
                              "bound to the session factory `session_factory` (app/sessions.py:7)"),
        "app/sessions.py:14": ("sqlalchemy.create_engine", None, "kept on an object (`self.engine`) in `Exporter.__init__`"),
        "app/sessions.py:22": ("sqlalchemy.create_engine", None, "kept on an object (`self.conn`) in `Lookup.connect`"),
        "app/setup_check.py:7": ("sqlalchemy.create_engine", False, "one-shot: made, used and dropped in `check_database`"),
        "app/setup_check.py:15": ("sqlalchemy.create_engine", False, "one-shot: made, used and dropped in `export`"),
        "app/setup_check.py:23": ("sqlalchemy.create_engine", False, "one-shot: made, used and dropped in `at_head`"),
        "app/stores.py:8": ("sqlalchemy.create_engine", False, "another database (made in `SqliteStore.engine`)"),
        "app/stores.py:14": ("sqlalchemy.create_engine", True, "returned by the factory `reporting_engine`"),
        "app/stores.py:16": ("sqlalchemy.create_engine", None,
                             "a fallback made in an `except` clause in `reporting_engine`: which engine serves depends on the error"),
        "app/worker.py:5": ("sqlalchemy.engine_from_config", True, "made at import"),
    }  # examples/ is not the application; `async_sessionmaker()` in app/health.py calls a variable


def test_an_engine_made_by_the_apps_factory_takes_what_each_caller_passes(engine_roles):
    settings = {f"{e.call.span.path}:{e.call.span.start}": e.call.kwargs["pool_pre_ping"]
                for e in engines(engine_roles.facts) if e.call.origin is not None and e.serves}
    assert settings == {"app/db.py:11": "False", "app/db.py:12": "False", "app/reports.py:7": "True"}  # default, positional


def test_pool_rules_run_on_the_serving_engines_only(engine_roles):
    assert serving_engines(engine_roles.facts)[1] is True
    assert [f[:3] for f in _pool_findings(engine_roles)] == [
        ("CFG005", "info", "app/db.py:11"),  # engine_from_config: its settings come from the configuration
    ]  # info: pool_recycle is set, and the factory takes the pre-ping as a parameter (app/reports.py passes True)
    ping = next(f for f in engine_roles.result.findings if f.rule_id == "CFG005")
    assert ping.message.startswith("`engine` (made by `make_engine`) has no `pool_pre_ping=True`: pool_recycle=1800 retires "
                                   "connections older than that, so idle cuts by a proxy are covered; the factory "
                                   "`make_engine` (app/db.py:8) takes the pre-ping as its parameter `pre_ping` and this "
                                   "call leaves it off. A connection the database dropped")
    assert [(r.location.start_line, r.note) for r in ping.related] == [
        (8, "made by `make_engine`"), (12, "`replica`: the same factory"),  # one factory, one finding
    ]


def test_explain_layout_says_which_engine_the_rules_read(capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["scan", str(FIXTURES / "engine_roles"), "--explain-layout"])
    out = capsys.readouterr().out
    assert "app/setup_check.py:7  sqlalchemy.create_engine() -> probe [not the application's: one-shot: made, used and dropped in `check_database`]" in out
    assert "app/stores.py:16  sqlalchemy.create_engine() -> engine [cannot tell: a fallback made in an `except` clause" in out
    assert "app/db.py:12  sqlalchemy.create_engine() -> replica (made by make_engine, app/db.py:8) [serves the application: made at import]" in out
    assert ("The pool and session rules (CFG001, CFG004-CFG006) read: app/db.py:11, app/db.py:12, app/reports.py:7, "
            "app/sessions.py:7, app/stores.py:14, app/worker.py:5\n") in out


def test_an_engine_kept_on_an_object_is_reported_unsure():
    found = scan(FIXTURES / "engine_unsure")
    why = "(not certain: kept on an object (`self.engine`) in `Store.__init__`, and no engine was found that surely serves requests)"
    assert [(r, s, at) for r, s, at, _ in _pool_findings(found)] == [
        ("CFG005", "info", "shop/store.py:6"),
    ]  # no CFG006: a pool on SQLAlchemy's defaults is the drafted answer's fact, not a finding
    assert all(message.endswith(why) for *_, message in _pool_findings(found))


def test_flask_sqlalchemy_engine_takes_the_apps_configuration():
    """`db` is an instance of a subclass of the extension, re-exported; its options come from a settings
    class and from app.config in the factory; the tests' configuration (pre-ping on) is not the app's."""
    found = scan(FIXTURES / "flask_engine")
    assert [(e.call.target, e.call.name, e.serves) for e in engines(found.facts)] == [("db", "flask_sqlalchemy.SQLAlchemy", True)]
    pool = {f[0]: f for f in _pool_findings(found)}
    assert pool["CFG005"][1:3] == ("info", "board/ext/database.py:11")  # app.config sets SQLALCHEMY_POOL_RECYCLE
    assert "pool_recycle=1800 retires connections older than that" in pool["CFG005"][3]
    assert pool["CFG005"][3].endswith("(Flask-SQLAlchemy makes this engine: set it in SQLALCHEMY_ENGINE_OPTIONS)")
    assert "CFG006" not in pool  # pool_timeout left at its default is no finding; the drafted answer says it
    related = next(f for f in found.result.findings if f.rule_id == "CFG005").related
    assert [(r.location.path, r.location.start_line) for r in related] == [
        ("board/__init__.py", 9), ("board/settings/__init__.py", 5), ("board/settings/__init__.py", 6),
    ]


def test_options_set_in_code_by_a_flask_sqlalchemy_subclass_are_not_guessed():
    found = scan(FIXTURES / "flask_engine_hooks")
    assert engines(found.facts)[0].call.kwargs == {"**": "SQLAlchemy sets them in code"}
    assert _pool_findings(found) == []  # no claim on pre-ping or sizing (and no session state: no checkin finding)


def test_a_flask_app_on_sqlite_alone_has_no_server_to_ping(tmp_path):
    """SQLite is a file: no restart, failover or proxy drops a pooled connection. Where a server database is named
    too (its driver required), the engine's own URL, SQLite, leaves it not certain: info."""
    assert _pool_findings(scan(FIXTURES / "flask_engine_sqlite")) == []
    shutil.copytree(FIXTURES / "flask_engine_sqlite", tmp_path / "forum_pg")
    (tmp_path / "forum_pg" / "requirements.txt").write_text("flask-sqlalchemy\npsycopg2-binary\n")
    found = _pool_findings(scan(tmp_path / "forum_pg"))
    assert [f[:2] for f in found] == [("CFG005", "info")]
    assert "(not certain: the app's configuration names only SQLite (SQLALCHEMY_DATABASE_URI)" in found[0][3]


_FLASK_APP = {
    "forum/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    "forum/config.py": "import os\n\nSQLALCHEMY_DATABASE_URI = os.environ.get('DATABASE_URL', {default!r})\n",
}


def test_sqlite_by_default_and_a_server_by_choice_is_the_deployments_call(tmp_path):
    files = {**_FLASK_APP, "forum/config.py": _FLASK_APP["forum/config.py"].format(default="sqlite:////data/forum.db"),
             "requirements.txt": "psycopg2-binary\n"}
    (f,) = [f for f in found_in(tmp_path, files) if f.rule_id == "CFG005"]
    assert (f.severity.value, f.location.path, f.location.start_line) == ("info", "forum/extensions.py", 3)
    assert ("stale connections fail the first query after a database restart or network drop on PostgreSQL "
            "(requirements.txt:1); but the application's configuration also names SQLite (forum/config.py:3), where "
            "there is no server to restart: whether this pool ever meets one depends on the database a deployment "
            "picks") in f.message


def test_flask_sqlalchemy_recycles_mysql_connections_itself(tmp_path):
    files = {**_FLASK_APP, "forum/config.py": _FLASK_APP["forum/config.py"].format(default="mysql://forum@db/forum")}
    (f,) = [f for f in found_in(tmp_path, files) if f.rule_id == "CFG005"]
    assert f.severity.value == "info"
    assert ("has no `pool_pre_ping=True`: on MySQL (forum/config.py:3), Flask-SQLAlchemy sets pool_recycle=7200 "
            "itself, so MySQL's idle timeout (wait_timeout) is covered. A connection the database dropped") in f.message
    files["forum/config.py"] = _FLASK_APP["forum/config.py"].format(default="postgresql://forum@db/forum")
    (f,) = [f for f in found_in(tmp_path / "pg", files) if f.rule_id == "CFG005"]
    assert f.severity.value == "warning"  # a server, named alone: the pool meets its restarts


def test_sessions_bound_to_one_connection_opened_at_import_say_a_ping_would_not_check_it(tmp_path):
    """simplelogin: `connection = engine.connect()` at import and `sessionmaker(bind=connection)`: the pre-ping the
    finding asks for runs at checkout, which that connection never goes through again; the finding says so."""
    db = '''from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("postgresql://app@db/app")
connection = engine.connect()
Session = scoped_session(sessionmaker(bind=connection))
'''
    (f,) = found_in(tmp_path / "pinned", {"app/db.py": db}, "CFG005")
    assert "the sessions are bound to one connection opened at import (`connection = engine.connect()`, app/db.py:5)" in f.message
    (f,) = found_in(tmp_path / "pooled", {"app/db.py": db.replace("bind=connection", "bind=engine")}, "CFG005")
    assert "stale connections fail the first query" in f.message


def test_a_set_sent_once_where_the_engine_is_made_reaches_one_connection(tmp_path):
    """querybook (CFG004 judged wrong): `engine.execute("SET SESSION sql_mode=...")` right after create_engine is meant
    for the whole application but reaches the one connection the pool hands out then: a `connect` listener is the
    fix, not DISCARD ALL on checkin."""
    from tests.test_precision import found

    db = '''
from sqlalchemy import create_engine

_engine = None


def get_engine(url):
    global _engine
    if _engine is None:
        _engine = create_engine(url, pool_size=10, pool_pre_ping=True)
        _engine.execute("SET SESSION sql_mode='TRADITIONAL'")
    return _engine
'''
    (f,) = found(tmp_path, {"app/db.py": db, "app/main.py": "from app.db import get_engine\nENGINE = get_engine('postgresql://db')\n"},
                 "CFG004")
    assert f.anchor == "pool:set-once:sql_mode" and f.location.start_line == 11
    assert "runs once, in `get_engine` where the engine is made" in f.message and "DISCARD ALL" not in f.message
