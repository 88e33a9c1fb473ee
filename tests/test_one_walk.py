"""The extractor's one walk over a module (analyzers/facts/python_module.py `_Reader._index`) feeds three
readers whose node sets differ: what each of them reads, and the order of usage's module-wide lists (ast.walk's,
breadth first), pinned on a module of our own."""

from __future__ import annotations

from analyzers.facts.python_module import extract_module

SOURCE = '''\
import sqlalchemy as sa

engine = sa.create_engine("postgresql://db/app")


@router.get("/x")
def handler(a: int = default_a(), *, b=keyword_default(), c: "Quoted" = 3) -> ReturnType:
    first.deleted_at = now()

    def inner(q) -> InnerReturn:
        q.deleted_at = None
        return q

    return "pkg.jobs:run_job"


class Repository:
    @staticmethod
    def remove(row) -> MethodReturn:
        second.deleted_at = 1
        Base.metadata.create_all(engine)


def later():
    third.deleted_at = 2
'''


def test_mentions_skip_only_a_module_level_functions_return_annotation() -> None:
    mentions = extract_module("app/x.py", SOURCE).mentions
    assert "ReturnType" not in mentions
    assert mentions["InnerReturn"] == ("handler",)  # a nested function's annotation is its module-level function's
    assert mentions["MethodReturn"] == ("",)
    assert mentions["keyword_default"] == ("handler",) and mentions["Quoted"] == ("handler",)
    assert mentions["router"] == ("",)  # a decorator is mentioned at module level
    assert mentions["run_job"] == ("",) and mentions["jobs"] == ("",)  # words of a string that is not a name
    assert mentions["deleted_at"] == ("", "handler", "later")


def test_the_index_reads_no_annotation_and_no_keyword_only_default() -> None:
    facts = extract_module("app/x.py", SOURCE)
    assert facts.top_functions == {"handler": True, "later": False}
    # calls the index met are read for engines; none in `b=keyword_default()` is a call the functions make
    assert [c.name for c in facts.calls if c.name.endswith("create_engine")] == ["sqlalchemy.create_engine"]


def test_module_wide_lists_keep_the_breadth_first_order() -> None:
    usage = extract_module("app/x.py", SOURCE).usage
    assert usage is not None
    # depth 3 (handler's, later's), then 4 (inner's), then 5 (the method's): ast.walk's order
    assert [(name, span.start) for _, name, span in usage.soft_deletes] == [("first", 8), ("third", 25), ("q", 11), ("second", 20)]
    assert [s.start for s in usage.test_db.create_all] == [21]
    assert [s.start for s in usage.test_db.postgres] == [3]


def test_a_shallower_write_met_later_comes_first() -> None:
    source = "def purge():\n    def inner():\n        row.deleted_at = now()\n\n\narchive.deleted_at = now()\n"
    usage = extract_module("app/y.py", source).usage
    assert usage is not None
    assert [(name, span.start) for _, name, span in usage.soft_deletes] == [("archive", 6), ("row", 3)]
