"""Values that can only be one of a fixed set are no injection source (issue 7): a sort column picked by an
enum-typed attribute of a GraphQL or pydantic input, declared in another module (CFG009)."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision
from tests.test_secrets_and_time import SHOP

SORTS = """
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Optional


class CustomerColumn(Enum):
    name = "name"
    id = "id"


class Direction(str, Enum):
    asc = "asc"
    desc = "desc"


@dataclass
class CustomerSort:
    col: CustomerColumn
    dir: Direction


@dataclass
class PickedSort:
    col: Optional[Literal["name", "id"]]


@dataclass
class LooseSort:
    col: str
"""

SERVICE = """
from typing import Optional

from sqlalchemy import select

from app.models import Customer
from app.sorts import CustomerColumn, CustomerSort, LooseSort, PickedSort


def by_enum_attribute(db, sort: Optional[CustomerSort] = None):
    column = getattr(Customer, sort.col.value)
    return db.scalars(select(Customer).order_by(column))


def by_literal_attribute(db, sort: PickedSort | None):
    return db.scalars(select(Customer).order_by(getattr(Customer, sort.col)))


def by_enum(db, order: CustomerColumn):
    return db.scalars(select(Customer).order_by(getattr(Customer, order)))


def by_free_text(db, sort: LooseSort):
    return db.scalars(select(Customer).order_by(getattr(Customer, sort.col)))


class LocalSort:
    col: CustomerColumn


def by_local_class(db, sort: LocalSort):
    return db.scalars(select(Customer).order_by(getattr(Customer, sort.col.name)))
"""


def test_a_sort_column_from_an_enum_or_literal_attribute_of_another_modules_class_is_no_finding(tmp_path):
    """phoenix (`sort.col.value` of a strawberry input whose `col` is a GraphQL enum), skyvern (a parameter typed
    with a StrEnum): the name is one of a fixed set. A `str` attribute is still followed and said."""
    files = {"app/models.py": SHOP, "app/sorts.py": SORTS, "app/service.py": SERVICE}
    (f,) = found(tmp_path, files, "CFG009")
    assert f.anchor == "sort:app/service.py:by_free_text:sort.col" and f.severity == Severity.INFO
    assert f.location.start_line == 24
    assert "where that name comes from was not followed (`sort` is a parameter of `by_free_text`" in f.message


CATALOG = """
from sqlalchemy import text

from app import models

# the schema that holds the application's tables: the one where its first model's table is
_IN_OUR_SCHEMA = f"WHERE c.oid = to_regclass('{models.Customer.__tablename__}')"


def table_sizes(conn):
    return conn.execute(text(f"SELECT c.relname FROM pg_class AS c {_IN_OUR_SCHEMA}")).all()


def shelf_rows(conn):
    return conn.execute(text(f"SELECT count(*) FROM {models.Shelf.__table__.name}")).scalar()


def by_label(conn, label):
    return conn.execute(text(f"SELECT * FROM shelves WHERE label = '{label}'")).all()
