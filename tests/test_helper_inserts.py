"""INT013 through the project's own helpers: a route checks with one repository function whether a row exists and
inserts it with another (a double booking). Each case a small repository of our own, with the finding (or its
absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

_MODELS = HEADER + """
from sqlalchemy import UniqueConstraint

class Seat(Base):
    __tablename__ = "seats"
    {args}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    show_id: Mapped[int] = mapped_column(Integer)
    row: Mapped[str] = mapped_column(String(4))
    number: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(80))
"""

_SCHEMAS = """
from pydantic import BaseModel

class SeatIn(BaseModel):
    row: str
    number: int
    holder: str
"""

_REPO = """
from sqlalchemy.orm import Session
from app import models, schemas


def is_taken(db: Session, seat: schemas.SeatIn, show_id: int):
    found = (
        db.query(models.Seat)
        .filter(models.Seat.show_id == show_id)
        .filter(models.Seat.row == seat.row)
        .filter(models.Seat.number == seat.number)
        .first()
    )
    return found is not None


def take(db: Session, seat: schemas.SeatIn, show_id: int):
    db_seat = models.Seat(**seat.model_dump())
    db_seat.show_id = show_id
    db.add(db_seat)
    db.commit()
    return db_seat
"""

_ROUTE = """
from fastapi import APIRouter, HTTPException
from app.repository import seats as seat_repo
from app import schemas

router = APIRouter()


@router.post("/shows/{show_id}/seats")
def book(show_id: int, seat: schemas.SeatIn, db):
    show = load_show(db, show_id)
    if seat_repo.is_taken(db, seat, show.id):
        raise HTTPException(409, "taken")
    notify_box_office(show)
    return seat_repo.take(db, seat, show.id)
"""


def _files(route: str = _ROUTE, repo: str = _REPO, args: str = "") -> dict[str, str]:
    return {"app/models.py": _MODELS.format(args=args), "app/schemas.py": _SCHEMAS, "app/repository/__init__.py": "",
            "app/repository/seats.py": repo, "app/routes.py": route}


def test_a_check_and_an_insert_in_two_helpers_are_reported_at_the_caller(tmp_path):
    (f,) = found(tmp_path, _files(), "INT013")
    assert f.severity == Severity.WARNING and f.anchor == "function:app/routes.py:book:Seat:check-then-insert"
    assert (f.location.path, f.location.start_line) == ("app/routes.py", 12)
    assert f.message == (
        "book looks Seat up by number, row, show_id through is_taken (app/repository/seats.py:8) and, when it finds "
        "none, creates one with the same number, row, show_id through take (app/repository/seats.py:18) "
        "(app/routes.py:15); no unique constraint or index of seats covers (number, row, show_id), so two calls at "
        "once can both find nothing and both insert, though the caller raises when it finds one: the second row it "
        "refuses gets in all the same")
    assert [(r.location.path, r.location.start_line) for r in f.related] == [
        ("app/repository/seats.py", 8), ("app/repository/seats.py", 18), ("app/routes.py", 15)]


def test_helpers_imported_by_name_with_keywords_and_a_returned_row_are_followed(tmp_path):
    """`from ... import find, add`, keywords given out of order, a helper that returns the row: `if row: return row`."""
    repo = """
from app.models import Seat


def find(db, show_id, row, number):
    return db.query(Seat).filter_by(show_id=show_id, row=row, number=number).first()


def add(db, show_id, row, number, holder):
    seat = Seat(show_id=show_id, row=row, number=number, holder=holder)
    db.add(seat)
    return seat
"""
    route = """
from app.repository.seats import add, find


def reserve(db, show, form, user):
    existing = find(db, show.id, form.row, number=form.number)
    if existing:
        return existing
    return add(db, row=form.row, number=form.number, show_id=show.id, holder=user.name)
