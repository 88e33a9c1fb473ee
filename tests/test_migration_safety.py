"""The migration-safety and migration-chain rules (MIG007-MIG019) on histories of our own: which revisions
count as reviewed, what "existing" means across branches, one finding per revision, and the shapes that
real backends showed (a downgrade that drops and recreates, guarded steps, SQLite trees, env.py set-ups)."""

from __future__ import annotations

import sys

from analyzers.examples import facts_from_sources
from analyzers.facts.history import RECENT, history, recent
from analyzers.findings import identity_key
from analyzers.rules.s03_migration_chain import (
    DowngradeDropsOthers, ImportsApplicationModels, InspectorGuardedDdl, UnnamedConstraintDrop, UpgradeOnMissingObject,
)
from analyzers.findings import Severity
from analyzers.rules.s03_migration_safety import (
    BackfillInSchemaMigration, ConcurrentlyInTransaction, DestructiveStep, IndexWithoutConcurrently, NotNullColumnWithoutDefault,
    TableRewrite, ValidatedUnderLock,
)


def revision(rev: str, down: str | None, upgrade: str, downgrade: str = "pass", head: str = "") -> str:
    body = "\n".join("    " + line for line in upgrade.strip().splitlines())
    down_body = "\n".join("    " + line for line in downgrade.strip().splitlines())
    return (f'from alembic import op\nimport sqlalchemy as sa\n{head}\nrevision = "{rev}"\ndown_revision = {down!r}\n\n'
            f"def upgrade():\n{body}\n\ndef downgrade():\n{down_body}\n")


def chain(*upgrades: str, folder: str = "migrations/versions") -> dict[str, str]:
    """Revisions r00, r01, ... one after the other; r00 creates orders."""
    files = {f"{folder}/r00.py": revision("r00", None, 'op.create_table("orders", sa.Column("id", sa.Integer), '
                                                     'sa.Column("total", sa.Integer))')}
    for i, up in enumerate(upgrades, start=1):
        files[f"{folder}/r{i:02}.py"] = revision(f"r{i:02}", f"r{i - 1:02}", up)
    return files


def found(rule, files: dict[str, str]):
    return list(rule(facts_from_sources(files)).check())


# -- which revisions are reviewed -------------------------------------------------------------------------


def test_only_the_newest_generations_are_reviewed():
    """An index built without CONCURRENTLY long ago is history; the same in a recent revision is a finding."""
    index = 'op.create_index("ix_orders_total_{n}", "orders", ["total"])'
    files = chain(index.format(n=1), *(["op.execute('SELECT 1')"] * RECENT), index.format(n=2))
    facts = facts_from_sources(files)
    assert len(recent(facts)) == RECENT
    (f,) = IndexWithoutConcurrently(facts).check()
    assert f.location.path == f"migrations/versions/r{RECENT + 2:02}.py" and f.location.start_line == 8
    assert f.anchor == f"migration:r{RECENT + 2:02}:index:orders:ix_orders_total_2"
    assert f.severity.value == "warning" and "without CONCURRENTLY; orders exists since revision r00" in f.message


def test_sqlite_trees_are_left_alone():
    files = chain('op.create_index("ix_orders_total", "orders", ["total"])', folder="migrations/versions/sqlite")
    assert found(IndexWithoutConcurrently, files) == []


def test_a_sibling_branch_does_not_make_or_unmake_a_table():
    """r02 and r03 both follow r01; r02 renames orders. Whatever order they replay in, r03 still finds orders
    as r00 made it, and r02's rename does not count for it."""
    files = chain('op.add_column("orders", sa.Column("note", sa.String(20)))')
    files["migrations/versions/r02.py"] = revision("r02", "r01", 'op.rename_table("orders", "purchases")')
    files["migrations/versions/r03.py"] = revision("r03", "r01", 'op.create_index("ix_orders_note", "orders", ["note"])')
    facts = facts_from_sources(files)
    hist = history(facts)
    r03 = next(r for r in facts.revisions if r.revision == "r03")
    assert hist.before(r03, "table", "orders").creator.revision == "r00"
    assert hist.before(r03, "column", "orders.note").creator.revision == "r01"
    assert [f.anchor for f in UpgradeOnMissingObject(facts).check()] == []
    assert [f.anchor for f in IndexWithoutConcurrently(facts).check()] == ["migration:r03:index:orders:ix_orders_note"]


# -- one finding per revision ---------------------------------------------------------------------------------


def test_several_steps_of_one_revision_are_one_finding():
    files = chain('op.add_column("orders", sa.Column("a", sa.Integer, nullable=False))\n'
                  'op.add_column("orders", sa.Column("b", sa.Integer, nullable=False, default=0))')
    (f,) = found(NotNullColumnWithoutDefault, files)
    assert f.message.startswith("revision r01 adds orders.a NOT NULL without a server default")
    assert f.message.endswith("(and 1 more like it in this revision)")
    assert [r.location.start_line for r in f.related] == [9]
    assert "its Python-side default= is applied by the ORM to new rows only" in f.related[0].note
    assert set(f.covers) == {identity_key("MIG009", f"migration:r01:not-null:orders.{c}") for c in "ab"}


def test_a_type_change_between_character_types_is_no_rewrite():
    files = chain('op.alter_column("orders", "total", type_=sa.Text(), existing_type=sa.String(20))\n'
                  'op.alter_column("orders", "id", type_=sa.BigInteger(), existing_type=sa.Integer())')
    (f,) = found(TableRewrite, files)
    assert f.anchor == "migration:r01:type:orders.id" and f.severity.value == "info"


# -- CONCURRENTLY and the transaction --------------------------------------------------------------------------


