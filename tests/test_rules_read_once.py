"""Issue 13 (speed24): facts the rules derive from the source are worked out once a scan, not once per question.
MIG022 replays each revision's downgrade once however long its line; the rules that read statements again from
a file (growth, fk_reads, start_up) share one parse of it. Fixtures of our own; the findings are pinned elsewhere
(tests/test_migration_judged.py, tests/test_perf001_growth.py)."""

from __future__ import annotations

import ast
import collections

from analyzers.findings import Severity
from analyzers.rules import s03_migration_chain
from tests.test_perf001_growth import READS, SHELF
from tests.test_perf001_reads import calls
from tests.test_precision import found, revision


def test_each_downgrade_is_replayed_once_however_long_the_line(tmp_path, monkeypatch):
    replayed = collections.Counter()
    replay = s03_migration_chain._replayed_drops
    monkeypatch.setattr(s03_migration_chain, "_replayed_drops", lambda facts, rev: replayed.update([rev.path]) or replay(facts, rev))
    files = {"migrations/versions/0001.py": revision('op.create_table("tokens", sa.Column("id", sa.Integer))', 'op.drop_table("tokens")')}
    for i in range(2, 7):  # a line of five more revisions, each of which MIG022 walks up from every older one
        files[f"migrations/versions/000{i}.py"] = revision(f'op.create_table("t{i}", sa.Column("id", sa.Integer))',
                                                           f'op.drop_table("t{i}")', rev=f"000{i}", down=f"000{i - 1}")
    files["migrations/versions/0006.py"] = revision('op.drop_table("tokens")\nop.create_table("tokens", sa.Column("id", sa.Integer))',
                                                    'op.drop_table("tokens")', rev="0006", down="0005")
    (f,) = found(tmp_path, files, "MIG022")
    assert f.severity is Severity.WARNING and f.location.path == "migrations/versions/0001.py"
    assert "which the downgrade of revision 0006" in f.message
    assert len(replayed) == 6 and set(replayed.values()) == {1}


def test_the_rules_parse_a_file_once_between_them(tmp_path, monkeypatch):
    parsed = collections.Counter()
    parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda source, *a, **k: parsed.update([source] if isinstance(source, str) else [])
                        or parse(source, *a, **k))
    files = {"app/models.py": SHELF, "app/books.py": READS, **calls("books", "of_genre", "labelled"),
             "app/shelve.py": "from app.models import Book\ndef add(session):\n    session.add(Book(genre_id=1))\n"}
    assert found(tmp_path, files, "PERF001")  # growth asks what adds rows, fk_reads reads the queries again
    whole = [text for text in parsed if text.startswith("\nfrom sqlalchemy import select")]
    assert whole and all(parsed[text] == 1 for text in parsed if len(text.splitlines()) > 3)
