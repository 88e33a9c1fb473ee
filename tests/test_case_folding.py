"""A column looked up case-folded while its unique key compares it as written (INT015): each case a small
repository of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

import pytest

from analyzers.findings import Severity
from tests.test_precision import HEADER, found, revision

_MEMBERS = HEADER + """
from sqlalchemy import CheckConstraint, Index, UniqueConstraint, func
from sqlalchemy.orm import validates

class Club(Base):
    __tablename__ = "clubs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)

class Member(Base):
    __tablename__ = "members"
    __table_args__ = ({args})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id"))
    handle: Mapped[str] = mapped_column(String(80){handle})
    nickname: Mapped[str] = mapped_column(String(80))
{extra}
"""

_LOOKUPS = """
from sqlalchemy import func, select
from app.models import Member

def by_handle(session, handle):
    return session.scalars(select(Member).where(func.lower(Member.handle) == handle.lower())).first()

def in_club(session, club_id, handle):
    return session.scalars(select(Member).where(Member.club_id == club_id, func.lower(Member.handle) == func.lower(handle))).all()

def by_nickname(session, nick):
    return session.scalars(select(Member).where(func.lower(Member.nickname) == nick.lower())).first()
"""


def _members(args: str = "", handle: str = ", unique=True", extra: str = "") -> str:
    return _MEMBERS.format(args=args, handle=handle, extra=extra)


def test_a_case_folded_lookup_on_a_plain_unique_column_is_a_warning(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _members(), "app/members.py": _LOOKUPS}, "INT015")
    assert f.severity == Severity.WARNING and f.anchor == "table:members.handle:case-sensitive-unique"
    assert f.message.startswith("Member.handle is looked up case-insensitively (`lower(handle)` at app/members.py:6 "
                                "and 1 more place(s)), but the unique key over handle compares it as written")
    assert "`.first()`, `.one()`" in f.message
    assert [r.location.start_line for r in f.related] == [6, 9]


def test_a_key_with_another_column_counts_only_where_the_lookup_compares_it(tmp_path):
    models = _members(args='UniqueConstraint("club_id", "handle"),', handle="")
    (f,) = found(tmp_path, {"app/models.py": models, "app/members.py": _LOOKUPS}, "INT015")
    assert "the unique key over (club_id, handle)" in f.message


@pytest.mark.parametrize("args, handle, extra", [
    ('Index("uq_members_handle_lower", func.lower("handle"), unique=True),', ", unique=True", ""),
    ('CheckConstraint("handle = lower(handle)", name="ck_members_handle_lower"),', ", unique=True", ""),
    ("", ", unique=True", """
    @validates("handle")
    def _fold(self, key, value):
        return value.lower()
"""),
    ("", "", ""),  # not unique at all: not this claim
], ids=["expression-index", "check-lower", "validates", "not-unique"])
def test_no_finding_where_the_database_folds_the_case_or_nothing_is_unique(tmp_path, args, handle, extra):
    models = _members(args=args, handle=handle, extra=extra)
    assert found(tmp_path, {"app/models.py": models, "app/members.py": _LOOKUPS}, "INT015") == []


def test_an_expression_index_made_by_a_migration_holds_it_and_an_unread_step_holds_it_back(tmp_path):
    made = revision("""
        op.create_table("clubs", sa.Column("id", sa.Integer(), primary_key=True))
        op.create_table("members", sa.Column("id", sa.Integer(), primary_key=True),
                        sa.Column("club_id", sa.Integer(), sa.ForeignKey("clubs.id")),
                        sa.Column("handle", sa.String(80), unique=True), sa.Column("nickname", sa.String(80)))
        op.execute("CREATE UNIQUE INDEX uq_members_handle_lower ON members (lower(handle))")
    """)
    files = {"app/models.py": _members(), "app/members.py": _LOOKUPS, "alembic/versions/0001_init.py": made}
    assert found(tmp_path / "a", files, "INT015") == []
    unread = made.replace('op.execute("CREATE UNIQUE INDEX uq_members_handle_lower ON members (lower(handle))")',
                          'op.execute(index_sql())')
    files["alembic/versions/0001_init.py"] = unread
    assert found(tmp_path / "b", files, "INT015") == []
