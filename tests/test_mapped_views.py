"""A class the ORM maps onto a database view is not a table: a view has no foreign keys, indexes or
constraints of its own, so the rules about those say nothing of it (pycroft: four wrong findings on views).
How dbreview knows: `__table__ = some_view.table` where the module made it with a View(...)/create_view(...),
`info={"is_view": True}` in __table_args__, or a migration that creates it with CREATE VIEW."""

from __future__ import annotations

from analyzers.engine import scan
from tests.test_precision import HEADER, _write, found

USERS = HEADER + """
from sqlalchemy import select, table, column


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class View:
    def __init__(self, name, query):
        self.table = table(name, column("user_id"))

"""

MARKED = USERS + """
class Tenancy(Base):
    __tablename__ = "tenancies"
    __table_args__ = {"info": dict(is_view=True)}
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
    tenant_id: Mapped[int]
"""

FROM_VIEW = USERS + """
current_grant = View(name="current_grant", query=select(User.id))


class CurrentGrant(Base):
    __table__ = current_grant.table
    __tablename__ = "current_grant"
    user_id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int]
"""


def test_a_class_marked_or_built_as_a_view_is_no_table(tmp_path):
    facts = scan(_write(tmp_path, {"app/models.py": MARKED})).facts
    assert "tenancies" not in facts.tables and facts.views["tenancies"].view == "`info={'is_view': True}` in __table_args__"
    assert found(tmp_path / "a", {"app/models.py": MARKED}, "INT002") == []
    plain = MARKED.replace('    __table_args__ = {"info": dict(is_view=True)}\n', "")
    assert [f.anchor for f in found(tmp_path / "b", {"app/models.py": plain}, "INT002")], "a table: the missing keys are found"
    facts = scan(_write(tmp_path / "c", {"app/models.py": FROM_VIEW})).facts
    assert "current_grant" not in facts.tables and facts.views["current_grant"].view == "`__table__ = current_grant.table`"


def test_a_model_the_migrations_create_as_a_view_is_no_table(tmp_path):
    model = USERS + """
class Tenancy(Base):
    __tablename__ = "tenancies"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int]
"""
    migration = ('from alembic import op\nrevision = "r1"\ndown_revision = None\n\n'
                 'def upgrade():\n    op.execute("CREATE VIEW tenancies AS SELECT 1 AS id, 2 AS user_id")\n\n'
                 'def downgrade():\n    op.execute("DROP VIEW tenancies")\n')
    facts = scan(_write(tmp_path, {"app/models.py": model, "migrations/versions/r1.py": migration})).facts
    assert "tenancies" not in facts.tables
    assert facts.views["tenancies"].view == "created as a view at migrations/versions/r1.py:6"
