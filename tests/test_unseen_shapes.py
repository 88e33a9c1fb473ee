"""Shapes the tryout's unseen backends use (issue 7): a declarative class whose table is `__table__ =
Table(...)`, classes mapped by a registry's decorators, tables built in a loop, example plugin packages that
are not the application, an engine bound to the sessions by the app's own function, a `drop_column` given a
Column. Small projects of our own, with what is found pinned."""

from __future__ import annotations

from analyzers.engine import scan
from analyzers.facts.paths import is_test_path
from tests.test_precision import _write, found, revision

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, Table, Text
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)


class Event(Base):
    __table__ = Table(
        "events",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("account_id", ForeignKey("accounts.id")),
        Column("body", Text),
    )
    account = relationship(Account)


for kind in ("user", "group"):
    table = Table(f"{kind}_tags", Base.metadata, Column(f"{kind}_id", ForeignKey(f"{kind}s.id"), primary_key=True))


def load_kinds():
    return ["a"]


for kind in load_kinds():
    Table(f"{kind}_extra", Base.metadata, Column("id", Integer, primary_key=True))
'''

REGISTRY = '''
from sqlalchemy import MetaData, orm

metadata = MetaData()
registry = orm.registry(metadata=metadata)
'''

FILES = '''
from sqlalchemy.orm import Mapped, mapped_column

from app.registry import registry
from app.cache import cache


@registry.mapped_as_dataclass
class StoredFile:
    __tablename__ = "stored_files"
    id: Mapped[str] = mapped_column(primary_key=True)


@registry.mapped
class Owner:
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)


@cache.mapped
class Cached:
    __tablename__ = "not_a_model"
    id: Mapped[int] = mapped_column(primary_key=True)
'''

CACHE = '''
class Cache:
    def mapped(self, cls):
        return cls


cache = Cache()
'''


def _scan(tmp_path):
    return scan(_write(tmp_path, {"app/__init__.py": "", "app/models.py": MODELS, "app/registry.py": REGISTRY,
                                  "app/files.py": FILES, "app/cache.py": CACHE}))


def test_table_attribute_registry_decorators_and_loops_over_constants_are_models(tmp_path):
    facts = _scan(tmp_path).facts
    tables = {name: t.class_name for name, t in facts.tables.items()}
    assert tables == {"accounts": "Account", "events": "Event", "user_tags": None, "group_tags": None,
                      "stored_files": "StoredFile", "owners": "Owner"}  # no `a_extra`, no `not_a_model`
    events = facts.tables["events"]
    assert set(events.columns) == {"id", "account_id", "body"} and [r.attr for r in events.relationships] == ["account"]
    assert set(facts.tables["group_tags"].columns) == {"group_id"}
    assert facts.tables["group_tags"].columns["group_id"].foreign_keys[0].target == "groups.id"


def test_a_loop_over_what_cannot_be_followed_is_named_not_guessed(tmp_path):
    found = _scan(tmp_path)
    (models,) = [m for m in found.facts.modules if m.path == "app/models.py"]
    assert models.unfollowed_tables == [(33, "Table(f'{kind}_extra', ...) built in a loop over `load_kinds()`")]
    from tui.cli import explain_layout

    assert ("  not followed: app/models.py:33 Table(f'{kind}_extra', ...) built in a loop over `load_kinds()`: "
            "the tables it makes are not known") in explain_layout(found).splitlines()


def test_example_plugin_packages_are_not_the_application(tmp_path):
    assert is_test_path("ckanext/example_iauth/plugin.py") and is_test_path("plugins/sqlite_example/backend.py")
    assert is_test_path("app/example/models.py") and is_test_path("backend/cron-examples/job.py")
    assert is_test_path("pkg/db/sql/dummy/schema.py") and is_test_path("app/drivers/noop_driver/driver.py")  # stand-ins
    assert not is_test_path("app/exampleservice/models.py") and not is_test_path("app/examples_of_use.py")
    code = '''
import sqlalchemy as sa


def drop(conn, name):
    conn.execute(sa.text(f"DROP TABLE {name}"))
'''
    result = scan(_write(tmp_path, {"ext/example_sqlite/backend.py": code})).result
    assert [f for f in result.findings if f.rule_id == "CFG008"] == []


def test_an_engine_handed_to_the_apps_function_that_binds_its_session_factory_serves_the_app(tmp_path):
    """`engine = engine_from_config(...)` then `model.init_model(engine)`, which does
    `Session.configure(bind=engine)` on a session factory made at import: the engine serves the sessions."""
    from analyzers.facts.engines import engines

    meta = '''
from sqlalchemy import orm

Session = orm.scoped_session(orm.sessionmaker())
'''
    init = '''
from app import meta


def init_model(engine):
    meta.Session.configure(bind=engine)


def init_cache(engine):
    cache.configure(bind=engine)
'''
    environment = '''
from sqlalchemy import engine_from_config

import app as model


def load(config):
    engine = engine_from_config(dict(config))
    model.init_model(engine)


def load_other(config):
    engine = engine_from_config(dict(config), prefix="other.")
    model.init_cache(engine)
'''
    found = scan(_write(tmp_path, {"app/__init__.py": init, "app/meta.py": meta, "app/environment.py": environment}))
    verdicts = {e.call.span.start: e.verdict for e in engines(found.facts)}
    assert verdicts == {
        8: "serves the application: handed to `init_model` (app/__init__.py), which binds it to the session "
           "factory `Session` made at import",
        13: "cannot tell: handed to another call in `load_other`",  # `cache` is no session factory it can see
    }


def test_an_engine_made_and_handed_on_as_the_application_starts_does_not_serve_it(tmp_path):
    """Hyperion (CFG005 judged wrong): `sync_engine = get_sync_db_engine(settings)` in `init_db`, handed to the
    migrations and the seeding there and dropped: a start-up pool cannot hold connections gone stale."""
    from analyzers.facts.engines import engines

    setup = '''
