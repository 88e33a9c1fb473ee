"""INT010 through a repository (issue 8): a lookup built in one method and run by a helper of its class or a base
class (`self.get_one_or_none(statement)`), read through analyzers/facts/runners.py. A fixture of our own."""

from __future__ import annotations

from analyzers.examples import facts_from_sources
from analyzers.rules.s05_integrity import OneOrNoneOnNonUnique

MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Shelf(Base):
    __tablename__ = "shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
'''

BASE = '''
from sqlalchemy import func

class Repository:
    model = None

    def __init__(self, session):
        self.session = session

    async def one_or_none(self, statement):
        result = await self._run(statement)
        return result.scalar_one_or_none()

    async def first(self, statement):
        return (await self._run(statement)).scalars().first()

    async def count(self, statement):
        counting = statement.with_only_columns(func.count())
        return (await self._run(counting)).scalar_one()

    async def live_one(self, statement):
        statement = statement.where(self.model.archived.is_(False))
        return (await self._run(statement)).scalar_one_or_none()

    async def _run(self, statement):
        return await self.session.execute(statement)
'''

SHELVES = '''
from sqlalchemy import select
from app.base import Repository
from app.models import Shelf

class ShelfRepository(Repository):
    model = Shelf

    async def by_label(self, label):
        statement = select(Shelf).where(Shelf.label == label)
        return await self.one_or_none(statement)

    async def by_code(self, code):
        return await self.one_or_none(select(Shelf).where(Shelf.code == code))

    async def first_by_label(self, label):
        return await self.first(select(Shelf).where(Shelf.label == label))

    async def count_label(self, label):
        return await self.count(select(Shelf).where(Shelf.label == label))

    async def live_by_label(self, label):
        return await self.live_one(select(Shelf).where(Shelf.label == label))

    async def elsewhere(self, label):
        return await self.unknown_helper(select(Shelf).where(Shelf.label == label))
'''

ROUTES = '''
from fastapi import APIRouter
from app.shelves import ShelfRepository
router = APIRouter()

@router.get("/")
async def show(session, label, code):
    repo = ShelfRepository(session)
    return [await repo.by_label(label), await repo.by_code(code), await repo.first_by_label(label),
            await repo.count_label(label), await repo.live_by_label(label), await repo.elsewhere(label)]
'''


def _found(**replaced: str) -> list:
    sources = {"app/models.py": MODELS, "app/base.py": BASE, "app/shelves.py": SHELVES, "app/routes.py": ROUTES}
    return list(OneOrNoneOnNonUnique(facts_from_sources({**sources, **replaced})).check())


def test_a_lookup_run_by_a_base_class_helper_is_followed_into_it() -> None:
    """Only by_label: by_code is unique, `.first()` takes one of many, a count is one row, a helper that filters
    again or that no class defines is not read on."""
    [found] = _found()
    assert (found.rule_id, found.location.path, found.location.start_line, found.severity.value) == (
        "INT010", "app/shelves.py", 10, "warning")
    assert found.anchor == "function:app/shelves.py:by_label:Shelf:one-or-none"
    assert found.message.startswith(
        "by_label fetches Shelf with scalar_one_or_none() (through self.one_or_none(), Repository.one_or_none) by label, "
        "which no unique constraint of shelves covers (the index on label is not unique)")


def test_a_subclass_that_redefines_the_helper_is_read_instead() -> None:
    """The method found first on the class, then on its bases: an override that takes `.first()` raises nothing."""
    override = SHELVES.replace("    model = Shelf\n", "    model = Shelf\n\n    async def one_or_none(self, statement):\n"
                               "        return (await self.session.execute(statement)).scalars().first()\n")
    assert _found(**{"app/shelves.py": override}) == []


def test_a_base_class_dbreview_cannot_read_holds_it_back() -> None:
    """The helper of a library's base class is not known: no finding (issue 7)."""
    library = SHELVES.replace("from app.base import Repository", "from somelib.repository import Repository")
    assert _found(**{"app/shelves.py": library}) == []
