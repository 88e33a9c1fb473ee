"""A finding's message names only what its evidence and related locations show: the line a request value is read
on, the route a parameter belongs to however long the way there, the SQL line a bare parameter is written on,
the place a soft delete is set. Each case a small repository of our own, with the exact finding pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

_BILLS = HEADER + """
class Bill(Base):
    __tablename__ = "bills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    what: Mapped[str] = mapped_column(String(100))
    payer: Mapped[str] = mapped_column(String(100))
"""


def _related_lines(f) -> list[int]:
    return [r.location.start_line for r in f.related]


def test_a_key_of_a_dict_of_request_values_is_followed_to_the_line_that_reads_it(tmp_path):
    code = '''from flask import Blueprint, request
from app.models import Bill

main = Blueprint("main", __name__)


@main.route("/bills")
def list_bills():
    filters = {
        "payer": "me",
        "search": request.args.get("search", "").strip(),
    }
    return Bill.query.filter(Bill.what.ilike(f"%{filters['search']}%")).all()
'''
    (f,) = found(tmp_path, {"app/models.py": _BILLS, "app/web.py": code}, "CFG010")
    assert (f.severity, f.location.path, f.location.start_line) == (Severity.INFO, "app/web.py", 13)
    assert "(`request.args` is the request's args, read on line 11)" in f.message
    assert 11 in _related_lines(f)


def test_the_route_a_parameter_comes_from_is_shown_however_long_the_way(tmp_path):
    code = '''from fastapi import APIRouter, Query
from sqlalchemy import select
from app.models import Bill

router = APIRouter()


def _tidy(words):
    return [w.strip() for w in words if w]


def _filters(words):
    out = []
    for word in words:
        lowered = word.strip().lower()
        if not lowered:
            continue
        pattern = f"%{lowered}%"
        out.append(Bill.what.like(pattern))
    return out


@router.get("/a")
async def first(word: list[str] = Query(default=None)):
    chosen = _tidy(word)
    return select(Bill).where(*_filters(chosen))


@router.get("/b")
async def second(
    other: str = Query(default=None),
    word: list[str] = Query(default=None),
):
    picked = _tidy(word)
    return select(Bill).where(*_filters(picked))
'''
    (f,) = found(tmp_path, {"app/models.py": _BILLS, "app/routes.py": code}, "CFG010")
    route = next(r for r in ("first", "second") if f"of the route `{r}`" in f.message)
    line = {"first": 24, "second": 30}[route]
    assert line in _related_lines(f), (f.message, _related_lines(f))


def test_a_bare_parameter_in_sql_written_above_its_call_is_shown_on_its_line(tmp_path):
    code = '''
from sqlalchemy import text

def visible(db, user_id):
    sql = """
    SELECT notes.* FROM notes
    WHERE notes.author_id NOT IN (SELECT mutes.by_id FROM mutes WHERE mutes.by_id = :user_id)
      AND notes.author_id NOT IN (SELECT mutes.by_id FROM mutes WHERE mutes.user_id = user_id)
    """
    return db.execute(text(sql), {"user_id": user_id}).all()
'''
    (f,) = found(tmp_path, {"app/notes.py": code}, "CFG011")
    assert (f.severity, f.location.start_line) == (Severity.WARNING, 10)
    assert [(r.location.start_line, r.note) for r in f.related] == [(8, "`user_id` without its colon")]


def test_sql_inline_in_its_call_needs_no_related_line(tmp_path):
    code = '''
from sqlalchemy import text

def unblock(db, user_id):
    db.execute(text("DELETE FROM mutes WHERE mutes.user_id = user_id"), {"user_id": user_id})
'''
    (f,) = found(tmp_path, {"app/notes.py": code}, "CFG011")
    assert f.related == ()


_CARDS = HEADER + """
class Card(Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    deleted: Mapped[bool] = mapped_column(default=False)
"""


def test_a_soft_delete_through_a_module_function_given_the_row_is_tied_to_its_model(tmp_path):
    service = '''from app.models import Card, db


def update(card_id, **fields):
    card = db.session.get(Card, card_id)
    for name, value in fields.items():
        setattr(card, name, value)


def by_owner(owner):
    return Card.query.filter(Card.owner == owner).all()
'''
    views = '''from app.cards import service
from app.models import Card


def delete(card_id):
    service.update(card_id, deleted=True)
'''
    (f,) = found(tmp_path, {"app/models.py": _CARDS, "app/cards/service.py": service, "app/cards/views.py": views},
                 "MOD007")
    assert f.severity == Severity.INFO and f.location.path == "app/cards/service.py"
    assert f.message.startswith("Card is soft deleted (deleted, set at app/cards/views.py:6)")
    assert ("app/cards/views.py", 6, "sets deleted") in [(r.location.path, r.location.start_line, r.note) for r in f.related]


def test_a_seeding_utility_that_loads_soft_deleted_rows_is_no_query_to_filter(tmp_path):
    """onyx: a seeding helper for development loads every row of the model on purpose."""
    seeding = '''from app.models import Card, db


def seed_owners():
    for card in Card.query.filter(Card.owner != "").all():
        card.owner = "sample"
'''
    views = '''from app.models import Card


def delete(card):
    card.deleted = True
'''
    files = {"app/models.py": _CARDS, "app/views.py": views, "app/seeding/cards.py": seeding}
    assert found(tmp_path, files, "MOD007") == []
    files["app/listing/cards.py"] = seeding.replace("seed_owners", "rename_owners")
    (f,) = found(tmp_path / "listed", files, "MOD007")
    assert f.location.path == "app/listing/cards.py"


_EVENTS = '''
import sqlalchemy as sa

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created", sa.DateTime(timezone=True)),
    sa.Column("modified", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime),
)
'''


def test_a_naive_column_of_a_core_table_compared_in_sql_is_not_said_untested(tmp_path):
    """osparc: `users.c.expires_at < sa.func.now()` tests the naive column in SQL, against an aware now()."""
    expired = '''import sqlalchemy as sa
from app.tables import events


async def expired(conn):
    return await conn.execute(sa.select(events.c.id).where(events.c.expires_at < sa.func.now()))
'''
    shown = expired.replace("events.c.expires_at < sa.func.now()", "events.c.expires_at.is_(None)")  # no zone in it
    (f,) = found(tmp_path, {"app/tables.py": _EVENTS, "app/events.py": shown}, "TZ001")
    assert f.severity is Severity.INFO and "no query of the application tests it in SQL" in f.message
    (f,) = found(tmp_path / "compared", {"app/tables.py": _EVENTS, "app/events.py": expired}, "TZ001")
    assert f.severity is Severity.WARNING and "tests it in SQL" not in f.message
    assert f.location.path == "app/tables.py" and f.location.start_line == 12


def test_a_naive_link_column_only_joined_to_a_models_timestamp_is_said_joined_not_untested(tmp_path):
    """datanommer: `Message.timestamp == events_links.c.expires_at` in a relationship's primaryjoin compares two
    columns in SQL: not "no query tests it", and no value of a zone either (info, saying where)."""
    models = _EVENTS.replace("events = sa.Table(", "events_links = sa.Table(") + '''

class Message:
    pass


def join():
    return sa.and_(Message.id == events_links.c.id, Message.timestamp == events_links.c.expires_at)
'''
    (f,) = found(tmp_path, {"app/tables.py": models}, "TZ001")
    assert f.severity is Severity.INFO and "tests it in SQL" not in f.message
    assert "SQL compares it only with another column, in a join (app/tables.py:21)" in f.message
    assert _related_lines(f) == [21]
