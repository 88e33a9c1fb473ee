"""Layout gaps on backends nobody tuned dbreview for (issue 7): an engine made by the app's async factory
(`engine = await make_engine(...)`) and kept in the app's state serves it; a pytest plugin's package is test
code; a mixin that builds a mapped class for each model that inherits it (`type(f"{cls.__name__}Note", ...)` in
a declared_attr) gives each its table, and one whose names dbreview cannot build is said to be not followed.
Small projects of our own."""

from __future__ import annotations

from analyzers.engine import scan
from tests.test_precision import _write

FACTORY = '''
from sqlalchemy.ext.asyncio import create_async_engine


async def engine_when_ready(url):
    engine = create_async_engine(url, pool_size=10)
    await check(engine)
    return engine
'''

STARTUP = '''
from sqlalchemy.ext.asyncio import AsyncEngine

from shop.db_utils import engine_when_ready


async def connect(app, url):
    engine = await engine_when_ready(url)
    app.state.engine = engine


async def lifespan(app, url):
    async_engine: AsyncEngine = await engine_when_ready(url)
    yield {"engine": async_engine}
'''

PLUGIN = '''
from sqlalchemy import create_engine


def postgres_engine(dsn):
    return create_engine(dsn)
'''


def test_an_engine_awaited_from_the_apps_factory_and_kept_serves_it_a_pytest_plugins_does_not(tmp_path):
    from analyzers.facts.engines import engines, serving_engines
    from analyzers.facts.paths import is_test_path

    assert is_test_path("packages/pytest-shop/src/pytest_shop/postgres.py") and is_test_path("lib/pytest_plugin.py")
    assert not is_test_path("app/pytests.py") and not is_test_path("app/mypytest_helpers/db.py")
    root = _write(tmp_path, {"shop/db_utils.py": FACTORY, "shop/startup.py": STARTUP,
                             "packages/pytest-shop/src/pytest_shop/postgres.py": PLUGIN})
    facts = scan(root).facts
    verdicts = {(e.call.span.path, e.call.span.start, e.call.target): e.verdict for e in engines(facts)}
    assert verdicts == {
        ("shop/startup.py", 8, "engine"): "serves the application: kept in `engine` in `connect`",
        ("shop/startup.py", 13, "async_engine"): "serves the application: kept in `async_engine` in `lifespan`",
    }  # the plugin's engine is a test's: not the application's set-up
    served, sure = serving_engines(facts)
    assert sure and sorted(c.span.start for c in served) == [8, 13]


NOTES = '''
from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Note:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class HasNotes:
    @declared_attr
    def notes(cls):
        note_cls = type(
            f"{cls.__name__}Note",
            (Note, Base),
            {
                "__tablename__": f"{cls.__name__.lower()}_notes",
                "parent_id": mapped_column(ForeignKey(f"{cls.__tablename__}.id"), index=True),
                "parent": relationship(cls, back_populates="notes"),
            },
        )
        return relationship(note_cls, back_populates="parent")


class HasTags:
    @declared_attr
    def tags(cls):
        tag_cls = type(f"{cls.__name__}Tag", (Note, Base), {"__tablename__": cls.kind + "_tags"})
        return relationship(tag_cls)


class Account(HasNotes, Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)


class Invoice(HasNotes, HasTags, Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
'''


def test_a_mixin_that_builds_a_class_per_model_gives_each_its_table_and_one_it_cannot_name_is_said(tmp_path):
    found = scan(_write(tmp_path, {"app/models.py": NOTES}))
    tables = found.facts.tables
    assert sorted(tables) == ["account_notes", "accounts", "invoice_notes", "invoices"]
    notes = tables["invoice_notes"]
    assert notes.class_name == "InvoiceNote" and sorted(notes.columns) == ["body", "id", "parent_id"]
    assert [fk.target for fk in notes.columns["parent_id"].foreign_keys] == ["invoices.id"]
    assert notes.span.start == 18 and [r.target for r in notes.relationships] == ["Invoice"]
    from tui.cli import explain_layout

    assert ("  not followed: app/models.py:33 a class built by type(...) in HasTags.tags: the tables it makes are not "
            "known") in explain_layout(found).splitlines()


def test_a_sort_by_a_named_attribute_of_a_class_that_maps_no_table_is_said_without_failing(tmp_path):
    """osparc: CFG009 failed (AttributeError) on a sort whose class is no model dbreview found."""
    code = '''
from sqlalchemy import select

from app.listing import Listing


def listing(db, sort):
    return db.scalars(select(Listing).order_by(getattr(Listing, sort)))
'''
    result = scan(_write(tmp_path, {"app/routes.py": code, "app/listing.py": "class Listing:\n    pass\n"})).result
    assert not [e for e in result.errors if "CFG009" in str(e)]
    (sort,) = [f for f in result.findings if f.rule_id == "CFG009"]
    assert "sorts Listing by the attribute named by `sort`, and where that name comes from was not followed" in sort.message


