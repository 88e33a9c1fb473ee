"""An alter_column that Alembic emits nothing for (MIG025): given no change keyword, or a `sa.Column(...)`
where Alembic wants the column's name."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.facts.effects import unread_ops
from analyzers.findings import Severity
from analyzers.rules.s03_migration_calls import AlterColumnChangesNothing
from tests.test_migration_safety import chain, found

# -- MIG025: an alter_column with no change ----------------------------------------------------------------


def test_a_column_given_where_the_name_goes_is_a_call_alembic_emits_nothing_for():
    files = chain('with op.batch_alter_table("orders") as batch_op:\n'
                  '    batch_op.alter_column(sa.Column("total", sa.Integer(), nullable=False))')
    facts = facts_from_sources(files)
    (f,) = AlterColumnChangesNothing(facts).check()
    assert (f.location.path, f.location.start_line, f.severity) == ("migrations/versions/r01.py", 9, Severity.WARNING)
    assert f.anchor == "migration:r01:upgrade:alter_column:orders.total"
    assert "alters orders.total given `sa.Column('total', sa.Integer(), nullable=False)` where Alembic wants" in f.message
    assert "Alembic emits no SQL for it" in f.message
    # read, not left as a call that could not be read (nor said to fail: Alembic takes it without an error)
    assert unread_ops(facts.revisions[1].upgrade) == []
    # and the schema the migrations build keeps the column nullable, as the database does
    assert facts.migration_tables["orders"].columns["total"].nullable is not False


def test_no_change_keyword_in_a_downgrade_is_a_finding_and_only_existing_ones_too():
    files = chain('op.alter_column("orders", "total", existing_type=sa.Integer(), existing_nullable=True)')
    files["migrations/versions/r01.py"] = files["migrations/versions/r01.py"].replace(
        "def downgrade():\n    pass", 'def downgrade():\n    op.alter_column("orders", "total")')
    found_ = found(AlterColumnChangesNothing, files)
    assert [(f.location.start_line, f.anchor) for f in found_] == [
        (8, "migration:r01:upgrade:alter_column:orders.total"), (11, "migration:r01:downgrade:alter_column:orders.total")]
    assert all("given no change keyword" in f.message for f in found_)


def test_a_change_keyword_options_or_a_column_with_a_change_are_no_finding():
    files = chain('op.alter_column("orders", "total", nullable=False)\n'
                  'op.alter_column("orders", "total", existing_type=sa.Integer(), server_default="0")\n'
                  'op.alter_column("orders", "total", **CHANGES)\n'
                  'with op.batch_alter_table("orders") as batch_op:\n'
                  '    batch_op.alter_column("total", new_column_name="amount")\n'
                  '    batch_op.alter_column(sa.Column("amount", sa.Integer()), nullable=False)')
    facts = facts_from_sources(files)
    assert list(AlterColumnChangesNothing(facts).check()) == []
    # a Column beside a change keyword: Alembic fails on it, and the note says so
    (note,) = unread_ops(facts.revisions[1].upgrade)
    assert note.span.start == 13 and "Alembic fails on it" in note.reason
