"""RACE003 (issue 8): a one-time code or token read, then deleted in another statement, with no lock. A fixture
of our own: a repository's read and a read in place; what is locked, only deleted, or no credential is silent."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.rules.s05_consumed import OneTimeRowReadThenDeleted

MODELS = '''
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class InviteToken(Base):
    __tablename__ = "invite_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = mapped_column()

class Draft(Base):
    __tablename__ = "drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column()
'''

REPOSITORY = '''
from sqlalchemy import select
from app.models import Draft, InviteToken

class Repository:
    def __init__(self, session):
        self.session = session

    async def one(self, statement):
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def delete(self, row):
        await self.session.delete(row)
        await self.session.commit()

class InviteRepository(Repository):
    async def by_hash(self, token_hash):
        return await self.one(select(InviteToken).where(InviteToken.token_hash == token_hash){lock})

class DraftRepository(Repository):
    async def by_slug(self, slug):
        return await self.one(select(Draft).where(Draft.slug == slug))
'''

SERVICE = '''
from app.repository import DraftRepository, InviteRepository
from app.teams import join_team

async def accept(session, token_hash, user):
    invites: InviteRepository = InviteRepository(session)
    invite = await invites.by_hash(token_hash)
    if invite is None:
        raise LookupError(token_hash)
    await invites.delete(invite)
    return await join_team(user, invite.team_id)

async def revoke(session, token_hash):
    invites = InviteRepository(session)
    invite = await invites.by_hash(token_hash)
    if invite is not None:
        await invites.delete(invite)

async def publish(session, slug):
    drafts = DraftRepository(session)
    draft = await drafts.by_slug(slug)
    await drafts.delete(draft)
    return draft.owner_id
'''


def _found(lock: str = "") -> list:
    sources = {"app/models.py": MODELS, "app/repository.py": REPOSITORY.format(lock=lock), "app/service.py": SERVICE}
    return list(OneTimeRowReadThenDeleted(facts_from_sources(sources)).check())


def test_a_token_read_through_a_repository_then_deleted_is_consumed_twice() -> None:
    """accept only: revoke hands nothing on (deleting twice grants nothing), a Draft is no one-time credential."""
    [found] = _found()
    assert (found.rule_id, found.location.path, found.location.start_line, found.severity.value) == (
        "RACE003", "app/service.py", 7, "warning")
    assert found.anchor == "function:app/service.py:accept:InviteToken:consumed"
    assert found.message.startswith(
        "accept consumes a one-time invite token (InviteToken, table invite_tokens): it reads the row by token_hash "
        "(by_hash(), app/repository.py:18), uses it, and deletes it at app/service.py:10 in another statement")


def test_a_row_lock_on_the_read_makes_the_second_request_wait() -> None:
    assert _found(lock=".with_for_update()") == []
