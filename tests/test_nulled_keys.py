"""REL006: a one-to-many with no delete cascade and no passive_deletes, whose children's key to the parent is NOT
NULL: deleting the parent through the ORM nulls that key, which fails. Each case a small repository of our own."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from tests.test_precision import found

_MODELS = HEADER + '''
class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
{relationship}

class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key={pk})
    group_id: Mapped[{typed}] = mapped_column(ForeignKey("groups.id"{action}){key_pk})
{back}
'''

_REMOVE = '''
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from models import Group, Membership

def remove_group(session, group_id):
    group = session.scalars(select(Group).where(Group.id == group_id)).one()
{before}    session.delete(group)
    session.commit()
'''

_UNTYPED = '''
from models import Membership

def remove_group(session, group):
    session.delete(group)
'''

_ROUTES = '''
from fastapi import APIRouter
from app import groups

router = APIRouter()

@router.delete("/groups/{group_id}")
def delete_group(group_id: int):
    groups.remove_group(SESSION, group_id)
'''

_PLAIN = '    memberships: Mapped[list["Membership"]] = relationship()'
_CASCADE = ', ondelete="CASCADE"'


def _files(relationship: str = _PLAIN, typed: str = "int", action: str = _CASCADE, before: str = "", back: str = "",
           pk: bool = False, code: str = _REMOVE) -> dict[str, str]:
    models = _MODELS.format(relationship=relationship, typed=typed, action=action, back=back, pk=str(not pk),
                            key_pk=", primary_key=True" if pk else "")
    return {"models.py": models, "app/groups.py": code.format(before=before), "app/routes.py": _ROUTES}


def test_an_orm_delete_nulls_a_not_null_key_the_database_would_cascade(tmp_path):
    (f,) = found(tmp_path, _files(), "REL006")
    assert (f.severity, f.location.path, f.location.start_line, f.item_id) == (Severity.WARNING, "models.py", 16, "7.6")
    assert f.anchor == "orm-nulls:Group.memberships"
    assert f.message == (
        "`memberships` of Group is a one-to-many to Membership with no delete cascade and no passive_deletes: when a Group "
        "row with Membership rows is deleted through the ORM, SQLAlchemy loads them and runs `UPDATE memberships SET "
        "group_id = NULL`, which the NOT NULL memberships.group_id refuses with an IntegrityError. app/groups.py:8 "
        "deletes a Group row that way. The database's key says ON DELETE CASCADE, but the ORM's UPDATE runs before the "
        "parent's DELETE: `passive_deletes=True` lets the database delete the children, `cascade=\"all, "
        "delete-orphan\"` has the ORM do it")
    assert [(r.location.path, r.location.start_line) for r in f.related] == [("models.py", 21), ("app/groups.py", 8)]


def test_a_backref_from_the_child_nulls_the_key_too(tmp_path):
    back = '    group = relationship("Group", backref="memberships")'
    (f,) = found(tmp_path, _files(relationship="", back=back), "REL006")
    assert f.anchor == "orm-nulls:Group.memberships"
    assert f.message.startswith("the backref `memberships` that Membership.group gives Group is a one-to-many")
    assert (f.location.path, f.location.start_line) == ("models.py", 22)


def test_a_key_in_the_childs_primary_key_fails_with_an_assertion(tmp_path):
    (f,) = found(tmp_path, _files(pk=True, action=""), "REL006")
    assert f.severity == Severity.WARNING
    assert ("SQLAlchemy refuses to blank out memberships.group_id, part of memberships's primary key, with an "
            "AssertionError" in f.message)
    assert "The database's key has no ON DELETE" in f.message


def test_no_typed_delete_seen_is_no_finding(tmp_path):
    """A delete of an object dbreview cannot type (a parameter named like the model) is no evidence: silence."""
    assert found(tmp_path, _files(code=_UNTYPED), "REL006") == []


def test_what_lets_the_delete_through_is_no_finding(tmp_path):
    for files in (
        _files(relationship='    memberships: Mapped[list["Membership"]] = relationship(passive_deletes=True)'),
        _files(relationship='    memberships: Mapped[list["Membership"]] = relationship(cascade="all, delete-orphan")'),
        _files(relationship='    memberships: Mapped[list["Membership"]] = relationship(viewonly=True)'),
        # another relationship of the parent's deletes the same children: the backref's nulling skips them
        _files(relationship='    members = relationship("Membership", cascade="all, delete-orphan")',
               back='    group = relationship("Group", backref="memberships")'),
        _files(relationship='    memberships: Mapped[list["Membership"]] = relationship(lazy="noload")'),
        _files(typed="int | None"),
        _files(before="    for m in group.memberships:\n        session.delete(m)\n"),
        _files(before="    session.query(Membership).filter_by(group_id=group_id).delete()\n"),
        _files(code=_REMOVE.replace("    session.commit()", "    try:\n        session.commit()\n    except IntegrityError:\n        raise")),
    ):
        assert found(tmp_path, files, "REL006") == [], files["models.py"]


def test_no_on_delete_on_the_parents_relationship_is_left_to_rel005(tmp_path):
    files = _files(action="")
    assert found(tmp_path, files, "REL006") == []
    assert [f.rule_id for f in found(tmp_path, files, "REL005")] == ["REL005"]


def test_many_to_many_link_rows_are_no_finding(tmp_path):
    models = HEADER + '''
links = Table("links", Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)

class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    users = relationship("User", secondary=links)
'''
    files = {"models.py": models, "app/groups.py": _REMOVE.format(before="").replace(", Membership", ""), "app/routes.py": _ROUTES}
    assert found(tmp_path, files, "REL006") == []


def test_a_delete_through_pyramids_request_db_is_an_orm_delete(tmp_path):
    """`request.db.delete(group)` (Pyramid's request-scoped session, as warehouse and h name it) deletes through
    the ORM as session.delete does."""
    code = _REMOVE.replace("def remove_group(session, group_id):", "def remove_group(request, group_id):").replace(
        "session.scalars", "request.db.scalars").replace("    session.delete(group)\n    session.commit()",
                                                         "    request.db.delete(group)")
    (f,) = found(tmp_path, _files(code=code), "REL006")
    assert "app/groups.py:8 deletes a Group row that way" in f.message
