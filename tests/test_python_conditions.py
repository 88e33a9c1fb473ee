"""CFG022 (issue 8, checklist 1.5): query conditions that Python evaluates instead of SQL (`is None`, `and`, `or`,
`not`, `in`, a column equal to two constants under one AND, a column compared with itself), on a fixture of our own
(tests/fixtures/python_conditions): each finding pinned, and every place where an operand may be a plain Python value
silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "python_conditions"
D = "function:app/dogs.py"

# Silent on purpose (app/dogs.py from `loaded` to `pandas_frame`): a loaded row's attributes tested in Python (`dog.adopted_at is
# None`, `dog.size in (...)`), a parameter tested inside a filter (`size is None or ...`: a deliberate constant), a
# conditional value (`kennel.id if kennel is not None else 0`), SQLAlchemy's own operators, `or_()` of two values of
# one column, `self.dog.adopted_at is None`, a parameter that shadows the model's name, and another library's
# `.where()` on a value that is no model; and a pydantic schema of a model's class name (app/other.py).
EXPECTED = {
    ("app/dogs.py:9", f"{D}:waiting:is:Dog.adopted_at is None",
     "`Dog.adopted_at is None` is Python's identity test, not SQL's IS: it is always False: the query gets `WHERE "
     "false` and returns no row; write `Dog.adopted_at.is_(None)`"),
    ("app/dogs.py:13", f"{D}:adopted:is:models.Dog.adopted_at is not None",
     "it is always True: the query gets no condition from it and returns the rows it was meant to leave out; write "
     "`models.Dog.adopted_at.is_not(None)`"),
    ("app/dogs.py:17", f"{D}:small_in_kennel:and:Dog.size == 'small' and Dog.kennel_id == kennel_id",
     "Python returns one operand, `Dog.size == 'small'`, and only it reaches SQL: `Dog.kennel_id == kennel_id` is "
     "dropped without an error; write `and_(...)`"),
    ("app/dogs.py:21", f"{D}:heavy_or_large:or:Dog.weight > 30 or Dog.size == 'large'",
     "SQLAlchemy refuses (TypeError: Boolean value of this clause is not defined) when the query is built; write `or_(...)`"),
    ("app/dogs.py:26", f"{D}:not_small:not:not Dog.size == 'small'",
     "negates a SQL expression with Python's `not`: it is always True, so SQL gets a constant"),
    ("app/dogs.py:31", f"{D}:terriers:in:Dog.breed in ('jack russell', 'fox terrier')",
     "is Python's membership test, not SQL's IN: it compares the column with each item in Python and is always False"),
    ("app/dogs.py:36", f"{D}:both_sizes:never:Dog.size == 'large'",
     "`Dog.size == 'small'` and `Dog.size == 'large'` are joined by AND: one column cannot equal two different values"),
    ("app/dogs.py:41", f"{D}:kennel_rows:self:other.kennel_id == other.kennel_id",
     "compares a column with itself: it is true on every row where the column is not NULL"),
    ("app/dogs.py:45", f"{D}:pending_walks:is:walks.c.done is None", "write `walks.c.done.is_(None)`"),
    ("app/dogs.py:49", f"{D}:labels:is:Dog.weight is None", "it is always False: its CASE branch is never taken"),
    ("app/dogs.py:53", f"{D}:weighed:is:Dog.weight is not None",
     "(the rows are the same here: the same query compares the column, or joins through it, which leaves NULL out already)"),
    ("app/dogs.py:101", f"{D}:in_kennel:is:Dog.kennel_id is kennel_id",
     "it is always False: the query gets `WHERE false` and returns no row; write `Dog.kennel_id == kennel_id`"),
    ("app/dogs.py:115", f"{D}:housed:is:Dog.kennel_id is not None", "the same query compares the column"),
    ("app/dogs.py:119", f"{D}:with_kennel:is:Dog.kennel is not None", "or joins through it"),
    ("app/dogs.py:123", f"{D}:maybe_kennel:is:Dog.kennel is not None", "it is always True: the query gets no condition"),
    ("app/cli/cleanup.py:5", "function:app/cli/cleanup.py:main:is:Dog.adopted_at is None", "the query gets `WHERE false`"),
    ("migrations/versions/0001_sizes.py:16", "function:migrations/versions/0001_sizes.py:upgrade:is:dogs.c.size is None",
     "write `dogs.c.size.is_(None)`"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG022"]


def test_each_condition_python_evaluates_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    assert all(f.item_id == "1.5" for f in findings)


def test_severity_is_info_only_for_tooling_and_where_the_rows_are_the_same(findings) -> None:
    infos = {f.location.path + ":" + str(f.location.start_line) for f in findings if f.severity.value == "info"}
    # an outer join leaves the rows without a kennel in: `maybe_kennel`'s test is a warning
    assert infos == {"app/cli/cleanup.py:5", "app/dogs.py:53", "app/dogs.py:115", "app/dogs.py:119"}
    assert {f.severity.value for f in findings} == {"info", "warning"}


def test_a_condition_built_in_a_name_cites_the_query_it_reaches(findings) -> None:
    by_function = {f.anchor.split(":")[2]: f for f in findings}
    assert [(r.location.start_line, r.note) for r in by_function["heavy_or_large"].related] == [
        (22, "the condition reaches `filter()` here")]
    assert [(r.location.start_line, r.note) for r in by_function["terriers"].related] == [
        (32, "the condition reaches `filter()` here")]
    assert by_function["waiting"].related == ()


def test_the_advice_names_the_operator_to_use(findings) -> None:
    by_function = {f.anchor.split(":")[2]: f for f in findings}
    waiting = by_function["waiting"]
    assert "`Dog.adopted_at.is_(None)`" in advice(waiting.rule_id, waiting.anchor, waiting.message)
    paired = by_function["small_in_kennel"]
    assert "and_(a, b)" in advice(paired.rule_id, paired.anchor, paired.message)


def test_an_identity_test_in_an_or_drops_that_term_or_opens_the_whole_or(tmp_path) -> None:
    """redash, SuperAGI: `or_(Query.is_draft == False, Query.user_id is user_id)` keeps the drafts' test alone, it does
    not empty the query; `is not None` as a term makes the OR true for every row."""
    from tests.test_precision import HEADER, found
    models = HEADER + """
class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
"""
    code = """
from sqlalchemy import or_, select
from app.models import Report

def visible(session, owner_id):
    return session.scalars(select(Report).where(or_(Report.owner_id == owner_id, Report.archived_at is None))).all()

def everything(session, owner_id):
    return session.scalars(select(Report).where(or_(Report.owner_id == owner_id, Report.archived_at is not None))).all()
"""
    got = {f.location.start_line: f.message for f in found(tmp_path, {"app/models.py": models, "app/reports.py": code}, "CFG022")}
    assert "that term of the OR never matches, so the OR selects only by its other terms" in got[6]
    assert "the OR it is a term of is true for every row" in got[9]
    assert all("WHERE false" not in m for m in got.values())