"""


def test_a_models_table_name_spliced_into_sql_is_a_constant_identifier(tmp_path):
    """phoenix: `models.Project.__tablename__` (the model reached through its module) and `Model.__table__.name`
    are names the code declares, not values to bind; a parameter beside them is still said."""
    (f,) = found(tmp_path, {"app/models.py": SHOP, "app/catalog.py": CATALOG}, "CFG008")
    assert f.anchor == "sql:by_label:label" and f.location.start_line == 19
    assert f.severity == Severity.INFO and "`label` is a value" in f.message and "no call of by_label" in f.message


POOLED = '''
from sqlalchemy import create_engine, text

engine = create_engine("postgresql://app@db/app", pool_size=5, pool_pre_ping=True)


def report(session):
    session.execute(text("SET TRANSACTION READ ONLY"))
    session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    return session.execute(text("SELECT count(*) FROM items")).scalar()


def bulk_import(session, rows):
    session.execute(text("SET session_replication_role = 'replica'"))
    try:
        session.execute(text("INSERT INTO items SELECT * FROM staged"))
    finally:
        session.execute(text("SET session_replication_role = 'origin'"))
'''


def test_transaction_scoped_settings_and_one_set_back_in_finally_leave_nothing_on_the_pooled_connection(tmp_path):
    """phoenix: SET TRANSACTION READ ONLY ends with the transaction, as SET LOCAL does; timesketch: a setting its
    function sets back in a `finally` goes back to the pool as it came. A SET left as it is still is a warning."""
    assert found(tmp_path / "a", {"app/db.py": POOLED}, "CFG004") == []
    left = POOLED.replace("    finally:\n        session.execute(text(\"SET session_replication_role = 'origin'\"))\n",
                          "    except Exception:\n        raise\n")
    (f,) = found(tmp_path / "b", {"app/db.py": left}, "CFG004")
    assert f.anchor == "pool:checkin" and f.severity == Severity.WARNING
    assert "(app/db.py:14: `SET session_replication_role`)" in f.message


USAGE = HEADER.replace("from sqlalchemy import DateTime", "from sqlalchemy import DateTime, Float") + """
class ModelCall(Base):
    __tablename__ = "model_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    total_cost: Mapped[float] = mapped_column(Float)
    total_tokens: Mapped[float] = mapped_column(Float)
    cost_per_token: Mapped[float] = mapped_column(Float)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    discount_percent: Mapped[float] = mapped_column(Float)


class Metric(Base):
    __tablename__ = "metrics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nb_total_bounced_last_24h: Mapped[float] = mapped_column(Float)  # a number of emails ("nb"), as cnt_ would be
    total_area_sqkm: Mapped[float] = mapped_column(Float)  # a measure that a money word qualifies
"""


def test_a_token_count_is_no_money_and_a_model_usage_cost_beside_tokens_is_info(tmp_path):
    """phoenix: span_costs.total_tokens is a count a money word qualifies; total_cost and cost_per_token beside
    token counts may be estimates of model usage (info, saying so); an invoice's amount stays a warning; a number
    of things (`nb_total_...`, simplelogin) or a measure (`total_area_sqkm`, drone-tm) is no money."""
    findings = {f.anchor: f for f in found(tmp_path, {"app/models.py": USAGE}, "BIL001")}
    assert sorted(findings) == ["table:invoices.amount", "table:model_calls.cost_per_token", "table:model_calls.total_cost"]
    assert findings["table:invoices.amount"].severity == Severity.WARNING
    cost = findings["table:model_calls.total_cost"]
    assert cost.severity == Severity.INFO and cost.location.start_line == 14
    assert "model_calls also counts tokens (model_calls.total_tokens)" in cost.message and "estimate" in cost.message


def test_a_sort_looked_up_inside_a_try_that_catches_attribute_error_does_not_say_it_raises(tmp_path):
    """fief: `try: field = getattr(self.model, name) ... except AttributeError: pass` skips a bad name."""
    repository = """
from sqlalchemy import select


class Repository:
    model = None

    def orderize(self, statement, ordering):
        for name, descending in ordering:
            try:
                field = getattr(self.model, name)
                statement = statement.order_by(field.desc() if descending else field.asc())
            except AttributeError:
                pass
        return statement
