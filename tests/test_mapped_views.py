"""A class the ORM maps onto a database view is not a table: a view has no foreign keys, indexes or
constraints of its own, so the rules about those say nothing of it (pycroft: four wrong findings on views).
How dbreview knows here: `__table__ = some_view.table` where the module made it with a View(...)/create_view(...), or
`info={"is_view": True}` in __table_args__ (views the migrations create: tests/test_first_meeting_models.py)."""

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



def test_a_relationship_onto_a_class_marked_as_a_view_asks_for_no_foreign_key(tmp_path):
    viewed = MARKED + """
class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenancy_id: Mapped[int]
    tenancy = relationship("Tenancy", primaryjoin="foreign(Room.tenancy_id) == Tenancy.id", viewonly=True)
""".replace("from sqlalchemy import select, table, column", "from sqlalchemy import select, table, column\nfrom sqlalchemy.orm import relationship")
    assert [f.anchor for f in found(tmp_path, {"app/models.py": viewed}, "INT002")] == []
    as_table = viewed.replace('    __table_args__ = {"info": dict(is_view=True)}\n', "")
    assert "table:rooms.tenancy_id" in [f.anchor for f in found(tmp_path / "t", {"app/models.py": as_table}, "INT002")]
