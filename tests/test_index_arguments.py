"""Index and CHECK arguments that say something else than they seem to (INT018, INT019): a column's name
given as the index's name, a column's name given as a string to a SQL function; in a model and in a
migration, one finding per index where both declare it."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from analyzers.rules.s05_index_arguments import FunctionOfLiteral, IndexNamedLikeColumn

_MODEL = HEADER + '''
from sqlalchemy import CheckConstraint, Text

class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column()
    slot: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    __table_args__ = ({args},)
'''

_MIGRATION = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("entries", sa.Column("id", sa.Integer, primary_key=True), sa.Column("owner_id", sa.Integer),
                    sa.Column("slot", sa.String(20)), sa.Column("body", sa.Text))
{steps}
def downgrade():
    op.drop_table("entries")
'''


def check(rule, args: str, steps: str = ""):
    files = {"models.py": _MODEL.format(args=args)}
    if steps:
        files["migrations/versions/0001_entries.py"] = _MIGRATION.format(steps=steps)
    return list(rule(facts_from_sources(files)).check())


# -- INT018 ------------------------------------------------------------------------------------------------


def test_a_unique_index_named_like_a_column_it_does_not_list_is_one_warning_with_its_migration():
    (f,) = check(IndexNamedLikeColumn, 'Index("owner_id", "slot", unique=True)',
                 '    op.create_index("owner_id", "entries", ["slot"], unique=True)')
    assert (f.location.path, f.location.start_line, f.severity, f.item_id) == ("models.py", 21, Severity.WARNING, "5.5")
    assert f.anchor == "table:entries:index:owner_id:named_like_column"
    assert "index owner_id on entries lists slot only" in f.message
    assert "the unique key is (slot) alone: two rows with the same slot are refused whatever their owner_id" in f.message
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("migrations/versions/0001_entries.py", 9)]


def test_a_plain_index_so_named_is_info_and_one_only_in_a_migration_is_found_there():
    (f,) = check(IndexNamedLikeColumn, 'Index("ix_entries_slot", "slot")',
                 '    op.create_index("owner_id", "entries", ["slot"])')
    assert (f.location.path, f.location.start_line, f.severity, f.item_id) == (
        "migrations/versions/0001_entries.py", 9, Severity.INFO, "3.3")
    assert "of no use to a query on owner_id" in f.message


def test_names_that_are_no_other_column_or_list_it_or_index_expressions_are_no_finding():
    for args in ('Index("ix_owner_slot", "owner_id", "slot", unique=True)', 'Index("slot", "slot", unique=True)',
                 'Index("owner_id", "owner_id", "slot", unique=True)', 'Index("owner_id", func.lower(slot))'):
        assert check(IndexNamedLikeColumn, args) == [], args


# -- INT019 ------------------------------------------------------------------------------------------------


def test_a_cast_given_as_a_string_to_func_in_a_unique_index_beside_the_migrations_sql():
    (f,) = check(FunctionOfLiteral, 'Index("ix_entries_body", "owner_id", func.md5("body::text"), unique=True)',
                 '    op.execute("CREATE UNIQUE INDEX ix_entries_body ON entries (owner_id, md5(body::text))")')
    assert (f.location.path, f.location.start_line, f.severity, f.item_id) == ("models.py", 21, Severity.WARNING, "5.5")
    assert f.anchor == "table:entries:index:ix_entries_body:literal"
    assert "gives the string 'body::text' to a SQL function" in f.message
    assert "as a unique index it holds only (owner_id): the second row that shares them is refused" in f.message
    assert "the migrations create ix_entries_body with SQL over (owner_id, md5(" in f.message
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("migrations/versions/0001_entries.py", 9)]


def test_a_column_name_as_a_string_in_a_plain_index_a_migration_or_a_check():
    (f,) = check(FunctionOfLiteral, 'Index("ix_entries_slot", func.lower("slot"))')
    assert (f.severity, f.item_id) == (Severity.INFO, "3.3") and "the index serves no query on the column" in f.message
    (f,) = check(FunctionOfLiteral, 'Index("ix_other", "slot")',
                 '    op.create_index("ix_entries_body", "entries", [sa.func.lower("body")], unique=True)')
    assert f.location.path == "migrations/versions/0001_entries.py" and "refuses every row after the first" in f.message
    (f,) = check(FunctionOfLiteral, 'CheckConstraint(func.length("body") > 0, name="ck_body")')
    assert (f.severity, f.item_id, f.anchor) == (Severity.WARNING, "5.6", "table:entries:check:ck_body:literal")
    assert "the CHECK tests the constant 'body', not the column" in f.message


def test_strings_that_are_values_and_text_expressions_are_no_finding():
    for args in ('Index("ix_entries_search", func.to_tsvector("english", body))', 'Index("ix_entries_body", func.md5(body))',
                 'Index("ix_entries_slot", func.coalesce(slot, "none"))', 'CheckConstraint("length(body) > 0")'):
        assert check(FunctionOfLiteral, args) == [], args
