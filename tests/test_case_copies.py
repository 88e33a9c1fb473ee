"""INT015 on a lower-cased copy column (issue 8): uniqueness declared on `email` while the lookups compare
`email_lower`, the copy the code keeps of `email.lower()`. A fixture of our own."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.rules.s05_case_folding import CaseSensitiveUnique

MODELS = '''
from sqlalchemy import ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("handle", "club_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column()
    handle: Mapped[str] = mapped_column(String(80))
    handle_lower: Mapped[str] = mapped_column(String(80), index=True)

@event.listens_for(Member.handle, "set")
def keep_lower(target, value, oldvalue, initiator):
    target.handle_lower = value.lower()
'''

LOOKUP = '''
from sqlalchemy import select
from app.models import Member

async def by_handle(session, handle, club_id):
    stmt = select(Member).where(Member.handle_lower == handle.lower(), Member.club_id == club_id)
    return (await session.execute(stmt)).scalar_one_or_none()
'''


def _found(models: str = MODELS, lookup: str = LOOKUP) -> list:
    return list(CaseSensitiveUnique(facts_from_sources({"app/models.py": models, "app/members.py": lookup})).check())


def test_a_lower_cased_copy_looked_up_instead_of_the_unique_column() -> None:
    [found] = _found()
    assert (found.rule_id, found.location.path, found.location.start_line, found.severity.value) == (
        "INT015", "app/models.py", 13, "warning")
    assert found.anchor == "table:members.handle:case-sensitive-unique"
    assert found.message.startswith(
        "Member.handle is unique only as written (the key over (handle, club_id)), but the code looks members up by "
        "handle_lower, its lower-cased copy (written at app/models.py:18), at app/members.py:6, and nothing keeps "
        "handle_lower unique")
    assert found.message.endswith("the unique key belongs on (handle_lower, club_id)")


def test_the_copy_written_by_a_validator_or_beside_the_original() -> None:
    """A @validates hook, or one constructor given both: the same finding."""
    validator = MODELS.split("@event")[0].replace("    handle_lower: Mapped[str] = mapped_column(String(80), index=True)\n", (
        "    handle_lower: Mapped[str] = mapped_column(String(80), index=True)\n\n"
        "    @validates(\"handle\")\n    def _lower(self, key, value):\n        self.handle_lower = value.strip().lower()\n"
        "        return value\n")).replace("import DeclarativeBase,", "import DeclarativeBase, validates,")
    [found] = _found(validator)
    assert found.anchor == "table:members.handle:case-sensitive-unique" and "(written at app/models.py:18)" in found.message
    both = LOOKUP + "\ndef join(session, handle, club_id):\n    session.add(Member(handle=handle, handle_lower=handle.lower(), club_id=club_id))\n"
    [found] = _found(MODELS.split("@event")[0], both)
    assert "(written at app/members.py:10)" in found.message


def test_no_finding_where_the_copy_is_kept_unique_or_looked_up_across_the_key() -> None:
    unique_copy = MODELS.replace('UniqueConstraint("handle", "club_id"),', 'UniqueConstraint("handle", "club_id"), '
                                 'UniqueConstraint("handle_lower", "club_id"),')
    assert _found(unique_copy) == []
    everywhere = LOOKUP.replace(", Member.club_id == club_id", "")  # every club at once: the key is per club
    assert _found(MODELS, everywhere) == []
    unrelated = MODELS.replace("target.handle_lower = value.lower()", "target.handle_lower = oldvalue.lower()")
    assert _found(unrelated) == []