def test_concurrently_is_fine_where_env_py_leaves_the_transaction_or_a_connection_autocommits():
    step = 'op.create_index("ix_orders_total", "orders", ["total"], postgresql_concurrently=True)'
    assert [f.location.start_line for f in found(ConcurrentlyInTransaction, chain(step))] == [8]
    with_env = {**chain(step), "migrations/env.py": "from alembic import context\ncontext.configure(transactional_ddl=False)\n"}
    assert found(ConcurrentlyInTransaction, with_env) == []
    own_connection = ('with op.get_bind().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:\n'
                      '    conn.exec_driver_sql("CREATE INDEX CONCURRENTLY ix_orders_total ON orders (total)")')
    assert found(ConcurrentlyInTransaction, chain(own_connection)) == []


def test_concurrently_after_the_connection_is_switched_to_autocommit_is_fine():
    """phoenix and letta: the revision commits Alembic's transaction and switches the connection to autocommit
    (`dbapi_conn.autocommit = True` in a helper it calls, or `execution_options(isolation_level="AUTOCOMMIT")`
    on op.get_bind()), then builds CONCURRENTLY; switched back (`= False`), a later build is inside one again."""
    helpers = ('def _on():\n'
               '    dbapi_conn = op.get_bind().connection.dbapi_connection\n'
               '    dbapi_conn.commit()\n'
               '    dbapi_conn.autocommit = True\n'
               'def _off():\n'
               '    op.get_bind().connection.dbapi_connection.autocommit = False\n')
    build = 'op.create_index("ix_orders_{0}", "orders", ["{0}"], postgresql_concurrently=True)'
    files = chain(f"_on()\n{build.format('total')}\n_off()\n{build.format('id')}")
    files["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace("def upgrade", helpers + "def upgrade")
    assert [f.location.start_line for f in found(ConcurrentlyInTransaction, files)] == [17]  # the build after _off()
    options = ('connection = op.get_bind()\nconnection.commit()\n'
               'auto = connection.execution_options(isolation_level="AUTOCOMMIT")\n'
               'auto.exec_driver_sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_total ON orders (total)")')
    assert found(ConcurrentlyInTransaction, chain(options)) == []


def test_concurrently_after_a_commit_or_sql_it_could_not_read_is_no_claim(monkeypatch):
    """`op.execute("COMMIT")` ends Alembic's transaction, read by pglast or, where it is missing, by its words;
    SQL that could not be read before the build may have ended it too: no claim rests on it."""
    from analyzers.facts import sql

    build = 'op.create_index("ix_orders_total", "orders", ["total"], postgresql_concurrently=True)'
    assert found(ConcurrentlyInTransaction, chain(f'op.execute("COMMIT")\n{build}')) == []
    assert found(ConcurrentlyInTransaction, chain(f'op.execute("COMMIT;; SELEC")\n{build}')) == []
    monkeypatch.setitem(sys.modules, "pglast", None)
    sql.parser_missing.cache_clear()
    try:
        assert found(ConcurrentlyInTransaction, chain(f'op.execute("COMMIT")\n{build}')) == []
        assert [f.location.start_line for f in found(ConcurrentlyInTransaction, chain(f'op.execute("BEGIN")\n{build}'))] == [9]
    finally:
        sql.parser_missing.cache_clear()


# -- downgrades ----------------------------------------------------------------------------------------------


def test_a_downgrade_that_drops_and_recreates_is_not_dropping_others():
    """Drop IF EXISTS then create again (a rebuild), or a column swapped by a rename: what is left is the same."""
    files = chain('op.create_index("ix_orders_total", "orders", ["total"])',
                  'op.drop_index("ix_orders_total", table_name="orders")')
    files["migrations/versions/r02.py"] = revision(
        "r02", "r01", 'op.drop_index("ix_orders_total", table_name="orders")',
        'op.drop_index("ix_orders_total", table_name="orders", if_exists=True)\n'
        'op.create_index("ix_orders_total", "orders", ["total"])\n'
        'op.add_column("orders", sa.Column("total_int", sa.Integer))\n'
        'op.drop_column("orders", "total")\n'
        'op.alter_column("orders", "total_int", new_column_name="total")',
    )
    assert found(DowngradeDropsOthers, files) == []


def test_a_downgrade_that_drops_an_earlier_trigger_from_a_do_block_with_comments():
    do_block = '''op.execute("""
DO $$
BEGIN
    -- created by hand on some databases
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'orders_audit') THEN
        CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();
    END IF;
END $$;
""")'''
    files = chain('op.execute("CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit()")')
    files["migrations/versions/r02.py"] = revision("r02", "r01", do_block, 'op.execute("DROP TRIGGER IF EXISTS orders_audit ON orders")')
    (f,) = found(DowngradeDropsOthers, files)
    assert (f.location.path, f.location.start_line) == ("migrations/versions/r02.py", 19)
    assert f.message.startswith("the downgrade of revision r02 drops trigger orders_audit on orders, created by revision r01 "
                                "(this upgrade creates it only if it is not there yet)")
    assert f.severity.value == "warning" and f.item_id == "3.9"


def test_unnamed_constraint_drops_are_one_finding_per_tree_newest_first():
    drop = 'op.drop_constraint(None, "orders", type_="foreignkey")'
    files = chain("pass", "pass")
    files["migrations/versions/r01.py"] = revision("r01", "r00", "pass", drop)
    files["migrations/versions/r02.py"] = revision("r02", "r01", "pass", f"{drop}\n{drop}")
    (f,) = found(UnnamedConstraintDrop, files)
    assert f.message.startswith("the downgrade of revision r02 drops a constraint of orders named None "
                                "(3 such calls in 2 revisions of migrations/versions)")
    assert len(f.related) == 2 and len(f.covers) == 3


# -- the chain ---------------------------------------------------------------------------------------------


def test_steps_on_what_no_revision_creates():
    """One slip is a warning; many tables created by no revision mean a schema built another way (one info);
    a column added under an inspector check still exists for the steps after it; alembic_version is Alembic's."""
    one = chain('op.drop_column("orders", "legacy")')
    (f,) = found(UpgradeOnMissingObject, one)
    assert f.severity.value == "warning" and f.anchor == "migration:r01:missing:column orders.legacy"
    many = chain(*(f'op.add_column("t{i}", sa.Column("x", sa.Integer))' for i in range(3)))
    (f,) = found(UpgradeOnMissingObject, many)
    assert f.severity.value == "info" and f.message.startswith("3 tables that revisions in migrations/versions change")
    guarded = chain('if "note" not in [c["name"] for c in sa.inspect(op.get_bind()).get_columns("orders")]:\n'
                    '    op.add_column("orders", sa.Column("note", sa.String(20)))\n'
                    'op.alter_column("orders", "note", nullable=False)\n'
                    'op.execute("UPDATE alembic_version SET version_num = \'r01\'")')
    assert found(UpgradeOnMissingObject, guarded) == []


def test_a_column_added_by_sql_with_an_array_literal_is_read():
    """test_observer: `DEFAULT '{}'::text[]` is SQL's array literal, not a value spliced in: the ADD COLUMN is read,
    and the later drop steps on a column that exists."""
    files = chain("op.execute(\"ALTER TABLE orders ADD COLUMN tags text[] NOT NULL DEFAULT '{}'::text[]\")",
                  'op.drop_column("orders", "tags")')
    assert found(UpgradeOnMissingObject, files) == []


def test_a_model_imported_through_a_package_that_re_exports_it():
    models = ("from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
              "class Base(DeclarativeBase):\n    pass\n"
              "class Order(Base):\n    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n")
    files = chain("for order in sa.orm.Session(bind=op.get_bind()).query(Order):\n    order.total = 0")
    files["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app.models import Order\n")
    files["app/models/order.py"] = models
    files["app/models/__init__.py"] = "from app.models.order import Base, Order\n"
    (f,) = found(ImportsApplicationModels, files)
    assert (f.location.start_line, f.anchor) == (3, "migration:r01:imports-models")
    assert "loads or writes whole rows of today's model Order (app/models/order.py)" in f.message


def test_a_model_imported_from_the_app_folder_and_not_one_of_another_app():
    """`from shop.models import Order` in services/shop/migrations runs with services/shop on the path
    (prepend_sys_path): services/shop/shop/models.py. Another app's shop/models.py is not that module."""
    models = ("from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
              "class Base(DeclarativeBase):\n    pass\n"
              "class Order(Base):\n    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n")
    files = chain("for order in sa.orm.Session(bind=op.get_bind()).query(Order):\n    order.total = 0",
                  folder="services/shop/migrations/versions")
    files["services/shop/migrations/versions/r01.py"] = files["services/shop/migrations/versions/r01.py"].replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom shop.models import Order\n")
    files["services/shop/shop/models.py"] = models
    (f,) = found(ImportsApplicationModels, files)
    assert "loads or writes whole rows of today's model Order (services/shop/shop/models.py)" in f.message
    files["services/legacy/shop/models.py"] = models.replace("'orders'", "'legacy_orders'")
    (f,) = found(ImportsApplicationModels, files)  # the one under the revision's own app
    assert "(services/shop/shop/models.py)" in f.message


def test_a_model_used_only_by_named_columns_is_no_finding_and_one_passed_on_is_info():
    """A bulk update, `Model.column` and an instance never added to a session take only the columns
    they name: the model's later columns do not matter. A class handed to a function of the revision's own
    cannot be followed: an info that says so."""
    models = ("from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
              "class Base(DeclarativeBase):\n    pass\n"
              "class Order(Base):\n    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n")

    def with_upgrade(body: str) -> dict[str, str]:
        files = chain(body)
        files["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
            "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app.models import Order\n")
        files["app/models.py"] = models
        return files

    named = with_upgrade(
        "session = sa.orm.Session(bind=op.get_bind())\n"
        'session.query(Order).filter(Order.id > 10).update({"id": Order.id + 1})\n'
        "op.execute(sa.update(Order).where(Order.id == 1).values(id=2))\n"
        "holder: Order = Order(id=3)\n"
        'op.execute(sa.text("INSERT INTO orders (id) VALUES (:id)").bindparams(id=holder.id))\n'
    )
    assert found(ImportsApplicationModels, named) == []
    (f,) = found(ImportsApplicationModels, with_upgrade("session = sa.orm.Session(bind=op.get_bind())\nsession.add(Order(id=3))\n"))
    assert f.severity == Severity.INFO  # no later revision adds a column the model maps: it runs today
    assert "no later revision adds a column that the model maps today (info until one does" in f.message
    (f,) = found(ImportsApplicationModels, with_upgrade("backfill(op.get_bind(), Order)\n"))
    assert f.severity == Severity.INFO and "cannot follow" in f.message


# -- what the same transaction already did ------------------------------------------------------------------

def test_constraints_and_indexes_on_columns_the_revision_added_are_not_lock_findings():
    """A column added earlier in the revision is all NULL, and its ALTER TABLE holds ACCESS EXCLUSIVE until
    commit: NOT VALID or CONCURRENTLY gains nothing there."""
    files = chain('''
with op.batch_alter_table("orders") as batch:
    batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
    batch.create_foreign_key("fk_orders_parent", "orders", ["parent_id"], ["id"])
    batch.create_index("ix_orders_parent_id", ["parent_id"])
op.add_column("orders", sa.Column("level", sa.Integer, server_default="1"))
op.create_check_constraint("level_positive", "orders", "level > 0")
op.execute("ALTER TABLE orders ADD CONSTRAINT level_small CHECK (level < 10)")
''')
    assert found(ValidatedUnderLock, files) == []
    assert found(IndexWithoutConcurrently, files) == []


def test_an_index_on_old_columns_of_a_table_already_locked_names_the_lock_and_is_info():
    files = chain('''
op.add_column("orders", sa.Column("note", sa.String(20)))
op.create_index("ix_orders_total", "orders", ["total"])
op.create_foreign_key("fk_orders_self", "orders", "orders", ["total"], ["id"])
''')
    [index] = found(IndexWithoutConcurrently, files)
    assert index.severity is Severity.INFO and index.location.start_line == 9
    assert "while the ACCESS EXCLUSIVE lock that its add_column on line 8 took is held until commit" in index.message
    # the foreign key's scan runs under the same lock: the index's finding names it, it has none of its own
    assert "under the same lock it also validates foreign key fk_orders_self on line 10" in index.message
    assert found(ValidatedUnderLock, files) == []


def test_a_commit_ends_what_the_transaction_holds():
    files = chain('''
op.add_column("orders", sa.Column("note", sa.String(20)))
op.execute("COMMIT")
op.create_index("ix_orders_total", "orders", ["total"])
''')
    [index] = found(IndexWithoutConcurrently, files)
    assert index.severity is Severity.WARNING and "(SHARE lock)" in index.message


def test_steps_in_a_branch_only_another_database_runs_are_not_postgresql_findings():
    files = chain('''
url = str(op.get_bind().engine.url)
if url.startswith("mysql"):
    op.create_foreign_key("orders_ibfk_1", "orders", "orders", ["total"], ["id"])
elif url.startswith("postgres"):
    op.create_foreign_key("orders_total_fkey", "orders", "orders", ["total"], ["id"])
if op.get_bind().dialect.name != "postgresql":
    op.create_index("ix_orders_total", "orders", ["total"])
''')
    [fk] = found(ValidatedUnderLock, files)
    assert "orders_total_fkey" in fk.message and "more like it" not in fk.message
    assert found(IndexWithoutConcurrently, files) == []


def test_rows_changed_before_any_ddl_hold_no_ddl_lock_and_after_it_the_lock_is_named():
    before = chain('''
op.execute("DELETE FROM orders WHERE total < 0")
op.create_check_constraint("total_positive", "orders", "total >= 0")
''')
    assert found(BackfillInSchemaMigration, before) == []
    after = chain('''
op.add_column("orders", sa.Column("status", sa.String(20)))
op.execute("UPDATE orders SET status = 'paid'")
''')
    [backfill] = found(BackfillInSchemaMigration, after)
    assert backfill.location.start_line == 9
    assert "the ACCESS EXCLUSIVE lock its add_column on line 8 took on orders is held until every row is done" in backfill.message


def test_a_column_the_revision_filled_is_not_empty_any_more():
    files = chain('''
op.add_column("orders", sa.Column("parent_id", sa.Integer, nullable=True))
op.execute("UPDATE orders SET parent_id = id")
op.create_foreign_key("fk_orders_parent", "orders", "orders", ["parent_id"], ["id"])
op.create_index("ix_orders_parent_id", "orders", ["parent_id"])
''')
    # the filled column is checked and indexed: both under the backfill's lock, which its finding names
    [backfill] = found(BackfillInSchemaMigration, files)
    assert backfill.location.start_line == 9 and "the ACCESS EXCLUSIVE lock its add_column on line 8 took" in backfill.message
    assert ("under the same lock it also validates foreign key fk_orders_parent on line 10, builds index "
            "ix_orders_parent_id on line 11") in backfill.message
    assert found(ValidatedUnderLock, files) == found(IndexWithoutConcurrently, files) == []


def test_inspector_guards_that_converge_or_change_rows_only_are_no_divergence():
    inspect = 'insp = sa.inspect(op.get_bind())\n'
    converging = chain(inspect + '''
if not insp.has_table("refunds"):
    op.create_table("refunds", sa.Column("id", sa.Integer))
if "ix_orders_total" not in [i["name"] for i in insp.get_indexes("orders")]:
    op.create_index("ix_orders_total", "orders", ["total"])
if insp.has_table("legacy"):
    op.drop_table("legacy")
    op.execute("DROP INDEX IF EXISTS ix_legacy")
if insp.has_table("audit"):
    op.execute("DELETE FROM audit WHERE total IS NULL")
''')
    assert found(InspectorGuardedDdl, converging) == []
    diverging = chain(inspect + '''
if "note" not in [c["name"] for c in insp.get_columns("orders")]:
    op.add_column("orders", sa.Column("note", sa.String(20)))  # converges: the guard asks for this column
    op.create_index("ix_orders_note", "orders", ["note"])  # skipped where the column was there without it
if insp.has_table("legacy_orders"):  # decided by another object: where it is missing, total stays as it was
    op.alter_column("orders", "total", type_=sa.BigInteger())
    op.execute("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0")
''')
    [finding] = found(InspectorGuardedDdl, diverging)
    assert finding.location.start_line == 12 and "decides 3 steps by" in finding.message
    assert "(first: create_index orders; not counted: 1 other step under such checks" in finding.message


def test_inspector_guards_with_nothing_left_to_do_on_the_skipped_path_are_no_divergence():
    inspect = 'insp = sa.inspect(op.get_bind())\n'
    converging = chain(inspect + '''
dialect_name = insp.dialect.name
if dialect_name == "postgresql":  # the dialect decides, not what the database holds
    op.create_index("ix_orders_total", "orders", ["total"], postgresql_using="btree")
elif dialect_name == "mysql":
    op.create_index("ix_orders_total", "orders", ["total"])
has_fk = any(fk["referred_table"] == "customers" and "customer_id" in fk["constrained_columns"]
             for fk in insp.get_foreign_keys("orders"))
if not has_fk:  # an FK from orders.customer_id to customers exists in both outcomes
    op.create_foreign_key(None, "orders", "customers", ["customer_id"], ["id"])
if "total" in [c["name"] for c in insp.get_columns("orders")]:  # skipped: no total to alter
    op.alter_column("orders", "total", nullable=False)
    op.execute("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0")
if "legacy_id" in [c["name"] for c in insp.get_columns("orders")]:
    op.execute("""
DO $$
DECLARE r RECORD;
BEGIN
  FOR r IN (SELECT conname FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f') LOOP
    EXECUTE format('ALTER TABLE orders DROP CONSTRAINT IF EXISTS %I', r.conname);
  END LOOP;
END$$;
""")
''')
    assert found(InspectorGuardedDdl, converging) == []
    security = chain(inspect + '''
if "total" in [c["name"] for c in insp.get_columns("orders")]:
    op.execute("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0, ENABLE ROW LEVEL SECURITY")
''')
    [finding] = found(InspectorGuardedDdl, security)  # a step besides the asked column's: RLS skipped where it is missing
    assert "decides 1 step by what the inspector finds in the database (SQL orders)" in finding.message


def test_inspector_guard_names_a_step_it_could_not_read_whole_by_its_call():
    files = chain('''
insp = sa.inspect(op.get_bind())
for table in insp.get_table_names():
    if "org_id" in [c["name"] for c in insp.get_columns(table)]:
        op.create_index(f"ix_{table}_org", table, ["org_id"])
''')
    [finding] = found(InspectorGuardedDdl, files)
    assert "unread" not in finding.message and "finds in the database (create_index" in finding.message


def test_a_drop_after_the_revision_copied_its_data_does_not_say_the_data_is_gone():
    copied = chain('''
op.create_table("order_notes", sa.Column("order_id", sa.Integer), sa.Column("total", sa.Integer))
op.execute("INSERT INTO order_notes (order_id, total) SELECT id, total FROM orders")
op.drop_column("orders", "total")
''')
    [drop] = found(DestructiveStep, copied)
    assert drop.message.endswith("its data was copied first (INSERT on line 9)") and "gone for good" not in drop.message
    swapped = chain('''
op.add_column("orders", sa.Column("new_total", sa.BigInteger))
op.execute("UPDATE orders SET new_total = total")
op.drop_column("orders", "total")
op.alter_column("orders", "new_total", new_column_name="total")
''')
    [swap] = found(DestructiveStep, swapped)
    assert "drops column orders.total and renames new_total to total in its place" in swap.message
    assert "gone for good" not in swap.message
    read = chain('''
rows = op.get_bind().execute(sa.text("SELECT id, total FROM orders")).all()
op.drop_column("orders", "total")
''')
    [drop] = found(DestructiveStep, read)
    assert "the revision reads its rows first (line 8), so they may be kept elsewhere" in drop.message
    [lost] = found(DestructiveStep, chain('op.drop_column("orders", "total")'))
    assert lost.message.endswith("its data is gone for good")


def test_a_model_reached_through_its_imported_module_and_the_models_a_revision_patches():
    """`from app import models` then `session.query(models.Order)` loads whole rows as `from app.models
    import Order` does; a column a later revision adds, which the model maps today, is named. Assigning
    to a model class or building a Table on the application's MetaData changes the models for the rest of
    the process: said in the finding, an info of its own where the revision loads nothing whole."""
    models = ("from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
              "class Base(DeclarativeBase):\n    pass\n"
              "class Order(Base):\n    __tablename__ = 'orders'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
              "    total: Mapped[int]\n    note: Mapped[str]\n")
    files = chain('for order in sa.orm.Session(bind=op.get_bind()).query(models.Order):\n    order.total = 0\n'
                  'models.Order.extra = sa.orm.relationship("Order")\n'
                  'sa.Table("old_links", models.Base.metadata, sa.Column("id", sa.Integer), extend_existing=True)',
                  'op.add_column("orders", sa.Column("note", sa.String))')
    files["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
        "import sqlalchemy as sa\n", "import sqlalchemy as sa\nfrom app import models\n")
    files["app/__init__.py"] = ""
    files["app/models.py"] = models
    (f,) = found(ImportsApplicationModels, files)
    assert f.severity == Severity.WARNING and f.anchor == "migration:r01:imports-models"
    assert "whole rows of today's model models.Order (app/models.py)" in f.message
    assert "later revisions add orders.note (r02), which the model maps today: upgrading a database from before" in f.message
    assert "sets models.Order.extra (line 11), adds table old_links to models.Base.metadata (line 12)" in f.message
    deferred = dict(files)
    deferred["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
        ".query(models.Order)", ".query(models.Order).options(sa.orm.defer(models.Order.note))")
    (f,) = found(ImportsApplicationModels, deferred)
    assert "later revisions add" not in f.message  # a deferred column is not selected: the general claim only
    only_patch = dict(files)
    only_patch["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
        "    for order in sa.orm.Session(bind=op.get_bind()).query(models.Order):\n        order.total = 0\n", "")
    (f,) = found(ImportsApplicationModels, only_patch)
    assert f.severity == Severity.INFO and f.message.startswith("revision r01 changes the application's models")
    assert "whole rows" not in f.message


def test_a_unique_key_check_or_not_null_over_rows_already_there_says_the_upgrade_fails_where_they_break_it():
    """Issue 8, migration data preconditions: the lock claim stays as it was, and the rows the new rule
    refuses are named; where an earlier step of the revision may write rows (SQL, a session), dbreview
    cannot tell whether they were fixed and says nothing of them."""
    (index,) = found(IndexWithoutConcurrently, chain(
        'op.create_index("uq_orders_total", "orders", [sa.func.lower(sa.Column("total"))], unique=True, '
        'postgresql_where=sa.text("total > 0"))'))
    assert index.message.startswith("revision r01 builds index uq_orders_total on orders without CONCURRENTLY")
    assert index.message.endswith(
        "; it also fails, and the upgrade with it, on a database where two rows of orders already share (lower(total)) "
        "among those where total > 0: no earlier step of this revision changes those rows")
    (plain,) = found(IndexWithoutConcurrently, chain('op.create_index("ix_orders_total", "orders", ["total"])'))
    assert "fails" not in plain.message  # not unique: no precondition
    (fixed,) = found(IndexWithoutConcurrently, chain(
        'op.execute("DELETE FROM orders a USING orders b WHERE a.id > b.id AND a.total = b.total")\n'
        'op.create_index("uq_orders_total", "orders", ["total"], unique=True)'))
    assert "fails" not in fixed.message
    (not_null,) = found(ValidatedUnderLock, chain('op.alter_column("orders", "total", existing_type=sa.Integer(), nullable=False)'))
    assert not_null.message.endswith("on a database where orders.total holds a NULL: no earlier step of this revision changes those rows")
    (check,) = found(ValidatedUnderLock, chain('op.create_check_constraint("total_positive", "orders", "total > 0")'))
    assert "on a database where a row of orders already breaks the CHECK" in check.message
    backfilled = chain('conn = op.get_bind()\nconn.execute(sa.text("UPDATE orders SET total = 0 WHERE total IS NULL"))\n'
                       'op.alter_column("orders", "total", existing_type=sa.Integer(), nullable=False)')
    assert all("holds a NULL" not in f.message for f in found(ValidatedUnderLock, backfilled))


def test_a_table_two_downgrades_drop_on_one_line_of_revisions():
    """MIG022: the newer downgrade drops it every time; the older one's DROP TABLE then fails. A drop that
    runs only sometimes (an `if`, IF EXISTS), a create on the way down, or a branch in between: unsure, no
    finding."""
    from analyzers.rules.s03_migration_chain import DowngradeChainDropsTwice, DowngradeDropsOthers

    rebuilt = 'op.drop_table("tokens")\nop.create_table("tokens", sa.Column("id", sa.Integer), sa.Column("b", sa.Text))'

    def history(newer_down: str, middle_down: str = "pass", newer_up: str = rebuilt) -> dict[str, str]:
        return {
            "migrations/versions/r00.py": revision("r00", None, 'op.create_table("tokens", sa.Column("id", sa.Integer))',
                                                   'op.drop_table("tokens")'),
            "migrations/versions/r01.py": revision("r01", "r00", 'op.add_column("tokens", sa.Column("a", sa.Text))', middle_down),
            "migrations/versions/r02.py": revision("r02", "r01", newer_up, newer_down),
        }

    (f,) = found(DowngradeChainDropsTwice, history('op.drop_table("tokens")'))
    assert (f.location.path, f.anchor) == ("migrations/versions/r00.py", "migration:r00:downgrade-drops-twice:tokens")
    assert ("which the downgrade of revision r02 (migrations/versions/r02.py:12) already dropped: `alembic downgrade` "
            "through both runs r02's downgrade first, then r01's, nothing on the way creates tokens again") in f.message
    # notifications-api 0011 (judged wrong): r02's upgrade did not create tokens, so its drop is the one to fix, and the
    # finding is said there (as MIG015's); r00's drop undoes its own create
    added = history('op.drop_table("tokens")', newer_up='op.add_column("tokens", sa.Column("b", sa.Text))')
    (g,) = found(DowngradeChainDropsTwice, added)
    assert (g.location.path, g.location.start_line, g.anchor) == ("migrations/versions/r02.py", 11, "migration:r02:downgrade-drops-first:tokens")
    assert g.message.startswith(
        "the downgrade of revision r02 drops table tokens, which its upgrade did not create and the downgrade of revision "
        "r00, whose upgrade did, drops again (migrations/versions/r00.py:11): `alembic downgrade` through both runs r02's "
        "downgrade first, then r01's, nothing on the way creates tokens again, so that DROP TABLE finds no table and fails")
    (other,) = found(DowngradeDropsOthers, added)
    assert (other.location.path, other.location.start_line) == ("migrations/versions/r02.py", 11)
    assert found(DowngradeChainDropsTwice, history('if op.get_bind().dialect.name == "postgresql":\n    op.drop_table("tokens")')) == []
    assert found(DowngradeChainDropsTwice, history('op.execute("DROP TABLE IF EXISTS tokens")')) == []
    assert found(DowngradeChainDropsTwice, history('op.drop_table("tokens")',
                                                   'op.create_table("tokens", sa.Column("id", sa.Integer))')) == []
    assert found(DowngradeChainDropsTwice, history('op.drop_table("tokens")', 'op.execute(some_sql)')) == []
    branched = history('op.drop_table("tokens")')
    branched["migrations/versions/r03.py"] = revision("r03", "r01", "pass")
    assert found(DowngradeChainDropsTwice, branched) == []
    # two tables of one name in two schemas (indico's events.roles and categories.roles) are two tables
    schemas = history('op.drop_table("tokens", schema="audit")')
    assert found(DowngradeChainDropsTwice, schemas) == []
    schemas["migrations/versions/r00.py"] = schemas["migrations/versions/r00.py"].replace(
        'op.drop_table("tokens")', 'op.drop_table("tokens", schema="audit")')
    assert len(found(DowngradeChainDropsTwice, schemas)) == 1
    assert found(DowngradeChainDropsTwice, history('op.drop_table("tokens", schema=SCHEMA)')) == []


def test_timestamp_to_timestamptz_is_no_sure_rewrite():
    """PostgreSQL 12+ changes timestamp <-> timestamptz without a rewrite where the session's TimeZone is UTC
    (fix9 mig.txt, flaskbb d9530a529b3f): said so, the lock kept; other type changes keep 'rewrites'."""
    (f,) = found(TableRewrite, chain('op.add_column("orders", sa.Column("paid_at", sa.DateTime()))',
                                     'op.alter_column("orders", "paid_at", type_=sa.DateTime(timezone=True), '
                                     'existing_type=sa.DateTime(timezone=False))'))
    assert "(timestamp without time zone to with)" in f.message
    assert "PostgreSQL 12 and later skip the rewrite of this change where the session's TimeZone is UTC" in f.message
    assert f.anchor == "migration:r02:type:orders.paid_at"
    (g,) = found(TableRewrite, chain('op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())'))
    assert "PostgreSQL rewrites it and its indexes" in g.message


def test_a_squash_that_takes_the_id_of_the_legacy_head_is_not_undone_by_the_legacy_history():
    """zou: versions/0001_squash.py has revision a1 (the head of versions/legacy/), and later revisions add
    columns. The legacy tree, replayed after the squash, re-created the tables without those columns:
    MIG006 said 18 columns were added by no migration (fix9, judged wrong). The legacy tree is history now
    (link.squashed_trees), out of the replay."""
    from analyzers.rules.s03_migrations import ModelMigrationDrift

    files = {
        "app/versions/legacy/l0.py": revision("l0", None, 'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))'),
        "app/versions/legacy/a1.py": revision("a1", "l0", 'op.add_column("orders", sa.Column("total", sa.Integer))'),
        "app/versions/0001_squash.py": revision("a1", None, 'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), '
                                                           'sa.Column("total", sa.Integer))'),
        "app/versions/r02.py": revision("r02", "a1", 'op.add_column("orders", sa.Column("note", sa.Text))'),
        "app/models.py": "from sqlalchemy import Column, Integer, Text\nfrom sqlalchemy.orm import DeclarativeBase\n"
                         "class Base(DeclarativeBase):\n    pass\nclass Order(Base):\n    __tablename__ = 'orders'\n"
                         "    id = Column(Integer, primary_key=True)\n    total = Column(Integer)\n    note = Column(Text)\n",
    }
    assert [f.message for f in found(ModelMigrationDrift, files)] == []


def test_a_unique_key_the_table_already_had_is_no_data_precondition():
    """zou f3a7c1e9b5d2: a unique constraint rebuilt as a partial unique index on the same columns; lemur
    a9987414cf36 had no such key: the precondition is said there only."""
    files = chain('op.create_unique_constraint("uq_orders_total", "orders", ["total"])',
                  'op.drop_constraint("uq_orders_total", "orders", type_="unique")\n'
                  'op.create_index("uq_orders_total", "orders", ["total", "id"], unique=True, postgresql_where=sa.text("total > 0"))')
    by_line = {f.location.path: f for f in found(IndexWithoutConcurrently, files)}
    assert "two rows of orders already share (total)" in by_line["migrations/versions/r01.py"].message
    assert "fails" not in by_line["migrations/versions/r02.py"].message


def test_a_downgrade_in_between_that_drops_no_table_keeps_the_replay():
    from analyzers.rules.s03_migration_chain import DowngradeChainDropsTwice

    files = {
        "migrations/versions/r00.py": revision("r00", None, 'op.create_table("tokens", sa.Column("id", sa.Integer))',
                                               'op.drop_table("tokens")'),
        "migrations/versions/r01.py": revision("r01", "r00", 'op.add_column("tokens", sa.Column("a", sa.Text))',
                                               'op.drop_column("tokens", "a")'),
        "migrations/versions/r02.py": revision("r02", "r01", 'op.drop_table("tokens")\n'
                                               'op.create_table("tokens", sa.Column("id", sa.Integer), sa.Column("b", sa.Text))',
                                               'op.drop_table("tokens")'),
    }
    (f,) = found(DowngradeChainDropsTwice, files)
    assert f.anchor == "migration:r00:downgrade-drops-twice:tokens"


def test_a_check_rebuilt_in_place_says_nothing_of_the_rows():
    """indico 461958bf2774: the old CHECK is dropped and a wider one added; the rows met the old one."""
    files = chain('op.create_check_constraint("total_small", "orders", "total < 10")',
                  'op.drop_constraint("total_small", "orders", type_="check")\n'
                  'op.create_check_constraint("total_small", "orders", "total < 100")')
    by_path = {f.location.path: f for f in found(ValidatedUnderLock, files)}
    assert "already breaks the CHECK" in by_path["migrations/versions/r01.py"].message
    assert "already breaks the CHECK" not in by_path["migrations/versions/r02.py"].message


# -- a COMMIT of the revision's own, then several steps (MIG008) ------------------------------------------


def test_steps_after_a_commit_of_the_revisions_own_commit_one_by_one():
    """`op.execute("COMMIT")` to leave Alembic's transaction, then a type swapped in four statements: each commits
    alone, so a failure midway leaves the schema half-changed. A SET LOCAL after it lasts for no statement."""
    files = chain('''
op.execute("COMMIT")
op.execute("SET LOCAL statement_timeout = '1min'")
op.execute("UPDATE orders SET total = 0 WHERE total IS NULL")
op.execute("ALTER TYPE order_state RENAME TO order_state_old")
op.execute("CREATE TYPE order_state AS ENUM ('open', 'paid')")
op.drop_column("orders", "total")
''')
    (f,) = found(ConcurrentlyInTransaction, files)
    assert f.severity == Severity.WARNING and f.item_id == "3.2" and f.anchor == "migration:r01:commit-midway"
    assert (f.location.path, f.location.start_line) == ("migrations/versions/r01.py", 8)
    assert f.message == (
        "revision r01 runs COMMIT on line 8, which ends Alembic's transaction: the 4 steps after it (UPDATE orders on "
        "line 10, ALTER TYPE on line 11, CREATE TYPE on line 12, ...) each commit on their own, so a failure midway "
        "leaves the schema half-changed with alembic_version not advanced, and running the upgrade again starts from "
        "steps already done; the SET LOCAL on line 9 after it, outside a transaction block, lasts for no statement")


def test_a_commit_before_one_step_or_a_begin_after_it_is_no_half_done_upgrade():
    """One statement after the COMMIT (ALTER TYPE ... ADD VALUE, which older PostgreSQL refuses in a transaction)
    cannot be left half-done; a BEGIN opens a transaction again; only data after it changes no schema."""
    one = chain('op.execute("COMMIT")\nop.execute("ALTER TYPE order_state ADD VALUE \'void\'")')
    again = chain('op.execute("COMMIT")\nop.execute("BEGIN")\nop.drop_column("orders", "total")\n'
                  'op.execute("ALTER TYPE order_state RENAME TO order_state_old")')
    rows = chain('op.execute("COMMIT")\nop.execute("UPDATE orders SET total = 0")\nop.execute("DELETE FROM orders")')
    assert [found(ConcurrentlyInTransaction, files) for files in (one, again, rows)] == [[], [], []]


def test_an_old_revision_that_commits_midway_is_history():
    """As for the lock rules: a revision older than the newest generations ran long ago everywhere."""
    files = chain('op.execute("COMMIT")\nop.drop_column("orders", "total")\nop.execute("DROP TYPE order_state")',
                  *(["op.execute('SELECT 1')"] * RECENT))
    assert found(ConcurrentlyInTransaction, files) == []


# -- tables made outside the migrations: create_all, then `alembic stamp` ------------------------------------

_MODELS = """
from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base
Base = declarative_base()

class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    state = Column(String(20))
"""


def test_a_table_of_the_models_that_no_revision_creates_exists_before_the_first_revision():
    """The history starts from a schema create_all built (its root creates no table): the models' tables are
    there, with their rows, before any revision runs; a type change on one rewrites it like on any other."""
    files = {"app/models.py": _MODELS,
             "migrations/versions/r00.py": revision("r00", None, 'op.add_column("orders", sa.Column("note", sa.Text()))'),
             "migrations/versions/r01.py": revision(
                 "r01", "r00", 'op.execute("ALTER TABLE orders ALTER COLUMN state TYPE order_state USING state::order_state")')}
    (f,) = found(TableRewrite, files)
    assert f.severity == Severity.INFO and f.anchor == "migration:r01:type:orders.state"
    assert f.message == ("revision r01 changes the type of orders.state to order_state; orders exists from before the "
                         "migrations (no revision dbreview read creates it; the models define it), and PostgreSQL rewrites it and its "
                         "indexes under an ACCESS EXCLUSIVE lock")
    rooted = dict(files, **{"migrations/versions/r00.py": revision("r00", None, 'op.create_table("customers", sa.Column("id", sa.Integer))')})
    assert found(TableRewrite, rooted) == []  # a history that builds its own tables: one it never made is MIG017's


def test_an_integer_primary_key_added_to_a_table_is_filled_by_its_sequence():
    """security_monkey (MIG009 judged wrong): `op.add_column(t, sa.Column("id", sa.Integer, primary_key=True))` renders
    `ADD COLUMN id SERIAL NOT NULL` on PostgreSQL, whose sequence fills the rows there are. A text key is not filled."""
    assert found(NotNullColumnWithoutDefault, chain(
        'op.add_column("orders", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True))')) == []
    (f,) = found(NotNullColumnWithoutDefault, chain('op.add_column("orders", sa.Column("code", sa.String(8), primary_key=True))'))
    assert f.message.startswith("revision r01 adds orders.code NOT NULL without a server default")


def test_an_insert_of_values_into_a_table_named_as_the_dropped_column_copies_nothing():
    """funding-assessment-store (MIG012 judged wrong): `INSERT INTO scoring_system ... VALUES (...)` beside a drop of
    the column assessment_round.scoring_system was read as its copy; an INSERT of values reads no column."""
    seeded = chain('''
op.create_table("total", sa.Column("id", sa.Integer), sa.Column("name", sa.String(20)))
op.execute("INSERT INTO total (id, name) VALUES (1, 'gross')")
op.drop_column("orders", "total")
''')
    [drop] = found(DestructiveStep, seeded)
    assert drop.message.endswith("its data is gone for good")
