"""MIG002: an upgrade whose create_table makes a PostgreSQL enum type (a native `Enum(..., name=...)`, or
`CREATE TYPE ... AS ENUM`) and whose downgrade drops the table but never the type (issue 8): `op.drop_table`
leaves the type, and the next upgrade fails with `type "x" already exists`. No finding where the downgrade
drops the type (DROP TYPE, `.drop(bind)`), may drop it (a helper of the project), the upgrade does not make it
(`create_type=False`, `native_enum=False`) or the application is known not to run on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.test_precision import found, revision

CREATE = """
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.Enum("open", "paid", name="order_state"), nullable=False),
)
"""


def _left(tmp_path, upgrade: str = CREATE, downgrade: str = 'op.drop_table("orders")', **more: str):
    files = {"migrations/versions/0001_orders.py": revision(upgrade, downgrade), **more}
    return [f for f in found(tmp_path, files, "MIG002") if ":enum_type:" in f.anchor]


def test_type_left_behind(tmp_path):
    (f,) = _left(tmp_path)
    assert f.anchor == "migration:0001:enum_type:orders:order_state" and f.severity.value == "warning"
    assert (f.location.path, f.location.start_line) == ("migrations/versions/0001_orders.py", 10)  # the Enum column
    assert f.message == (
        "revision 0001 makes the PostgreSQL enum type order_state and its downgrade drops orders but not the type "
        '(drop_table leaves it): after `alembic downgrade` the next upgrade fails with `type "order_state" already exists`')
    assert [r.location.start_line for r in f.related] == [13]


def test_type_made_by_sql_left_behind(tmp_path):
    upgrade = """
op.execute("CREATE TYPE order_state AS ENUM ('open', 'paid')")
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.Enum("open", "paid", name="order_state", create_type=False)),
)
"""
    (f,) = _left(tmp_path, upgrade)
    assert f.anchor == "migration:0001:enum_type:orders:order_state" and f.location.start_line == 7


@pytest.mark.parametrize("downgrade", [
    'op.drop_table("orders")\nop.execute("DROP TYPE order_state")',
    'op.drop_table("orders")\nop.execute("DROP TYPE IF EXISTS order_state")',
    'op.drop_table("orders")\nsa.Enum(name="order_state").drop(op.get_bind(), checkfirst=False)',
    'op.drop_table("orders")\nSTATE.drop(op.get_bind())',  # a module's Enum object
    'op.drop_table("orders")\ndrop_enums(op.get_bind())',  # a helper dbreview does not follow
    'op.drop_table("orders")\nfor name in TYPES:\n    op.execute(f"DROP TYPE {name}")',
])
def test_type_dropped_or_maybe(tmp_path, downgrade):
    assert _left(tmp_path, downgrade=downgrade) == []


@pytest.mark.parametrize("column", [
    'sa.Column("state", sa.Enum("open", "paid", name="order_state", create_type=False))',  # made elsewhere
    'sa.Column("state", sa.Enum("open", "paid", name="order_state", native_enum=False))',  # a VARCHAR
    'sa.Column("state", sa.String(20))',
])
def test_no_type_made(tmp_path, column):
    upgrade = f'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True), {column})'
    assert _left(tmp_path, upgrade) == []


def test_not_on_postgres(tmp_path):
    assert _left(tmp_path, **{"app/config.py": 'DATABASE_URL = "mysql://app@db/app"\n'}) == []


def test_table_not_dropped_is_the_other_finding(tmp_path):
    """A downgrade that keeps the table keeps the type too: MIG002 says the table is not undone, nothing more."""
    assert _left(tmp_path, downgrade="pass\nprint('kept')") == []


def test_type_done_away_with_later(tmp_path):
    """A later revision turns the column into text and drops the type: downgraded from there, nothing is left."""
    later = revision('op.alter_column("orders", "state", type_=sa.String(), postgresql_using="state::text")\n'
                     'op.execute(f\'DROP TYPE IF EXISTS "{NAME}"\')', rev="0002", down="0001").replace(
                         'revision = "0002"', 'revision = "0002"\nNAME = "order_state"')
    assert _left(tmp_path, **{"migrations/versions/0002_text.py": later}) == []
