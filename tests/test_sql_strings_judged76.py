"""SQL built from strings, judged wrong on backends nobody tuned for (round 76): a name the function sets to
one statement after another is sent holding the statement set just before, not any of the others. Small
projects of our own with the exact finding, or its absence, pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found

REUSED_NAME = '''
from sqlalchemy import text


def record(conn, owner_id, item_id, labels):
    sql = "SELECT id FROM item WHERE owner_id=%s AND id=%s" % (owner_id, item_id)
    rows = conn.execute(text(sql))
    for r in rows:
        if r:
            sql = "UPDATE item SET latest=false WHERE id=%s" % (r.id)
            conn.execute(text(sql))
    sql = "INSERT INTO note (owner_id, labels) VALUES (%s, '%s')" % (owner_id, labels)
    conn.execute(text(sql))
'''


def test_a_reused_name_is_sent_with_the_statement_set_just_before(tmp_path):
    """Each send is reported for the values of its own statement: the UPDATE for `r.id`, and the SELECT for
    its two values, not for the INSERT's `labels` set after it."""
    got = {f.location.start_line: f for f in found(tmp_path, {"app/notes.py": REUSED_NAME}, "CFG008")}
    assert sorted((line, f.anchor) for line, f in got.items()) == [
        (7, "sql:record:owner_id"), (11, "sql:record:r.id"), (13, "sql:record:owner_id")]
    assert "(1 more value(s)" in got[7].message and "read from the database" in got[11].message
    assert all(f.severity == Severity.INFO for f in got.values())  # nothing calls record


MODELS = '''
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "item"
    id = Column(Integer, primary_key=True)
    title = Column(String(200))
'''


def test_an_integer_key_the_function_read_itself_carries_no_sql(tmp_path):
    """`r.id` comes from `SELECT id FROM item`, and item.id is an Integer: the UPDATE is not reported; a title
    read the same way still is."""
    files = {"app/models.py": MODELS, "app/notes.py": REUSED_NAME}
    assert 11 not in {f.location.start_line for f in found(tmp_path, files, "CFG008")}
    titled = REUSED_NAME.replace("SELECT id FROM item", "SELECT title FROM item")
    (f,) = [f for f in found(tmp_path, {**files, "app/notes.py": titled}, "CFG008") if f.location.start_line == 11]
    assert f.anchor == "sql:record:r.id" and f.severity == Severity.INFO


KEY_IN_A_COMPREHENSION = '''
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    pass


def downgrade():
    conn = op.get_bind()
    owner = [
        r[0]
        for r in conn.execute(
            sa.text("select id from item where title = 'archive';")
        )
    ][0]
    conn.execute(sa.text("delete from note where owner_id=" + str(owner)))
'''


def test_a_key_read_by_the_query_its_own_statement_opens_carries_no_sql(tmp_path):
    """The query is below the line the id is read on (inside the comprehension it opens): item.id is an
    Integer, so the delete is not reported; a title read the same way still is."""
    files = {"app/models.py": MODELS, "migrations/versions/0002_archive.py": KEY_IN_A_COMPREHENSION}
    assert found(tmp_path, files, "CFG008") == []
    titled = KEY_IN_A_COMPREHENSION.replace("select id from", "select title from")
    (f,) = found(tmp_path, {**files, "migrations/versions/0002_archive.py": titled}, "CFG008")
    assert f.location.start_line == 21 and f.severity == Severity.INFO and "read from the database" in f.message


PLACEHOLDERS = '''
from sqlalchemy import text


def _in_params(prefix, values):
    params = {f"{prefix}_{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{prefix}_{i}" for i in range(len(values))), params


def by_names(conn, names):
    ph, params = _in_params("nm", names)
    return conn.execute(text(f"SELECT id FROM item WHERE title IN ({ph})"), params)


def by_field(conn, field, values):
    ph, params = _in_params(f"f_{field}", values)
    return conn.execute(text(f"SELECT id FROM item WHERE {field} IN ({ph})"), params)
'''


def test_a_helper_s_return_is_followed_with_the_arguments_of_the_call_it_answers(tmp_path):
    """`_in_params("nm", names)` builds `:nm_0, :nm_1` whatever another call passes for the prefix: by_names is not
    reported; by_field, whose own `field` is spliced in, still is."""
    got = [(f.location.start_line, f.anchor) for f in found(tmp_path, {"app/items.py": PLACEHOLDERS}, "CFG008")]
    assert got == [(17, "sql:by_field:field")]


def test_a_set_made_from_constant_sets_carries_no_sql(tmp_path):
    """test_observer: a migration builds an enum's values from module constants (`OLD.union({...})`,
    `NEW - OLD`): nothing outside the file reaches the SQL."""
    migration = '''
from alembic import op

OLD = {"read", "write"}
NEW = OLD.union({"admin"})
GONE = OLD.difference(NEW)


def upgrade():
    options = ", ".join(f"'{p}'" for p in sorted(NEW))
    op.execute(f"CREATE TYPE permission AS ENUM ({options})")
    for p in GONE:
        op.execute(f"DELETE FROM grants WHERE permission = '{p}'")
'''
    assert found(tmp_path, {"migrations/versions/0001_permissions.py": migration}, "CFG008") == []
