"""CFG017 (issue 8, checklist 1.5): a JSON column of a loaded row changed in place and committed, which SQLAlchemy
does not write, on a fixture of our own (tests/fixtures/json_mutation): each finding pinned, each place that is
right on purpose silent; and the facts it reads (analyzers/facts/in_place.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.advice import advice
from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.facts.python_module import extract_module
from analyzers.rules.s01_json_mutation import InPlaceJsonChange
from tests.expected_findings import assert_exactly

FIXTURE = Path(__file__).parent / "fixtures" / "json_mutation"

# (where, anchor, words the message must hold): every CFG017 finding on the fixture. Silent on purpose:
# flag_modified, a copy assigned back, MutableDict/MutableList columns and a TypeDecorator associated with
# MutableDict, a new object before its first add, a relationship's list, a Pydantic schema of the same name,
# a function that never commits, and one that writes the value itself (`.values(settings=workspace.settings)`).
EXPECTED = {
    ("app/services.py:14", "function:app/services.py:set_theme:Workspace.settings:in-place",
     "set_theme loads a Workspace row with session.get() and changes its settings (JSONB column workspaces.settings, "
     "with no mutation tracking) in place (`workspace.settings['theme'] = theme`), then commits (line 15)"),
    ("app/services.py:21", "function:app/services.py:add_label:Workspace.labels:in-place",
     "loads a Workspace row with the query at line 20 and changes its labels (JSON column workspaces.labels"),
    ("app/services.py:27", "function:app/services.py:drop_setting:Workspace.settings:in-place",
     "takes a Workspace row as a parameter typed with the model and changes its settings (JSONB column "
     "workspaces.settings, with no mutation tracking) in place (`del workspace.settings[key]`; "
     "`workspace.settings['notify']['email'] = False`), then flushes (line 29)"),
    ("app/services.py:35", "function:app/services.py:set_extra:Workspace.extra:in-place",
     "changes its extra (JsonText column workspaces.extra"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG017"]


def test_each_change_in_place_is_found_and_nothing_else(findings) -> None:
    assert_exactly(findings, EXPECTED)
    for f in findings:
        assert f.severity.value == "warning" and f.item_id == "1.5"
        assert "the commit writes nothing" in f.message and "flag_modified(workspace, " in f.message


def test_the_second_change_of_one_column_is_cited_beside_the_first(findings) -> None:
    dropped = next(f for f in findings if ":drop_setting:" in f.anchor)
    assert [(r.location.start_line, r.note) for r in dropped.related] == [
        (28, "workspace.settings['notify']['email'] = False: also in place")]


def test_the_advice_names_the_call_and_the_column(findings) -> None:
    f = next(f for f in findings if ":set_theme:" in f.anchor)
    text = advice(f.rule_id, f.anchor, f.message)
    assert '`flag_modified(workspace, "settings")`' in text and "`Workspace.settings`" in text and "`set_theme`" in text


def _sources() -> dict[str, str]:
    return {p.relative_to(FIXTURE).as_posix(): p.read_text() for p in FIXTURE.rglob("*.py")}


def test_a_column_typed_by_its_annotation_is_judged_only_through_a_map_that_is_read() -> None:
    """`Mapped[dict]` with no type of its own: the base's type_annotation_map decides. No map read: silent; a map to
    JSONB: found; a map to MutableDict.as_mutable(JSONB): silent."""
    sources = _sources()
    models = sources["app/models.py"].replace("mapped_column(JSONB, default=dict)", "mapped_column(default=dict)")

    def found(base: str) -> set[str]:
        sources["app/models.py"] = models.replace("class Base(DeclarativeBase):\n    pass", base)
        return {f.anchor for f in InPlaceJsonChange(facts_from_sources(sources)).check()}

    theme = "function:app/services.py:set_theme:Workspace.settings:in-place"
    assert theme not in found("class Base(DeclarativeBase):\n    pass")
    assert theme in found("class Base(DeclarativeBase):\n    type_annotation_map = {dict: JSONB}")
    assert theme not in found("class Base(DeclarativeBase):\n    type_annotation_map = {dict: MutableDict.as_mutable(JSONB)}")


def test_a_function_nothing_calls_is_not_judged() -> None:
    sources = _sources()
    sources["app/services.py"] = sources["app/services.py"].replace(
        '@router.put("/workspaces/{workspace_id}/theme")\n', "")
    anchors = {f.anchor for f in InPlaceJsonChange(facts_from_sources(sources)).check()}
    assert "function:app/services.py:set_theme:Workspace.settings:in-place" not in anchors
    assert len(anchors) == len(EXPECTED) - 1


def test_the_facts_read_each_change_in_place_and_what_keeps_it() -> None:
    code = '''
from sqlalchemy.orm.attributes import flag_modified

def changes(session, thing: Thing, other: "Thing"):
    thing.data["a"] = 1
    thing.data["b"]["c"] += 1
    thing.tags.append("x")
    value = thing.data.pop("d")
    del other.data["e"]
    copy = dict(thing.data)
    copy["f"] = 2
    self_like = thing.name
    session.commit()

def kept(session, thing: Thing, other: Thing):
    thing.data["a"] = 1
    flag_modified(thing, "data")
    other.tags.append("x")
    other.tags = list(other.tags)
    other.data["a"] = len(other.data)
    save(other.data)
    session.commit()
'''
    found = {(c.function, c.holder, c.attr, c.origin, c.span.start) for c in extract_module("app/things.py", code).in_place}
    assert found == {
        ("changes", "thing", "data", ("param", "Thing"), 5),
        ("changes", "thing", "data", ("param", "Thing"), 6),
        ("changes", "thing", "tags", ("param", "Thing"), 7),
        ("changes", "thing", "data", ("param", "Thing"), 8),
        ("changes", "other", "data", ("param", "Thing"), 9),
    }
