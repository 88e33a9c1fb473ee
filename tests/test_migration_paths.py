"""Paths a revision takes that are not what they look like (issue 7): lookups of names to drop, steps taken
only on another database, repairs of what an earlier revision made, helpers the upgrade calls first, the
transaction env.py really runs a revision in. Each class of wrong finding rebuilt as a small repository of
our own."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_migration_precision import _later
from tests.test_precision import found, revision


def test_a_drop_by_a_name_the_inspector_looked_up_is_no_divergence(tmp_path):
    """A constraint dropped by the name a lookup found (`if fk_name: op.drop_constraint(fk_name, ...)`)."""
    lookup = ('insp = sa.inspect(op.get_bind())\n'
              'fk_name = next((fk["name"] for fk in insp.get_foreign_keys("orders") if fk["referred_table"] == "shops"), None)\n'
              'if fk_name:\n'
              '    op.drop_constraint(fk_name, "orders", type_="foreignkey")\n')
    assert found(tmp_path, _later(lookup), "MIG018") == []
    # the same lookup deciding something else than that drop still differs
    other = lookup.replace('op.drop_constraint(fk_name, "orders", type_="foreignkey")',
                           'op.alter_column("orders", "note", type_=sa.String(80))')
    (f,) = found(tmp_path / "other", _later(other), "MIG018")
    assert f.anchor == "migration:0002:inspector"


def test_a_check_inside_a_branch_for_another_database_is_no_part_of_the_postgresql_schema(tmp_path):
    """A repair that reflects first only on Oracle (no IF NOT EXISTS there), IF NOT EXISTS elsewhere."""
    repair = ('bind = op.get_bind()\n'
              'if bind.dialect.name == "oracle":\n'
              '    if "orders_seq" not in sa.inspect(bind).get_sequence_names():\n'
              '        op.execute("CREATE SEQUENCE orders_seq")\n'
              '    else:\n'
              '        op.execute("ALTER SEQUENCE orders_seq RESTART START WITH 100")\n'
              'else:\n'
              '    op.execute("CREATE SEQUENCE IF NOT EXISTS orders_seq")\n')
    assert found(tmp_path, _later(repair), "MIG018") == []
    # the same check on PostgreSQL's path is still reported
    (f,) = found(tmp_path / "pg", _later(repair.replace('"oracle"', '"postgresql"')), "MIG018")
    assert f.severity == Severity.INFO


def test_a_create_that_repairs_what_an_earlier_revision_made_is_not_this_downgrades_to_drop(tmp_path):
    """A table an ancestor creates, created again in a try/except "in case it is missing"."""
    repair = ('try:\n'
              '    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))\n'
              'except Exception:\n'
              '    pass  # there already on most databases\n'
              'op.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True))\n')
    files = _later("")
    files["migrations/versions/0002_change.py"] = revision(repair, 'op.execute("UPDATE orders SET note = NULL")', rev="0002", down="0001")
    (f,) = found(tmp_path, files, "MIG002")
    assert "creates table refunds" in f.message


AUTOCOMMIT_ENV = '''
from alembic import context
from app.models import Base
target_metadata = Base.metadata
def run_migrations_online():
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
'''


def test_no_lock_is_held_across_statements_where_env_py_connects_in_autocommit(tmp_path):
    """Each statement commits on its own: the add_column's lock is gone before the UPDATE starts."""
    backfill = ('op.add_column("orders", sa.Column("status", sa.String(20)))\n'
                'op.execute("UPDATE orders SET status = \'paid\'")\n')
    (f,) = found(tmp_path, _later(backfill), "MIG013")
    assert "held until every row is done" in f.message
    assert found(tmp_path / "auto", _later(backfill, **{"migrations/env.py": AUTOCOMMIT_ENV}), "MIG013") == []


DEDUPE_FIRST = '''
from alembic import op
import sqlalchemy as sa
revision = "0002"
down_revision = "0001"
orders = sa.table("orders", sa.column("id"), sa.column("note"))


def renumber_duplicate_notes():
    bind = op.get_bind()
    seen = set()
    for id_, note in bind.execute(sa.select(orders.c.id, orders.c.note)).fetchall():
        if note in seen:
            _rename(bind, id_, f"{note}-{id_}")
        seen.add(note)


def _rename(bind, id_, note):
    bind.execute(orders.update().where(orders.c.id == id_).values(note=note))


def upgrade():
    renumber_duplicate_notes()
    op.create_unique_constraint("uq_orders_note", "orders", ["note"])


def downgrade():
    op.drop_constraint("uq_orders_note", "orders")
'''


