"""Migration findings judged wrong on code nobody tuned them for (issue 7, 2026-11-28), each class rebuilt as a
small repository of our own: what the finding must say, or that it is not there."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found, revision

ORDERS = revision('op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))',
                  'op.drop_table("orders")')


def test_a_drop_with_if_exists_of_what_no_revision_creates_is_no_missing_object(tmp_path):
    """MIG017 said a fresh upgrade fails at `op.drop_table("x", if_exists=True)`: that is DROP TABLE IF EXISTS, a
    no-op where the table is missing; likewise a column dropped with if_exists. Without it the finding stays."""
    drops = 'op.drop_table("import_scratch", if_exists=True)\nop.drop_column("orders", "legacy", if_exists=True)'
    files = {"migrations/versions/0001_a.py": ORDERS,
             "migrations/versions/0002_b.py": revision(drops, rev="0002", down="0001")}
    assert found(tmp_path, files, "MIG017") == []
    files["migrations/versions/0002_b.py"] = revision(drops.replace(", if_exists=True", ""), rev="0002", down="0001")
    got = sorted((f.location.start_line, f.severity, f.message.split(",")[0]) for f in found(tmp_path / "plain", files, "MIG017"))
    assert got == [(7, Severity.WARNING, "revision 0002 changes table import_scratch"),
                   (8, Severity.WARNING, "revision 0002 changes column orders.legacy")]


def test_ddl_on_a_table_made_in_the_same_revision_holds_no_lock_a_later_delete_waits_behind(tmp_path):
    """MIG013 said the locks of a create_index on a table created earlier in the same revision are held while rows
    of an existing table are deleted: nobody else can see that table before the commit. An index on an existing
    table before the DELETE is still a lock held."""
    new_table = ('op.create_table("clients", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))\n'
                 'op.create_index("ix_clients_name", "clients", ["name"])\n')
    delete = 'op.execute("DELETE FROM orders WHERE note IS NULL")'
    files = {"migrations/versions/0001_a.py": ORDERS,
             "migrations/versions/0002_b.py": revision(new_table + delete, rev="0002", down="0001")}
    assert found(tmp_path, files, "MIG013") == []
    files["migrations/versions/0002_b.py"] = revision(
        new_table + 'op.create_index("ix_orders_note", "orders", ["note"])\n' + delete, rev="0002", down="0001")
    (f,) = found(tmp_path / "existing", files, "MIG013")
    assert (f.location.start_line, f.severity) == (10, Severity.INFO)
    assert "the locks its create_index on line 9 took on orders are held until every row is done" in f.message


GUARDED_ADDS = '''
inspector = sa.inspect(op.get_bind())
existing = {c["name"] for c in inspector.get_columns("orders")}
wanted = [("tags", sa.Column("tags", sa.JSON())), ("label", sa.Column("label", sa.Text()))]
missing = [column for name, column in wanted if name not in existing]
if missing:
    with op.batch_alter_table("orders") as batch_op:
        for column in missing:
            batch_op.add_column(column)
'''


def test_columns_added_in_a_loop_over_what_the_inspector_did_not_find_converge(tmp_path):
    """MIG018 said a revision that adds, in a loop, only the columns the inspector did not find leaves databases in
    different schemas: every database ends with them. A loop over every column under the same `if` still differs."""
    files = {"migrations/versions/0001_a.py": ORDERS,
             "migrations/versions/0002_b.py": revision(GUARDED_ADDS, rev="0002", down="0001")}
    assert found(tmp_path, files, "MIG018") == []
    files["migrations/versions/0002_b.py"] = revision(GUARDED_ADDS.replace("for column in missing", "for _, column in wanted"),
                                                      rev="0002", down="0001")
    (f,) = found(tmp_path / "every", files, "MIG018")
    assert (f.location.start_line, f.severity) == (14, Severity.INFO)
    assert f.message.startswith("revision 0002 decides 2 steps by what the inspector finds in the database (first: add_column orders)")


HELPER = '''
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


def varchar_enum(enum, default=None, max_length=64, nullable=False):
    return mapped_column(sa.Enum(enum, native_enum=False, length=max_length), default=default, nullable=nullable)
'''

KIND_MODEL = '''
import enum
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from app.columns import varchar_enum


class Base(DeclarativeBase):
    pass


class Kind(enum.Enum):
    A = "a"


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind = varchar_enum(Kind)
'''


def test_a_column_a_model_gets_from_a_helper_of_its_own_is_mapped(tmp_path):
    """MIG006 said events.kind, NOT NULL in the migrations, is not mapped by the model, whose `kind = varchar_enum(Kind)`
    calls a function of the project that returns mapped_column(...): that column is read as if written there. A model
    without the attribute is still found."""
    files = {"app/__init__.py": "", "app/columns.py": HELPER, "app/models.py": KIND_MODEL,
             "migrations/versions/0001_a.py": revision(
                 'op.create_table("events", sa.Column("id", sa.Integer, primary_key=True), '
                 'sa.Column("kind", sa.String(64), nullable=False))', 'op.drop_table("events")')}
    assert [f.message for f in found(tmp_path, files, "MIG006")] == []
    files["app/models.py"] = KIND_MODEL.replace("    kind = varchar_enum(Kind)\n", "")
    (f,) = found(tmp_path / "unmapped", files, "MIG006")
    assert f.message.startswith("events.kind is NOT NULL without a default in the migrations")
    assert "but the model does not map it" in f.message


def test_models_on_a_base_of_a_library_dbreview_cannot_read_are_not_said_to_lack_a_naming_convention(tmp_path):
    """MIG005 said 'no MetaData naming_convention' of models whose only base is a library's (sqlalchemy-helpers'
    Base makes its MetaData with one): dbreview cannot read it, so it claims nothing. A base of the project's own
    without one is still found."""
    library = "from sqlalchemy import Column, Integer\nfrom helpers_lib import Base\n" \
              "class Note(Base):\n    __tablename__ = 'notes'\n    id = Column(Integer, primary_key=True)\n" \
              "    code = Column(Integer, unique=True)\n"
    files = {"app/__init__.py": "", "app/models.py": library,
             "migrations/versions/0001_a.py": revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))')}
    assert found(tmp_path, files, "MIG005") == []
    files["app/models.py"] = library.replace("from helpers_lib import Base\n", "from sqlalchemy.orm import DeclarativeBase\n"
                                             "class Base(DeclarativeBase):\n    pass\n")
    (f,) = found(tmp_path / "own", files, "MIG005")
    assert (f.location.path, f.location.start_line) == ("app/models.py", 3)
    assert f.message.startswith("no MetaData naming_convention")


def test_a_column_copied_by_a_sqlalchemy_update_before_its_drop_is_not_said_lost(tmp_path):
    """MIG012 said 'its data is gone for good' of a column the revision copies first through
    conn.execute(t.update().values(new=row.old)); a select sent the same way changes nothing and is no operation."""
    copy = '''
op.add_column("orders", sa.Column("comment", sa.Text))
orders = sa.table("orders", sa.column("id"), sa.column("note"), sa.column("comment"))
conn = op.get_bind()
for row in conn.execute(sa.select(orders.c.id, orders.c.note)):
    conn.execute(orders.update().where(orders.c.id == row.id).values(comment=row.note))
op.drop_column("orders", "note")
'''
    files = {"migrations/versions/0001_a.py": ORDERS, "migrations/versions/0002_b.py": revision(copy, rev="0002", down="0001")}
    (f,) = found(tmp_path, files, "MIG012")
    assert (f.location.start_line, f.severity) == (12, Severity.INFO)
    assert f.message.endswith("its data was copied first (UPDATE on line 11)")
    (empty,) = found(tmp_path, files, "MIG001")
    assert "its 3 operation(s)" in empty.message