"""
    (f,) = found(tmp_path, _files(route, repo), "INT013")
    assert f.severity == Severity.INFO and f.anchor == "function:app/routes.py:reserve:Seat:check-then-insert"
    assert f.message.endswith("`first()` then returns one of them, which one is not defined, and nothing fails")


def test_shapes_that_are_not_the_race_stay_silent(tmp_path):
    cases = {
        # the insert is given another show than the lookup
        "other_value": _files(_ROUTE.replace("return seat_repo.take(db, seat, show.id)",
                                             "return seat_repo.take(db, seat, show.parent_id)")),
        # the caller changes the looked-up value between the check and the insert
        "changed": _files(_ROUTE.replace("    notify_box_office(show)\n",
                                         "    notify_box_office(show)\n    seat.number = seat.number + 1\n")),
        # the insert only where the seat was found: no check-then-insert
        "found_branch": _files(_ROUTE.replace("        raise HTTPException(409, \"taken\")\n",
                                              "        return seat_repo.take(db, seat, show.id)\n")
                               .replace("    return seat_repo.take(db, seat, show.id)\n", "    return None\n")),
        # a lock on the show taken first: callers check and insert one at a time
        "locked": _files(_ROUTE.replace("    show = load_show(db, show_id)\n",
                                        "    show = db.query(Show).filter_by(id=show_id).with_for_update().one()\n")),
        # the insert meets the refused duplicate itself
        "caught": _files(_ROUTE.replace("    return seat_repo.take(db, seat, show.id)\n",
                                        "    try:\n        return seat_repo.take(db, seat, show.id)\n"
                                        "    except IntegrityError:\n        raise HTTPException(409, 'taken')\n")),
        # a helper resolved nowhere: a call of another object's method with the same name
        "unresolved": _files(_ROUTE.replace("seat_repo.is_taken(", "cache.is_taken(")),
        # the arguments cannot be mapped (*args)
        "starred": _files(_ROUTE.replace("seat_repo.take(db, seat, show.id)", "seat_repo.take(*(db, seat, show.id))")),
    }
    for name, files in cases.items():
        assert found(tmp_path / name, files, "INT013") == [], name


def test_a_unique_key_the_caller_meets_is_not_reported(tmp_path):
    """UNIQUE (show_id, row, number) holds the duplicate out; the caller catches the IntegrityError of the second."""
    keyed = '__table_args__ = (UniqueConstraint("show_id", "row", "number"),)'
    met = _ROUTE.replace("    return seat_repo.take(db, seat, show.id)\n",
                         "    try:\n        return seat_repo.take(db, seat, show.id)\n"
                         "    except IntegrityError:\n        raise HTTPException(409, 'taken')\n")
    assert found(tmp_path / "met", _files(met, args=keyed), "INT013") == []
    (f,) = found(tmp_path / "unmet", _files(args=keyed), "INT013")
    assert f.severity == Severity.INFO and f.anchor == "function:app/routes.py:book:Seat:unguarded-insert"
    assert "the unique key (number, row, show_id) of seats holds the duplicate out, but nothing in book meets it" in f.message


def test_a_check_bound_to_a_name_then_refused_is_the_warning_too(tmp_path):
    """`taken = is_taken(...)`, then `if taken: raise`: the caller refuses a second seat, the race breaks that rule."""
    route = _ROUTE.replace("    if seat_repo.is_taken(db, seat, show.id):\n",
                           "    taken = seat_repo.is_taken(db, seat, show.id)\n    if taken:\n")
    (f,) = found(tmp_path, _files(route), "INT013")
    assert f.severity == Severity.WARNING and f.location.start_line == 12
    assert f.message.endswith("though the caller raises when it finds one: the second row it refuses gets in all the same")


def test_a_helper_that_returns_exists_is_a_test_of_the_row(tmp_path):
    repo = _REPO.replace('''    found = (
        db.query(models.Seat)
        .filter(models.Seat.show_id == show_id)
        .filter(models.Seat.row == seat.row)
        .filter(models.Seat.number == seat.number)
        .first()
    )
    return found is not None''', '''    return db.query(
        db.query(models.Seat).filter_by(show_id=show_id, row=seat.row, number=seat.number).exists()
    ).scalar()''')
    (f,) = found(tmp_path, _files(repo=repo), "INT013")
    assert f.severity == Severity.WARNING and f.anchor == "function:app/routes.py:book:Seat:check-then-insert"