def test_rows_fixed_first_by_a_helper_of_the_revision_are_no_failed_precondition(tmp_path):
    """A unique key built after the upgrade calls its module's own function that renames the duplicates."""
    files = _later("")
    files["migrations/versions/0002_change.py"] = DEDUPE_FIRST
    (f,) = found(tmp_path, files, "MIG007")
    assert "fails" not in f.message and "no earlier step" not in f.message
    files["migrations/versions/0002_change.py"] = DEDUPE_FIRST.replace("    renumber_duplicate_notes()\n", "")
    (f,) = found(tmp_path / "none", files, "MIG007")
    assert "no earlier step of this revision changes those rows" in f.message


def test_an_index_made_only_where_the_inspector_finds_none_on_a_keys_columns_is_never_built(tmp_path):
    """PERF006: `if not has_index(booking_id): create_index(...)` after the unique constraint on booking_id is
    there: on PostgreSQL get_indexes lists the constraint's index, so the repeat is never built."""
    from tests.test_perf006_repeats import SHOP

    model = SHOP.replace(', Index("ix_orders_shop", "shop_id", "number"), Index("ix_orders_number", "number"),\n'
                         '                      Index("ix_orders_first", "shop_id")', "")
    made = ('op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("shop_id", sa.Integer), '
            'sa.Column("number", sa.Integer), sa.Column("code", sa.String(40)))\n')
    guarded = ('if not any(set(i["column_names"]) == {"code"} for i in sa.inspect(op.get_bind()).get_indexes("orders")):\n'
               '    op.create_index("ix_orders_code", "orders", ["code"])\n')
    files = {"app/models.py": model, "migrations/versions/0001_init.py": revision(
        made + 'op.create_unique_constraint("uq_orders_code", "orders", ["code"])\n' + guarded)}
    assert found(tmp_path, files, "PERF006") == []
    # the key made after the index: the repeat is built
    files["migrations/versions/0001_init.py"] = revision(made + guarded + 'op.create_unique_constraint("uq_orders_code", "orders", ["code"])\n')
    assert [f.anchor for f in found(tmp_path / "after", files, "PERF006")] == ["table:orders.code:repeats-key"]


def test_a_downgrade_that_only_prints_why_is_one_explained_empty_downgrade(tmp_path):
    """A root revision converting an older schema; its downgrade prints that going back is not supported:
    one info for the revision (MIG001), no finding per operation (MIG002)."""
    files = _later("")
    files["migrations/versions/0002_change.py"] = revision(
        'op.drop_column("orders", "note")\nop.create_table("refunds", sa.Column("id", sa.Integer, primary_key=True))',
        'print("We do not support downgrading to version 1.")', rev="0002", down="0001")
    assert found(tmp_path, files, "MIG002") == []
    (f,) = found(tmp_path, files, "MIG001")
    assert f.severity == Severity.INFO
    assert "has an empty downgrade, on purpose by its message ('We do not support downgrading to version 1.')" in f.message


def test_an_empty_downgrade_of_changes_the_old_code_still_works_with_is_info(tmp_path):
    """A column made longer, a sequence and an extension created: the code before runs on what they leave."""
    wider = ('op.alter_column("orders", "note", type_=sa.String(80), existing_type=sa.String(50))\n'
             'op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")\n'
             'op.execute("CREATE SEQUENCE orders_number_seq")\n')
    (f,) = found(tmp_path, _later(wider), "MIG001")
    assert f.severity == Severity.INFO and f.anchor == "migration:0002:downgrade"
    assert ("leaves a schema the code before it still works with (orders.note made longer, an extension created, a "
            "sequence created): a deploy can be rolled back without undoing them") in f.message
    # made shorter: the old code may write what no longer fits
    (f,) = found(tmp_path / "shorter", _later(wider.replace("sa.String(80), existing_type=sa.String(50)",
                                                             "sa.String(20), existing_type=sa.String(50)")), "MIG001")
    assert f.severity == Severity.WARNING


def test_a_docstring_whose_quotes_stand_alone_is_read_and_called_a_comment(tmp_path):
    files = _later("")
    files["migrations/versions/0002_change.py"] = revision(
        'op.drop_column("orders", "note")', '"""\nThis migration does not support downgrades.\n"""\nlog.info("Not supported.")',
        rev="0002", down="0001")
    (f,) = found(tmp_path, files, "MIG001")
    assert f.severity == Severity.INFO
    assert "on purpose by its comment ('This migration does not support downgrades.')" in f.message
