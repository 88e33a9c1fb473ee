"""One decision of the project is one finding (issue 7, ironic and agenta at first meeting), and what the model
reader cannot evaluate is said as unknown: MOD002 on a library mixin's timestamp and on a DEFAULT one migration
step sets on many tables, index=/unique= computed in a mixin (PERF001), a backref named at run time."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

# -- MOD002: a library mixin's created_at is one finding, naming the library and the tables --------------------

_OSLO = """
from oslo_db.sqlalchemy import models
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base


class AppBase(models.TimestampMixin, models.ModelBase):
    pass


Base = declarative_base(cls=AppBase)


class Rack(Base):
    __tablename__ = "racks"
    id = Column(Integer, primary_key=True)


class Server(Base):
    __tablename__ = "servers"
    id = Column(Integer, primary_key=True)


class Disk(Base):
    __tablename__ = "disks"
    id = Column(Integer, primary_key=True)
"""


def test_a_library_mixins_timestamp_is_one_finding_listing_its_tables(tmp_path):
    """ironic (MOD002 x21 debatable): oslo.db's TimestampMixin.created_at was reported once per table, each a copy of
    the same observation under the same anchor; one finding now names the library's mixin and every table."""
    (f,) = found(tmp_path, {"app/models.py": _OSLO}, "MOD002")
    assert f.anchor == "class:TimestampMixin.created_at" and f.severity == Severity.INFO
    assert f.location.path == "app/models.py" and f.location.start_line == 14  # the first table's class
    assert "oslo_db.sqlalchemy.models.TimestampMixin.created_at (a library's mixin, on 3 table(s): racks, servers, disks)" \
        in f.message


# -- MOD002: a DEFAULT set by one migration step on many tables is one finding -------------------------------

_MEMBERS = HEADER + """
from datetime import timezone


class Org(Base):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), nullable=True)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), nullable=True)
"""

_CREATE = revision("""
op.create_table("orgs", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("created_at", sa.DateTime(timezone=True)))
op.create_table("teams", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("created_at", sa.DateTime(timezone=True)))
""")

_DEFAULT_LOOP = revision("""
for table in ("orgs", "teams"):
    op.alter_column(table, "created_at", server_default=sa.text("CURRENT_TIMESTAMP"))
""", rev="0002", down="0001")

_ENV = """
from alembic import context
from app.models import Base
target_metadata = Base.metadata
context.configure(target_metadata=target_metadata{options})
"""


def _drift(tmp_path, options: str = ""):
    files = {"app/models.py": _MEMBERS, "migrations/versions/0001_create.py": _CREATE,
             "migrations/versions/0002_defaults.py": _DEFAULT_LOOP, "migrations/env.py": _ENV.format(options=options)}
    return found(tmp_path, files, "MOD002")


def test_a_default_one_migration_step_sets_on_many_tables_is_one_finding(tmp_path):
    """agenta (MOD002 x9 debatable): one loop of one revision sets DEFAULT CURRENT_TIMESTAMP on every table; the models
    do not declare it. One finding at the first table's column (its anchor kept), the others related; env.py does
    not compare server defaults, so autogenerate is not said to lose it."""
    (f,) = _drift(tmp_path)
    assert f.anchor == "table:orgs.created_at" and f.severity == Severity.INFO
    assert f.message.startswith("2 columns (orgs.created_at, teams.created_at) have no server_default in the model, "
                                "but the migration gives them DEFAULT")
    assert "0002_defaults.py:8" in f.message and "no compare_server_default in env.py" in f.message
    assert [r.location.start_line for r in f.related] == [23]
    assert "table:teams.created_at" in " ".join(f.covers)


def test_where_env_compares_server_defaults_autogenerate_is_said_to_lose_it(tmp_path):
    (f,) = _drift(tmp_path, ", compare_server_default=True")
    assert "autogenerate and create_all (tests) lose them" in f.message