COMMON = '''
import sqlalchemy as sa


def column_modified_by(*, users_table: sa.Table, required: bool = False) -> sa.Column:
    return sa.Column("modified_by", sa.Integer, sa.ForeignKey(users_table.c.id, ondelete="SET NULL"), nullable=not required)
'''

TABLES = '''
import sqlalchemy as sa

from app.common import column_modified_by
from app.elsewhere import mystery_column

metadata = sa.MetaData()

users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))


def _user_id_column(fk_name: str) -> sa.Column:
    return sa.Column("user_id", sa.BigInteger, sa.ForeignKey(users.c.id, name=fk_name), nullable=False)


preferences = sa.Table(
    "preferences",
    metadata,
    _user_id_column("fk_preferences_user_id"),
    sa.Column("name", sa.String, nullable=False),
    column_modified_by(users_table=users, required=True),
)

notes = sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True), mystery_column())
'''


def test_columns_a_table_gets_from_the_targets_helper_functions_are_read_and_one_it_cannot_follow_is_said(tmp_path):
    """osparc: `_user_id_column(...)` and `column_modified_by_user(...)` in sa.Table(...) were not read, so the
    migrations' NOT NULL columns were said to be unmapped (7 wrong MIG006 warnings)."""
    found = scan(_write(tmp_path, {"app/common.py": COMMON, "app/tables.py": TABLES}))
    tables = found.facts.tables
    prefs = tables["preferences"]
    assert sorted(prefs.columns) == ["modified_by", "name", "user_id"] and prefs.unknown_bases == ()
    user_id, modified_by = prefs.columns["user_id"], prefs.columns["modified_by"]
    assert [fk.target for fk in user_id.foreign_keys] == ["users.id"] and user_id.nullable is False  # as if written there
    assert user_id.span.start == 19  # where the table calls the helper
    assert [(fk.target, fk.ondelete) for fk in modified_by.foreign_keys] == [("users.id", "SET NULL")]
    assert modified_by.nullable is False  # `nullable=not required`, required=True
    assert tables["notes"].unknown_bases == ("mystery_column()",)  # not a function of the target


def test_geoalchemy2s_alembic_operations_change_the_schema_as_alembics_own_do(tmp_path):
    """fittrackee: `batch_op.add_geospatial_column(sa.Column("geom", Geometry(...)))` was not read, so the model's
    column was said to be missing from the migrated database (2 wrong MIG006 warnings)."""
    from tests.test_precision import HEADER, found, revision

    model = HEADER + '''
from geoalchemy2 import Geometry


class Segment(Base):
    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    geom = mapped_column(Geometry(geometry_type="LINESTRING", srid=4326), nullable=True)
'''
    first = revision("op.create_table('segments', sa.Column('id', sa.Integer, primary_key=True))", rev="0001")
    second = revision('''
from geoalchemy2 import Geometry
with op.batch_alter_table("segments") as batch_op:
    batch_op.add_geospatial_column(sa.Column("geom", Geometry(geometry_type="LINESTRING", srid=4326), nullable=True))
    batch_op.create_geospatial_index("idx_segments_geom", ["geom"], unique=False, postgresql_using="gist")
''', "with op.batch_alter_table('segments') as batch_op:\n    batch_op.drop_geospatial_index('idx_segments_geom', 'geom')\n"
     "    batch_op.drop_geospatial_column('geom')", rev="0002", down="0001")
    files = {"app/models.py": model, "migrations/versions/0001_a.py": first, "migrations/versions/0002_b.py": second}
    assert found(tmp_path, files, "MIG006") == []
    scanned = scan(tmp_path / "repo").facts
    ops = [op.name for r in scanned.revisions if r.revision == "0002" for op in r.upgrade]
    assert ops == ["add_column", "create_index"]


def test_a_sort_by_a_named_column_of_a_core_table_names_the_table_once_for_both_directions(tmp_path):
    code = '''
import sqlalchemy as sa

metadata = sa.MetaData()
conversations = sa.Table("conversations", metadata, sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("password_hash", sa.String))


def list_conversations(conn, field, ascending):
    if ascending:
        query = sa.select(conversations).order_by(sa.asc(getattr(conversations.c, field)))
    else:
        query = sa.select(conversations).order_by(sa.desc(getattr(conversations.c, field)))
    return conn.execute(query)
'''
    (sort,) = [f for f in scan(_write(tmp_path, {"app/repository.py": code})).result.findings if f.rule_id == "CFG009"]
    assert sort.message.startswith("list_conversations (app/repository.py:11) sorts conversations by the attribute named by `field`")
    assert [(r.location.start_line, r.note) for r in sort.related][-1:] == [(13, "sorted by `field` again")]  # one finding
    # judge17 (osparc): a Table's `.c` holds only columns; with no secret among them, an unfollowed name can only raise
    plain = code.replace(',\n                         sa.Column("password_hash", sa.String))', ")")
    assert "password_hash" not in plain
    assert [f for f in scan(_write(tmp_path / "plain", {"app/repository.py": plain})).result.findings if f.rule_id == "CFG009"] == []
