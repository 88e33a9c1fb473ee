"""A column dropped and added back in one upgrade to change its default or type (MIG012): its values are
lost wherever the revision runs, however old the revision."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.facts.history import RECENT
from analyzers.rules.s03_migration_safety import DestructiveStep
from tests.test_migration_safety import chain, found

# -- MIG012: a column dropped and added back -----------------------------------------------------------------

_READDED = ('op.drop_column("orders", "total")\n'
            'op.add_column("orders", sa.Column("total", sa.Integer(), server_default="0", nullable=False))')


def test_a_column_dropped_and_added_back_loses_its_values_even_in_an_old_revision():
    files = chain(_READDED, *(["op.execute('SELECT 1')"] * (RECENT + 1)))
    (f,) = found(DestructiveStep, files)
    assert (f.location.path, f.location.start_line, f.severity) == ("migrations/versions/r01.py", 8, Severity.WARNING)
    assert f.anchor == "migration:r01:destructive:orders.total"
    assert ("drops column orders.total and adds it back on line 9: every existing row of orders loses its total, "
            "which comes back as '0' in every row") in f.message


def test_a_plain_drop_in_an_old_revision_stays_history_and_a_copy_first_keeps_the_values():
    old_drop = chain('op.drop_column("orders", "total")', *(["op.execute('SELECT 1')"] * (RECENT + 1)))
    assert found(DestructiveStep, old_drop) == []
    copied = chain('op.add_column("orders", sa.Column("total_old", sa.Integer()))\n'
                   'op.execute("UPDATE orders SET total_old = total")\n' + _READDED)
    (f,) = found(DestructiveStep, copied)
    assert f.severity == Severity.INFO and "adds it back" not in f.message and "its data was copied first" in f.message


def test_no_loss_where_the_table_was_emptied_the_add_fails_on_rows_or_the_type_is_of_another_kind():
    for upgrade in ('op.execute("DELETE FROM orders")\n' + _READDED,
                    'op.drop_column("orders", "total")\nop.add_column("orders", sa.Column("total", sa.Integer(), nullable=False))',
                    'op.drop_column("orders", "total")\nop.add_column("orders", sa.Column("total", sa.Uuid()))'):
        assert [f.severity for f in found(DestructiveStep, chain(upgrade))] == [Severity.INFO], upgrade  # the drop alone


def test_a_column_re_added_in_sql_is_found_too():
    files = chain('op.execute("ALTER TABLE orders DROP COLUMN total")\n'
                  'op.execute("ALTER TABLE orders ADD COLUMN total bigint")')
    (f,) = found(DestructiveStep, files)
    assert f.severity == Severity.WARNING and "adds it back on line 9" in f.message
    assert "comes back as its new default (or NULL) in every row" in f.message


def test_a_column_added_back_as_a_generated_column_loses_nothing():
    """tacker (MIG012 warnings judged wrong x2): dropped, then added back `GENERATED ALWAYS AS (...) STORED` (or with
    sa.Computed): PostgreSQL computes each row's value again, and the column is there for old code too."""
    for upgrade in ('op.execute("ALTER TABLE orders DROP COLUMN total")\n'
                    'op.execute("ALTER TABLE orders ADD COLUMN total bigint GENERATED ALWAYS AS (price * qty) STORED")',
                    'op.drop_column("orders", "total")\n'
                    'op.add_column("orders", sa.Column("total", sa.BigInteger(), sa.Computed("price * qty")))'):
        assert found(DestructiveStep, chain(upgrade)) == [], upgrade
