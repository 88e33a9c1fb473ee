"""PERF006 (an index repeats the primary key or a unique constraint), on repositories of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

SHOP = HEADER + """
from sqlalchemy import Index, UniqueConstraint

class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("shop_id", "number"), Index("ix_orders_shop", "shop_id", "number"), Index("ix_orders_number", "number"),
                      Index("ix_orders_first", "shop_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    shop_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
"""


def test_an_index_on_the_leading_columns_of_a_key_repeats_it(tmp_path):
    """`index=True` on the primary key and an index on the unique constraint's columns repeat those keys (info, the key
    named); an index on fewer of its leading columns or on its second, and `unique=True, index=True` (one unique
    index), do not."""
    by = {f.anchor: f for f in found(tmp_path, {"app/models.py": SHOP}, "PERF006")}
    assert sorted(by) == ["table:orders.id:repeats-key", "table:orders.shop_id,number:repeats-key"]
    assert all(f.severity == Severity.INFO for f in by.values())
    assert by["table:orders.shop_id,number:repeats-key"].message.startswith(
        "the index ix_orders_shop (shop_id, number) on orders repeats the unique constraint (shop_id, number): it "
        "indexes the same columns (shop_id, number) in the same order, by which the key's own index already finds rows")
    assert "repeats the primary key (id): it indexes the same columns (id)" in by["table:orders.id:repeats-key"].message


def test_the_migrations_decide_what_the_database_holds(tmp_path):
    """The model says `index=True` on the key, but the migrations create no such index (and drop a repeat they made
    earlier): no finding; a composite primary key the migrations order serves only its leading column."""
    model = SHOP.replace(', Index("ix_orders_shop", "shop_id", "number"), Index("ix_orders_number", "number"),\n                      Index("ix_orders_first", "shop_id")', "")
    migrated = revision("""
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.Integer),
    sa.Column("number", sa.Integer),
    sa.Column("code", sa.String(40), unique=True),
    sa.UniqueConstraint("shop_id", "number"),
)
op.create_index("ix_orders_code", "orders", ["code"])
op.drop_index("ix_orders_code", table_name="orders")
op.create_index("ix_orders_number", "orders", ["number"])
""")
    assert found(tmp_path, {"app/models.py": model, "migrations/versions/0001_init.py": migrated}, "PERF006") == []


def test_a_base_class_key_indexed_for_every_table_is_one_finding_and_a_collation_is_no_twin(tmp_path):
    """`id = mapped_column(primary_key=True, index=True)` on a base class: every table's migration makes ix_<table>_id,
    one finding at the column naming the tables; an index made in SQL with a collation (`name COLLATE "C"`) serves
    other lookups than the unique constraint on name, and is no twin of it."""
    model = HEADER + """
class Keyed(Base):
    __abstract__ = True
    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)

class Shop(Keyed):
    __tablename__ = "shops"
    name: Mapped[str] = mapped_column(String(80), unique=True)

class Till(Keyed):
    __tablename__ = "tills"
"""
    migrated = revision("""
op.create_table("shops", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80), unique=True))
op.create_index("ix_shops_id", "shops", ["id"])
op.create_table("tills", sa.Column("id", sa.Integer, primary_key=True))
op.create_index("ix_tills_id", "tills", ["id"])
op.execute('CREATE INDEX ix_shops_name_c ON shops (name COLLATE "C")')
""")
    (f,) = found(tmp_path, {"app/models.py": model, "migrations/versions/0001_init.py": migrated}, "PERF006")
    assert f.location.path == "app/models.py" and "(declared once for 2 tables: also tills)" in f.message


def test_an_index_a_step_it_could_not_read_may_have_dropped_is_no_finding(tmp_path):
    """The migrations make an index on the unique column, then drop indexes by names built in a loop (SQL dbreview
    cannot read): the index may be gone by head, so no finding; without that step it is one."""
    model = SHOP.replace(', Index("ix_orders_shop", "shop_id", "number"), Index("ix_orders_number", "number"),\n                      Index("ix_orders_first", "shop_id")', "")
    made = """
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("shop_id", sa.Integer),
    sa.Column("number", sa.Integer),
    sa.Column("code", sa.String(40), unique=True),
)
op.create_index("ix_orders_code", "orders", ["code"])
"""
    files = {"app/models.py": model, "migrations/versions/0001_init.py": revision(made)}
    assert [f.anchor for f in found(tmp_path, files, "PERF006")] == ["table:orders.code:repeats-key"]
    dropped = "for name in UNUSED:\n    op.execute(sa.text(f'DROP INDEX IF EXISTS {name}'))"
    files["migrations/versions/0001_init.py"] = revision(made + dropped)
    assert found(tmp_path / "again", files, "PERF006") == []


ACCOUNTS = HEADER + """
from sqlalchemy import Index, UniqueConstraint

class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("login", name="uq_accounts_login"), Index("ix_accounts_login", "login"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(40))
"""


def test_a_key_a_migration_drops_in_sql_is_no_key(tmp_path):
    """The model (no migration creates its table) still declares the unique constraint, but a migration drops it
    through `conn.execute(text("ALTER TABLE ... DROP CONSTRAINT ..."))`: the index is the only one on the column,
    no finding. Dropped and added back, the key is there again and the index repeats it."""
    dropped = revision('''
conn = op.get_bind()
conn.execute(sa.text('ALTER TABLE app.accounts DROP CONSTRAINT IF EXISTS "uq_accounts_login"'))
''')
    files = {"app/models.py": ACCOUNTS, "migrations/versions/0001_a.py": dropped}
    assert found(tmp_path, files, "PERF006") == []
    back = revision('op.create_unique_constraint("uq_accounts_login", "accounts", ["login"])', rev="0002", down="0001")
    again = found(tmp_path / "back", {**files, "migrations/versions/0002_b.py": back}, "PERF006")
    assert [(f.anchor, f.location.path) for f in again] == [("table:accounts.login:repeats-key", "app/models.py")]
    assert "repeats the unique constraint uq_accounts_login (login)" in again[0].message
