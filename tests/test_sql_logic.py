"""Raw SQL whose logic is wrong (CFG011 a parameter without its colon, CFG012 UPDATE ... FROM with no join,
CFG013 a write with no WHERE in application code): each case a small repository of our own, with the exact
finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

_MODELS = HEADER + """
class Wallet(Base):
    __tablename__ = "wallets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(Integer)
"""


def test_a_bare_name_another_bind_writes_with_a_colon_compares_the_column_with_itself(tmp_path):
    code = '''
from sqlalchemy import text

def visible(db, user_id):
    sql = """
    SELECT notes.* FROM notes
    WHERE notes.author_id NOT IN (SELECT mutes.muted_id FROM mutes WHERE mutes.user_id = :user_id)
      AND notes.author_id NOT IN (SELECT mutes.by_id FROM mutes WHERE mutes.user_id = user_id)
    """
    return db.execute(text(sql), {"user_id": user_id}).all()
'''
    (f,) = found(tmp_path, {"app/notes.py": code}, "CFG011")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.WARNING, "app/notes.py", 10)
    assert f.anchor == "sql-logic:visible:user_id" and f.item_id == "1.5"
    assert "`mutes.user_id = user_id` compares the column with itself" in f.message
    assert "write `:user_id`" in f.message


def test_a_passed_key_no_table_has_is_named_with_the_known_tables(tmp_path):
    code = '''
from sqlalchemy import text

def balance(db, user_id):
    return db.execute(text("SELECT sum(balance) FROM wallets WHERE owner_id = user_id"), {"user_id": user_id}).scalar()
'''
    (f,) = found(tmp_path, {"app/models.py": _MODELS, "app/wallets.py": code}, "CFG011")
    assert "no table of the query (wallets) has a column `user_id`" in f.message


def test_a_column_compared_with_its_own_bind_or_with_another_column_is_no_finding(tmp_path):
    code = '''
from sqlalchemy import text

def by_owner(db, owner_id):
    return db.execute(text("SELECT id FROM wallets WHERE owner_id = :owner_id"), {"owner_id": owner_id}).all()

def unknown_table(db, slug):
    return db.execute(text("SELECT id FROM skills WHERE slug = :slug AND kind = slug"), {"slug": slug}).all()

def two_columns(db, balance):
    return db.execute(text("SELECT id FROM wallets WHERE owner_id < balance AND balance > :balance"), {"balance": balance}).all()

def not_sql(db, user_id):
    return db.execute(text("SELEKT id FROM wallets WHERE wallets.owner_id = owner_id"), {"owner_id": user_id}).all()
'''
    assert found(tmp_path, {"app/models.py": _MODELS, "app/wallets.py": code}, "CFG011") == []


def test_psycopg_binds_and_keyword_parameters_count(tmp_path):
    code = '''
from sqlalchemy.engine import Engine

def unmute(engine: Engine, user_id, other):
    cursor = engine.raw_connection().cursor()
    cursor.execute("DELETE FROM mutes WHERE mutes.by_id = by_id AND muted_id = %(other)s", {"by_id": user_id, "other": other})
'''
    (f,) = found(tmp_path, {"app/mutes.py": code}, "CFG011")
    assert "`mutes.by_id = by_id` compares the column with itself" in f.message


def test_in_a_migration_only_the_self_comparison_counts_and_it_is_the_revision_s(tmp_path):
    upgrade = '''
conn = op.get_bind()
conn.execute(sa.text("UPDATE wallets SET balance = 0 WHERE id = :id"), id=1)
conn.execute(sa.text("UPDATE wallets SET balance = 0 WHERE wallets.owner_id = owner_id"), {"owner_id": 3})
'''
    (f,) = found(tmp_path, {"app/models.py": _MODELS, "migrations/versions/0001_a.py": revision(upgrade)}, "CFG011")
    assert f.item_id == "3.2" and f.anchor == "sql-logic:0001:owner_id" and "migration 0001" in f.message


def test_update_from_without_a_join_in_the_application_is_a_warning(tmp_path):
    code = '''
from sqlalchemy import text

def credit(db, payment_id):
    db.execute(text("UPDATE wallets SET balance = wallets.balance + p.amount FROM payments p WHERE p.id = :id"), {"id": payment_id})

def credit_owner(db, payment_id):
    db.execute(text("UPDATE wallets SET balance = balance + p.amount FROM payments p WHERE p.id = :id AND owner_id = p.user_id"), {"id": payment_id})
'''
    (f,) = found(tmp_path, {"app/models.py": _MODELS, "app/wallets.py": code}, "CFG012")
    assert (f.severity, f.location.start_line, f.anchor) == (Severity.WARNING, 5, "sql-logic:credit:update-from:wallets")
    assert f.message.startswith("SQL in credit updates wallets FROM payments p with no condition on wallets: every row of wallets "
                                "is updated")


def test_update_from_in_a_migration_warns_only_when_a_shared_key_goes_unused(tmp_path):
    upgrade = '''
op.execute("""
    UPDATE segments SET position = s.n
    FROM (SELECT trip_id, ROW_NUMBER() OVER (PARTITION BY trip_id ORDER BY started_at) AS n FROM segments) s
""")
op.execute("UPDATE orders SET currency = c.code FROM (SELECT code FROM currencies WHERE is_default) c")
op.execute("UPDATE orders SET region = r.name FROM regions r WHERE region_id = r.id")
op.execute("UPDATE orders SET owner_id = users.id FROM users WHERE users.name = 'SYSTEM ADMIN'")
'''
    models = HEADER + """
class Segment(Base):
    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trip_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
"""
    shared, single = found(tmp_path, {"app/models.py": models, "migrations/versions/0001_a.py": revision(upgrade)}, "CFG012")
    assert shared.severity == Severity.WARNING and "both sides have `trip_id`, which nothing compares" in shared.message
    assert single.severity == Severity.INFO and "a backfill from one row may mean this" in single.message
    # czgenepi (judged wrong): the source row picked by a literal is the backfill meant; `shared, single` holds no third


def test_a_write_without_where_is_an_info_in_the_application_only(tmp_path):
    app = '''
from sqlalchemy import text

def log_out_everyone(db):
    db.execute(text("DELETE FROM sessions"))

def recompute(db, table):
    db.execute(text(f"UPDATE {table} SET _id = _id"))
'''
    bench = '''
from sqlalchemy import text

def reset(db):
    db.execute(text("DELETE FROM sessions"))
'''
    files = {"app/sessions.py": app, "benches/run.py": bench,
             "migrations/versions/0001_a.py": revision('op.execute("UPDATE accounts SET plan = \'free\'")')}
    (f,) = found(tmp_path, files, "CFG013")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.INFO, "app/sessions.py", 5)
    assert f.message.startswith("log_out_everyone deletes every row of sessions (no WHERE)")
