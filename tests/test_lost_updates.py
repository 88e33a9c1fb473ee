"""Lost updates (issue 8, RACE001): a loaded row's column written from its own old value in Python, on a
fixture of our own (tests/fixtures/lost_updates): each finding pinned, each place that is right on purpose
silent; and the facts it reads (analyzers/facts/rewrites.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.facts.python_module import extract_module
from analyzers.rules.s05_lost_updates import LostUpdate
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "lost_updates"

# (where, anchor, words the message must hold): every RACE001 finding on the fixture.
EXPECTED = {
    ("app/models.py:37", "function:app/models.py:add_points:Basket:lost-update",
     "Basket.add_points (a method of the model: its callers load the row, and no query of Basket"),
    ("app/services.py:18", "function:app/services.py:use_voucher:Voucher:lost-update",
     "loads a Voucher row with the query at line 15, which takes no row lock, and writes Voucher.uses"),
    ("app/services.py:25", "function:app/services.py:add_item:Basket:lost-update",
     "loads a Basket row with session.get(), which takes no row lock, and writes Basket.items"),
    ("app/services.py:32", "function:app/services.py:remove_item:Basket:lost-update",
     "a change the first writer made to the list is lost, or both act on the same item"),
    ("app/services.py:39", "function:app/services.py:set_setting:Basket:lost-update",
     "the keys the first writer merged are lost"),
    ("app/services.py:45", "function:app/services.py:award:Basket:lost-update",
     "takes a Basket row as a parameter typed with the model"),
    ("app/services.py:52", "function:app/services.py:spend:Basket:lost-update",
     "calls Basket.spend() on it (app/models.py:41), which writes Basket.points from the value it read "
     "(`self.points -= points`); then commits (line 53)"),
    ("app/services.py:66", "function:app/services.py:double_points:Basket:lost-update",
     "loads a Basket row through _basket() (its query at line 57 takes no row lock)"),
}


# RACE002: new rows numbered one above the highest number read.
NUMBERED = {
    ("app/services.py:73", "function:app/services.py:new_invoice:invoices.number:next-number",
     "the first row of the query at line 72, sorted by number descending; `number=(last.number if last else 0) + 1`), "
     "then commits (line 75)"),
    ("app/services.py:81", "function:app/services.py:quick_invoice:invoices.number:next-number",
     "func.max(Invoice.number) at line 80"),
}


@pytest.fixture(scope="module")
def all_findings():
    return scan(FIXTURE).result.findings


@pytest.fixture(scope="module")
def findings(all_findings):
    return [f for f in all_findings if f.rule_id == "RACE001"]


def test_each_number_taken_from_the_highest_is_found_and_nothing_else(all_findings) -> None:
    found = [f for f in all_findings if f.rule_id == "RACE002"]
    assert_exactly(found, NUMBERED)
    for f in found:
        assert "A unique constraint over (shop_id, number)" in f.message and f.severity.value == "info"


def test_each_lost_update_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    for f in findings:
        assert f.severity.value == "info"  # how much a lost count matters is the product's question
        assert "if more than one process or task writes this row" in f.message and "with_for_update()" in f.message


def _sources() -> dict[str, str]:
    return {p.relative_to(FIXTURE).as_posix(): p.read_text() for p in FIXTURE.rglob("*.py")}


def test_an_engine_at_repeatable_read_makes_the_second_writer_fail_instead() -> None:
    sources = _sources()
    sources["app/db.py"] = ("from sqlalchemy import create_engine\n"
                            "engine = create_engine('postgresql://db/shop', isolation_level='REPEATABLE READ')\n")
    assert list(LostUpdate(facts_from_sources(sources)).check()) == []


def test_a_lock_taken_in_sql_or_by_a_helper_is_respected() -> None:
    sources = _sources()
    sources["app/services.py"] = sources["app/services.py"].replace(
        "    voucher = session.scalars(select(Voucher).where(Voucher.code == code)).one()\n"
        "    if voucher.uses",
        "    session.execute(text('SELECT pg_advisory_xact_lock(1)'))\n"
        "    voucher = session.scalars(select(Voucher).where(Voucher.code == code)).one()\n"
        "    if voucher.uses")
    anchors = {f.anchor for f in LostUpdate(facts_from_sources(sources)).check()}
    assert "function:app/services.py:use_voucher:Voucher:lost-update" not in anchors
    assert len(anchors) == len(EXPECTED) - 1


def test_the_facts_say_where_the_object_comes_from() -> None:
    code = '''
class Thing:
    def bump(self):
        self.n = self.n + 1

def by_param(session, thing: "Thing | None", other: Optional[Thing]):
    thing.n += 1
    other.tags = [*other.tags, "x"]

async def by_get(session, thing_id):
    thing = await session.get(Thing, thing_id)
    names = list(thing.names)
    names.append("x")
    thing.names = names
    thing.label = thing.label.strip()
'''
    found = {(r.function, r.holder, r.attr, r.kind, r.origin) for r in extract_module("app/things.py", code).rewrites}
    assert found == {
        ("bump", "self", "n", "count", ("self", "")),
        ("by_param", "thing", "n", "count", ("param", "Thing")),
        ("by_param", "other", "tags", "list", ("param", "Thing")),
        ("by_get", "thing", "names", "list", ("get", "Thing")),
    }


def test_a_repository_that_locks_the_model_may_be_what_the_callers_load_with() -> None:
    """A function that names Basket and takes a row lock through a statement that is no query of Basket dbreview
    reads (a repository's `for_update=True`): the rows the callers hand over may be locked."""
    sources = _sources()
    sources["app/repository.py"] = ("from app.models import Basket\n"
                                    "def basket_by_id(repository, basket_id):\n"
                                    "    return repository.get(Basket, basket_id, for_update=True)\n")
    anchors = {f.anchor for f in LostUpdate(facts_from_sources(sources)).check()}
    assert "function:app/services.py:award:Basket:lost-update" not in anchors
    assert "function:app/services.py:use_voucher:Voucher:lost-update" in anchors  # loaded here, without a lock


def test_a_row_locked_by_a_refresh_elsewhere_may_be_locked_by_the_callers() -> None:
    """`session.refresh(basket, with_for_update=True)` somewhere: where the row comes from a caller (a parameter,
    `self`), the caller may hold that lock, so nothing is claimed there; rows loaded here are still judged."""
    sources = _sources()
    sources["app/review.py"] = ("async def review(session, basket):\n"
                                "    await session.refresh(basket, with_for_update=True)\n")
    anchors = {f.anchor for f in LostUpdate(facts_from_sources(sources)).check()}
    assert anchors == {e[1] for e in EXPECTED} - {"function:app/models.py:add_points:Basket:lost-update",
                                                  "function:app/services.py:award:Basket:lost-update"}


def test_a_row_the_caller_has_just_made_cannot_race_but_a_loaded_one_can() -> None:
    """_count_refusal's only caller passes the Basket it constructed in the same call: no finding. Handed a
    basket that caller loads instead, the same write is a lost update again."""
    sources = _sources()
    anchor = "function:app/services.py:_count_refusal:Basket:lost-update"
    assert anchor not in {f.anchor for f in LostUpdate(facts_from_sources(sources)).check()}
    sources["app/services.py"] = sources["app/services.py"].replace(
        "basket = Basket(items=[first_item], points=0)", "basket = session.get(Basket, 1)")
    assert anchor in {f.anchor for f in LostUpdate(facts_from_sources(sources)).check()}