# -- MOD002: updated_at NULL on insert is the project's own way -------------------------------------------

_LIFECYCLE = HEADER + """
from datetime import timezone


class Lifecycle:
    updated_at = mapped_column(DateTime(timezone=True), nullable=True)


class Note(Lifecycle, Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Page(Base):
    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    updated_at = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc), nullable=True)
"""


def test_a_nullable_updated_at_is_left_alone_where_the_projects_own_mixin_leaves_it_null_on_insert(tmp_path):
    """agenta (MOD002 x9 debatable): the project's shared mixin declares updated_at with no default at all (NULL
    until the row is first updated); a table's own updated_at with a Python default is no missing server default."""
    assert found(tmp_path, {"app/models.py": _LIFECYCLE}, "MOD002") == []


def test_without_such_a_mixin_a_nullable_updated_at_filled_by_python_is_still_said(tmp_path):
    model = _LIFECYCLE.replace("class Note(Lifecycle, Base):", "class Note(Base):").replace(
        "    updated_at = mapped_column(DateTime(timezone=True), nullable=True)\n", "    pass\n", 1)
    (f,) = found(tmp_path, {"app/models.py": model}, "MOD002")
    assert f.anchor == "table:pages.updated_at" and f.severity == Severity.INFO



def test_a_nullable_updated_at_whose_python_default_is_none_fills_nothing(tmp_path):
    """FastAPI-boilerplate (MOD002 x4 judged wrong): `default=None` on a nullable updated_at is NULL on insert from
    the ORM as from any other writer, the intended "never updated"; nothing is filled in Python."""
    model = _LIFECYCLE.replace("class Note(Lifecycle, Base):", "class Note(Base):").replace(
        "    updated_at = mapped_column(DateTime(timezone=True), nullable=True)\n", "    pass\n", 1).replace(
        "default=lambda: datetime.now(timezone.utc)", "default=None")
    assert found(tmp_path, {"app/models.py": model}, "MOD002") == []


# -- PERF001: index=/unique= computed from the class in a mixin ---------------------------------------------

_FLAGGED = HEADER + """
from sqlalchemy.orm import declared_attr, relationship


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class AddressMixin:
    __address_unique__ = False

    @declared_attr
    def address_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("addresses.id", ondelete="CASCADE"),
                             unique=cls.__address_unique__, index=not cls.__address_unique__)


class Contact(AddressMixin, Base):
    __tablename__ = "contacts"
    __address_unique__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
"""


def test_an_index_a_mixin_computes_from_a_class_flag_is_never_said_to_be_missing(tmp_path):
    """funnel (PERF001 x2 wrong): `unique=cls.__email_unique__, index=not cls.__email_unique__` in a declared_attr
    gives every class an index or a unique constraint; dbreview does not evaluate it per class, so it claims nothing."""
    assert found(tmp_path, {"app/models.py": _FLAGGED}, "PERF001") == []


def test_a_constant_index_false_is_still_no_index(tmp_path):
    model = _FLAGGED.replace("unique=cls.__address_unique__, index=not cls.__address_unique__", "index=False")
    (f,) = found(tmp_path, {"app/models.py": model}, "PERF001")
    assert "is a foreign key with no index" in f.message


# -- PERF001: a backref whose name is built at run time ------------------------------------------------------

_RUNTIME_BACKREF = HEADER + """
from sqlalchemy.orm import relationship


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id", ondelete="CASCADE"))
    address = relationship(Address, backref="used_in_" + __tablename__)
"""


def test_a_backref_named_at_run_time_is_described_not_printed_as_none(tmp_path):
    """funnel: "the backref EmailAddress.None": the reader had no name for it. The message says whose backref it is
    and that what reads it cannot be looked for."""
    (f,) = found(tmp_path, {"app/models.py": _RUNTIME_BACKREF}, "PERF001")
    assert "None" not in f.message
    assert "the backref of Contact.address on Address (its name built at run time)" in f.message