"""
    (f,) = found(tmp_path, {"app/repository.py": repository}, "CFG009")
    assert f.anchor == "sort:app/repository.py:orderize:name" and f.severity == Severity.INFO
    assert "a name that is not an attribute is skipped (the lookup is inside a try that catches AttributeError)" in f.message
    assert "makes the query raise" not in f.message
    refused = repository.replace("                pass", '                raise ValueError(f"cannot sort by {name}")')
    (f,) = found(tmp_path / "refused", {"app/repository.py": refused}, "CFG009")
    assert "a name that is not an attribute is refused with the error raised at line 14" in f.message
    assert "skipped" not in f.message


def test_a_checkin_listener_that_only_counts_is_named_as_not_resetting_the_connection(tmp_path):
    """onyx: "no checkin pool listener" was literally false beside a listener that counts checkins."""
    counted = POOLED.replace("from sqlalchemy import create_engine, text", "from sqlalchemy import create_engine, event, text") + '''

CHECKINS = {"count": 0}


@event.listens_for(engine, "checkin")
def count_checkin(dbapi_connection, record):
    CHECKINS["count"] += 1


def search(session):
    session.execute(text("SET pg_trgm.similarity_threshold = 0.5"))
'''
    (f,) = found(tmp_path, {"app/db.py": counted}, "CFG004")
    assert f.anchor == "pool:checkin" and f.severity == Severity.WARNING
    assert f.message.startswith("no `checkin` pool listener that resets the connection (`count_checkin` at app/db.py:25 "
                                "does not touch the connection), and the code sets session-scoped state (app/db.py:30: "
                                "`SET pg_trgm.similarity_threshold`)")


ROLES = '''
READER_ROLES = ("app_reader", "app_writer")


def to_role(name):
    role = "app_" + name.lower()
    if role not in READER_ROLES:
        raise ValueError(name)
    return role


def in_schema(name):
    return f"reporting.{name}"
'''

GRANTS = '''
from sqlalchemy import text

from app import roles


def grant(conn, who):
    conn.execute(text(f"GRANT {roles.to_role(who)} TO CURRENT_USER"))


def drop_view(conn, name):
    conn.execute(text(f"DROP VIEW {roles.in_schema(name)}"))


def scripts():
    grant(None, "reader")
    drop_view(None, "daily")
'''


def test_a_helper_of_another_module_that_returns_only_a_checked_name_is_no_finding(tmp_path):
    """datacube: a role name made by another module's helper that raises unless it is in a fixed tuple is safe on
    every path; a helper that returns its caller's argument inside a template is only as safe as that argument."""
    (f,) = found(tmp_path, {"app/__init__.py": "", "app/roles.py": ROLES, "app/grants.py": GRANTS}, "CFG008")
    assert f.anchor.startswith("sql:drop_view:") and "in_schema" in f.message


LISTENERS = '''
from sqlalchemy import event, text

from app.models import Customer


def touch_shelf(mapper, connection, target):
    connection.execute(text("UPDATE shelves SET updated = now() WHERE id = %s" % target.shelf_id))


def tag_shelf(mapper, connection, target):
    connection.execute(text("UPDATE shelves SET tag = '%s' WHERE id = 1" % target.label))


def count_shelf(connection, shelf_id):
    connection.execute(text(f"UPDATE shelves SET n = n + 1 WHERE id = {shelf_id}"))


def name_shelf(connection, label):
    connection.execute(text(f"UPDATE shelves SET name = '{label}' WHERE id = 1"))


@event.listens_for(Customer, "after_insert")
def after_insert(mapper, connection, target):
    touch_shelf(mapper, connection, target)
    tag_shelf(mapper, connection, target)
    count_shelf(connection, target.shelf_id)
    name_shelf(connection, target.label)
'''


def test_an_integer_key_of_the_row_a_mapper_event_flushes_is_no_finding(tmp_path):
    """pybossa (CFG008 x14 judged debatable): `target.project_id` in `f(mapper, conn, target)` is an Integer column's
    value PostgreSQL already took, also where the listener passes it to a function of its module (pybossa x7 more);
    a text column of the row is still reported."""
    models = SHOP.replace("class Customer(Base):", "class Holder(Base):\n    __tablename__ = 'holders'\n"
                          "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
                          "    shelf_id: Mapped[int] = mapped_column(Integer)\n    label: Mapped[str] = mapped_column(String(20))\n\n\n"
                          "class Customer(Base):")
    found_ = found(tmp_path, {"app/models.py": models, "app/listeners.py": LISTENERS}, "CFG008")
    assert sorted(f.anchor for f in found_) == ["sql:name_shelf:label", "sql:tag_shelf:target.label"]


