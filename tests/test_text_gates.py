"""Speed without a moved finding (issue 13): the gates that spare a module or a file a slow reading give the
answers the slower code gave, on texts of our own made to sit at each gate's edges; a walk kept for the
readers that walk the same tree again gives ast.walk's nodes in its order."""

from __future__ import annotations

import ast
import re

import pytest

from analyzers.facts import held_locks, walk as walks
from analyzers.facts.folded import Folded
from analyzers.facts.python_module import _PASSWORD_WORDS, _SECRET_WORDS
from analyzers.facts.rewrites import hinted
from analyzers.rules.s03_sequences import _ADVANCE_WORDS, _ADVANCES

# The gate of analyzers/facts/rewrites.py as one regular expression, as it was: `hinted` must agree with it.
_REWRITE = re.compile(
    r"\w\.\w+\s*[-+|]=|\bif\b[^\n]{0,200}\.(?:\w*_)?(?:status|state|used|redeemed|consumed|claimed)\b"
    r"|\b(\w+)\.(\w+)\s*=(?!=)[^\n]{0,300}\b\1\.\2\b|=\s*(?:list|dict|set|copy|deepcopy)\(\w+\.\w+\)"
    r"|\bmax\(|\.desc\(\)|\bdesc\(")

REWRITE_TEXTS = [
    "row.count += 1", "row.count -= 1", "row.flags |= 4", "x = a.b + 1", "a.b == a.b",
    "row.n = row.n + 1", "row.n = other.row.n + 1", "row.n = xrow.n", "row.n = row.nx", "row.n = row.n_2",
    "row.n =\nrow.n", "row.n\n= row.n", "row.n = " + " " * 298 + "row.n", "row.n = " + " " * 300 + "row.n",
    "if a and b.status:", "if a" + " " * 198 + ".status", "if a" + " " * 199 + ".status", "if a\n.status",
    "elif x.used_up:", "if x.was_used:", "if x.statuses:", "notif x.status", "if_ x.status",
    "items = list(row.items)", "items = deepcopy(row.items)", "items = list(items)",
    "top = max(rows)", "q.order_by(T.n.desc())", "order_by(desc(T.n))", "maxi(3)", "nodesc(x)",
    "a.b.c = a.b.c", "a.b.c = b.c", "é.b = é.b", "_.b = _.b", ".b = .b", "", "x = 1\ny = 2",
]


@pytest.mark.parametrize("text", REWRITE_TEXTS)
def test_rewrite_gate_answers_as_the_one_expression(text: str) -> None:
    assert hinted(text) == bool(_REWRITE.search(text))


FOLDED_TEXTS = [
    "SELECT setval('t_id_seq', 1)", "SETVAL", "ALTER SEQUENCE s RESTART", "ALTER\nSEQUENCE", "alter  sequence",
    "restart the server", "RESTARTED", "reset_id_seq()", "fix_all_sequences()", "update_seq", "sync__seq",
    "sequence", "subsequent", "nothing here", "ſetval", "reſtart", "\u212ax setval", "ALTER SEQUENCE\u0130",
    "q.with_for_update()", "SELECT 1 FOR NO KEY UPDATE", "for\tupdate", "FOR KEY UPDATE", "fOr  UpDaTe", "foR ſhare",
    "API_KEY", "apikey", "Token", "tokeN\u0131", "CODE", "zip_code", "codec", "os.urandom", "UUID4()", "\u0130D code",
    "PASSWORD", "pwd", "pasſword", "Kelvin \u212a", "", "\u0130\u0131\u017f",
]


@pytest.mark.parametrize("pattern", [_ADVANCES, _SECRET_WORDS, _PASSWORD_WORDS, held_locks.HINT])
def test_a_search_on_the_lower_case_answers_as_one_ignoring_case(pattern: re.Pattern[str]) -> None:
    assert [Folded(t).search(pattern) for t in FOLDED_TEXTS] == [bool(pattern.search(t)) for t in FOLDED_TEXTS]


def test_the_sequences_needles_are_in_every_match() -> None:
    assert [Folded(t).search(_ADVANCES, _ADVANCE_WORDS) for t in FOLDED_TEXTS] \
        == [bool(_ADVANCES.search(t)) for t in FOLDED_TEXTS]


def test_a_pattern_that_lower_case_would_change_is_refused() -> None:
    with pytest.raises(ValueError):
        Folded("x").search(re.compile(r"\S+code", re.I))
    with pytest.raises(ValueError):
        Folded("x").search(re.compile(r"code"))  # case-sensitive: its lower case is another pattern


SOURCE = """\
def f(a, b):
    for x in a:
        if x.b:
            yield [y for y in b]

class C:
    n = f(1, 2)
"""


def test_kept_walk_is_ast_walk_and_is_not_walked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    tree = ast.parse(SOURCE)
    func = tree.body[0]
    with walks.kept_walks():
        assert list(walks.walk(func)) == list(ast.walk(func))
        assert next(walks.walk(tree)) is tree  # stopped early: not kept
        assert list(walks.walk(tree)) == list(ast.walk(tree))
        monkeypatch.setattr(walks, "_walk", None)  # walked again, it would fail
        assert list(walks.walk(func)) == list(ast.walk(func))
        assert list(walks.walk(tree)) == list(ast.walk(tree))
    monkeypatch.undo()
    assert walks._local.kept is None  # outside: nothing kept
    assert list(walks.walk(func)) == list(ast.walk(func))