_CORE_STAMPS = """
import sqlalchemy as sa
from datetime import datetime

metadata = sa.MetaData()
""" + "".join(f"""
{name} = sa.Table("{name}", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("created_at", sa.DateTime, default=lambda: datetime.utcnow()))
""" for name in ("zones", "records", "pools"))


def test_nullable_timestamps_filled_in_python_on_many_tables_are_one_finding(tmp_path):
    """designate (MOD002 x16 debatable): each Core table declares its own nullable created_at filled in Python: the
    project's way, said once."""
    (f,) = found(tmp_path, {"app/tables.py": _CORE_STAMPS}, "MOD002")
    assert f.message.startswith("3 timestamp columns have no server_default and are filled by the application (")


def test_a_sql_function_default_is_not_said_to_be_filled_in_python(tmp_path):
    """redash: `default=db.func.now()` is sent in SQLAlchemy's INSERT and evaluated by the database; "filled in
    Python" misdescribed it. It is still no DEFAULT in the table."""
    model = HEADER + """
class Query(Base):
    __tablename__ = "queries"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=func.now())
"""
    (f,) = found(tmp_path, {"app/models.py": model}, "MOD002")
    assert "in Python" not in f.message
    assert "filled by `func.now()`, which SQLAlchemy writes into its own INSERTs (no DEFAULT in the table)" in f.message


def test_a_bulk_insert_into_the_table_create_table_returned_is_an_outside_insert(tmp_path):
    """designate (MOD002 judged wrong): `pools = op.create_table("pools", ...)` then `op.bulk_insert(pools, [...])`
    without created_at stores NULL in it: that insert is named, not denied."""
    upgrade = '''
    pools = op.create_table("pools", sa.Column("id", sa.Integer, primary_key=True), sa.Column("created_at", sa.DateTime))
    op.bulk_insert(pools, [{"id": 1}])
    '''
    files = {"app/tables.py": _CORE_STAMPS, "migrations/versions/0001_a.py": revision(upgrade)}
    pools = [f for f in found(tmp_path, files, "MOD002") if f.anchor == "table:pools.created_at"]
    assert pools and "op.bulk_insert into pools at migrations/versions/0001_a.py:" in pools[0].message
    # rucio: the created table's column has a Python default, which SQLAlchemy applies to the bulk insert
    files["migrations/versions/0001_a.py"] = revision(upgrade.replace(
        'sa.Column("created_at", sa.DateTime)', 'sa.Column("created_at", sa.DateTime, default=datetime.utcnow)')).replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom datetime import datetime\n")
    assert not any("names its columns without" in f.message for f in found(tmp_path / "defaulted", files, "MOD002"))


def test_an_insert_whose_column_list_the_code_builds_is_not_said_to_leave_a_column_out(tmp_path):
    """notifications-api (MOD002 judged wrong): `insert into events ({columns}) SELECT {columns} FROM ...`, the list
    joined from a constant of the module that names created_at: dbreview does not read it, so it cannot say the
    insert leaves created_at out; a list written out without it still is."""
    from tests.test_precision import STAMPS

    archive = '''from sqlalchemy import text

COPIED = ["id", "created_at", "updated_at"]


def archive(session):
    columns = ", ".join(COPIED)
    session.execute(text(f"insert into events ({columns}) SELECT {columns} FROM events_archive"))
'''
    got = {f.anchor: f for f in found(tmp_path, {"app/models.py": STAMPS, "app/archive.py": archive}, "MOD002")}
    assert got["table:events.created_at"].severity is Severity.INFO
    written = archive.replace("({columns}) SELECT {columns}", "(id, updated_at) SELECT id, updated_at")
    got = {f.anchor: f for f in found(tmp_path / "written", {"app/models.py": STAMPS, "app/archive.py": written}, "MOD002")}
    assert "an INSERT into events at app/archive.py:8 names its columns without created_at" in got["table:events.created_at"].message