def test_a_command_module_that_dispatches_its_functions_by_name_calls_them(tmp_path):
    """pybossa (CFG008 judged wrong x2: "no call of clean_project"): `_main(locals())` under `if __name__` runs any
    function the command line names."""
    cli = ('from sqlalchemy import text\n\n\ndef clean(db, shelf_id):\n'
           '    db.execute(text("DELETE FROM shelves WHERE id = %s" % shelf_id))\n\n\n'
           'def _main(names):\n    import sys\n    names[sys.argv[1]](*sys.argv[2:])\n\n\n'
           'if __name__ == "__main__":\n    _main(locals())\n')
    (f,) = found(tmp_path, {"app/models.py": SHOP, "cli.py": cli}, "CFG008")
    assert "no call" not in f.message


def test_a_migrations_key_read_back_and_a_class_constant_of_another_module_are_no_finding(tmp_path):
    """faraday (CFG008 judged wrong; 58 more like them): an id the revision reads with `SELECT id FROM shelves` and
    `result.scalar()` is an Integer column's; `Action.CREATE` and `Action.ALL` of a class whose body assigns
    literals are constants. A label read back the same way is still said."""
    actions = ("class Action:\n    CREATE = 'create'\n    READ = 'read'\n    ALL = [CREATE, READ]\n")
    upgrade = ('conn = op.get_bind()\n'
               'result = conn.execute(sa.text("SELECT id FROM shelves WHERE label = \'main\'"))\n'
               'shelf_id = result.scalar()\n'
               'op.execute(f"UPDATE shelves SET label = \'{Action.CREATE}\' WHERE id = {shelf_id}")\n'
               'values = ", ".join(f"\'{a}\'" for a in Action.ALL)\n'
               'op.execute(f"CREATE TYPE action_kind AS ENUM ({values})")\n'
               'result = conn.execute(sa.text("SELECT label FROM shelves WHERE id = 1"))\n'
               'label = result.scalar()\n'
               'op.execute(f"INSERT INTO notes (body) VALUES (\'{label}\')")')
    migration = revision(upgrade).replace("import sqlalchemy as sa", "import sqlalchemy as sa\nfrom app.actions import Action")
    files = {"app/__init__.py": "", "app/models.py": SHOP, "app/actions.py": actions, "migrations/versions/0001_a.py": migration}
    assert [f.anchor.rsplit(":", 1)[1] for f in found(tmp_path, files, "CFG008")] == ["label"]


def test_a_methods_callers_are_not_a_parents_through_super_nor_another_objects_in_its_own_body(tmp_path):
    """koschei (CFG008 judged wrong x2: "what the call on line 666 passes"): a subclass's `super().execute(...)` calls
    the parent's method, and `db.execute(...)` inside `execute` is the session's; the command's own call is named."""
    admin = ('from sqlalchemy import text\n\n\nclass Cleanup:\n    def execute(self, db, older_than):\n'
             '        db.execute(text(f"DELETE FROM shelves WHERE age > {older_than}"))\n\n\n'
             'class Other(Cleanup):\n    def execute(self, db, older_than=None):\n        super().execute(db, "1 OR 1=1")\n\n\n'
             'def main(db, args):\n    Cleanup().execute(db, **vars(args))\n')
    (f,) = found(tmp_path, {"app/models.py": SHOP, "app/admin.py": admin}, "CFG008")
    assert "line 15" in f.message and "line 11" not in f.message and "line 6" not in f.message


def test_an_awaited_quoting_helper_and_a_dict_comprehension_over_constants_are_followed(tmp_path):
    """tracecat (CFG008 infos judged wrong): `await _quoted_identifier(conn, role)` is what the quoting helper returns;
    `{new: old for old, new in RENAMES.items()}` holds the constants it runs over."""
    code = '''
from sqlalchemy import text

RENAMES = {"core.search_records": "core.search_rows"}


async def _quoted_identifier(conn, value):
    return await conn.scalar(text("SELECT quote_ident(:v)"), {"v": value})


async def grant(conn, role):
    name = await _quoted_identifier(conn, role)
    await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))


def undo(conn):
    reverse = {new: old for old, new in RENAMES.items()}
    names = "', '".join(reverse.keys())
    conn.execute(text(f"DELETE FROM actions WHERE type IN ('{names}')"))


def main(conn):
    grant(conn, "monitor")
    undo(conn)
'''
    assert found(tmp_path, {"app/models.py": SHOP, "app/grants.py": code}, "CFG008") == []