from sqlalchemy import create_engine


def init_db(settings):
    engine = create_engine(settings.url)
    run_migrations(engine)
    seed_groups(engine)
'''
    found = scan(_write(tmp_path, {"app/__init__.py": "", "app/setup.py": setup}))
    assert [e.verdict for e in engines(found.facts)] == [
        "not the application's: used as the application starts, in `init_db`, and not kept"]


def test_drop_column_given_a_column_object_is_said_to_be_malformed(tmp_path):
    upgrade = """op.add_column("groups", sa.Column("properties", sa.Text()))"""
    downgrade = """op.drop_column("groups", sa.Column("properties"))"""
    (f,) = found(tmp_path, {"migrations/versions/0001_props.py": revision(upgrade, downgrade)}, "MIG002")
    # said as a downgrade that cannot run (a warning), not as "does not drop it (not certain)" (mig9)
    assert f.severity.value == "warning" and "not certain" not in f.message
    assert ("adds groups.properties, and its downgrade's op.drop_column at line 9 gives `sa.Column('properties')` "
            "where Alembic wants the column's name: Alembic fails on that call, so the downgrade cannot run") in f.message


IMPERATIVE = '''
from passlib.hash import pbkdf2_sha512
from sqlalchemy import Column, Integer, MetaData, Table, UnicodeText
from sqlalchemy.orm import registry, synonym

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
account_table = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("password", UnicodeText),
)


class Account:
    def _set_password(self, value):
        self._password = pbkdf2_sha512.hash(value)

    def _get_password(self):
        return self._password

    password = property(_get_password, _set_password)


mapper_registry.map_imperatively(Account, account_table, properties={"password": synonym("_password", map_column=True)})
'''


def test_a_table_mapped_imperatively_takes_its_class_and_a_setter_that_hashes_is_a_hashed_write(tmp_path):
    found_scan = scan(_write(tmp_path, {"app/models.py": IMPERATIVE}))
    assert found_scan.facts.tables["account"].class_name == "Account"
    assert [f for f in found_scan.result.findings if f.rule_id == "MOD004"] == []
    plain = IMPERATIVE.replace("pbkdf2_sha512.hash(value)", "value")
    (f,) = found(tmp_path / "plain", {"app/models.py": plain}, "MOD004")
    assert f.anchor == "table:account.password"


def test_a_batch_drop_column_given_the_table_too_is_said_to_fail(tmp_path):
    """keylime and nbgrader: `batch_op.drop_column("groups", "properties")` in a downgrade; batch operations take the
    column only, so the call raises TypeError: the downgrade cannot run (not "does not drop it")."""
    upgrade = """op.add_column("groups", sa.Column("properties", sa.Text()))"""
    downgrade = """with op.batch_alter_table("groups") as batch_op:\n    batch_op.drop_column("groups", "properties")"""
    (f,) = found(tmp_path, {"migrations/versions/0001_props.py": revision(upgrade, downgrade)}, "MIG002")
    assert f.severity.value == "warning" and "not certain" not in f.message
    assert ("adds groups.properties, and its downgrade's batch_op.drop_column at line 10 is given the batch's table "
            "before the column: a batch operation takes the column only, so Alembic raises TypeError") in f.message


def test_core_tables_a_class_holds_as_attributes_are_tables_with_the_indexes_its_body_builds(tmp_path):
    """`class Model: jobs = util.Table("jobs", metadata, ...)` (a project's wrapper of sa.Table) and
    `sa.Index("ix", jobs.c.owner_id, unique=True)` in the same body: the tables are the schema, each with its index."""
    model = '''
import sqlalchemy as sa
from app import util


class Model:
    metadata = sa.MetaData()

    owners = util.Table("owners", metadata, sa.Column("id", sa.Integer, primary_key=True))
    jobs = util.Table(
        "jobs", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"), nullable=False),
    )
    claims = util.Table("claims", metadata, sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False))

    sa.Index("jobs_owner", jobs.c.owner_id)
    sa.Index("claims_job", claims.c.job_id, unique=True)
'''
    util = "import sqlalchemy as sa\n\ndef Table(*args, **kwargs):\n    return sa.Table(*args, **kwargs)\n"
    result = scan(_write(tmp_path, {"app/model.py": model, "app/util.py": util}))
    tables = result.facts.tables
    assert set(tables) == {"owners", "jobs", "claims"}
    assert [(i.name, i.columns, i.unique) for i in tables["claims"].indexes] == [("claims_job", ("job_id",), True)]
    findings = result.result.findings
    assert not [f for f in findings if f.rule_id == "PERF001"]  # both keys indexed
    assert not [f for f in findings if f.rule_id == "INT014" and "claims" in f.message]  # a unique key
    unindexed = model.replace('    sa.Index("jobs_owner", jobs.c.owner_id)\n', "")
    (f,) = [f for f in found(tmp_path / "unindexed", {"app/model.py": unindexed, "app/util.py": util}) if f.rule_id == "PERF001"]
    assert ("jobs is a Core table that class Model holds as an attribute, and dbreview does not follow the queries made "
            "through its instances") in f.message  # not "no query filters on it": its queries are not read
