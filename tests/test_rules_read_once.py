"""Issue 13 (speed24): facts the rules derive from the source are worked out once a scan, not once per question.
MIG022 replays each revision's downgrade once however long its line; the rules that read statements again from
a file (growth, fk_reads, start_up) share one parse of it. Fixtures of our own; the findings are pinned elsewhere
(tests/test_migration_judged.py, tests/test_perf001_growth.py)."""

from __future__ import annotations

import ast
import collections
import sys

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


def test_a_file_is_rewritten_once_for_every_rule_that_reads_it_in_any_syntax(tmp_path, monkeypatch):
    """TEN017 and TEN016 read modules in any Python syntax, growth and fk_reads with the running `ast.parse`: a module
    written for a newer Python (here a PEP 695 alias) is lexed and rewritten once by the extraction and once for all
    the rules (before: once more by each reader in any syntax), and TEN017 still finds the load in it."""
    from analyzers.facts import newer_syntax
    from tests.test_key_lookups import files

    rewritten = collections.Counter()
    rewrite = newer_syntax._rewritten
    monkeypatch.setattr(newer_syntax, "_rewritten", lambda text, path, mode: rewritten.update([path]) or rewrite(text, path, mode))
    route = '\n\n@router.get("/vaults/{vault_id}")\ndef get_vault(session, vault_id: int):\n    return session.get(Vault, vault_id)\n'
    project = files(route)
    project["app/routes.py"] += "\n\ntype VaultId = int\n"
    (f,) = found(tmp_path, project, "TEN017")
    assert f.location.path == "app/routes.py" and f.location.start_line == 20
    assert rewritten["app/routes.py"] == (1 if newer_syntax.NATIVE_PEP_695 else 2)


def test_each_reader_gets_the_tree_it_asked_for_from_one_parse():
    """source_tree is the running `ast.parse`'s tree, python_tree parse_python's, file_tree parse_python's of the
    file's text as read: one tree where they agree; a text whose form feed str.splitlines takes for a line break (the
    facts' lines) is parsed as it is, so its lines stay the file's."""
    from analyzers.examples import facts_from_sources
    from analyzers.rules.source_trees import file_tree, python_tree, source_tree

    facts = facts_from_sources({"app/a.py": "x = 1\r\ny = 2\r\n", "app/ff.py": "x = 1\n\x0c\ny = 2\n"})
    tree = source_tree(facts, "app/a.py")
    assert tree is not None and python_tree(facts, "app/a.py") is tree and file_tree(facts, "app/a.py", "x = 1\r\ny = 2\r\n") is tree
    assert [s.lineno for s in file_tree(facts, "app/ff.py", "x = 1\n\x0c\ny = 2\n").body] == [1, 3]
    assert [s.lineno for s in python_tree(facts, "app/ff.py").body] == [1, 4]  # the facts' numbering, as before
    facts = facts_from_sources({"app/new.py": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"})  # PEP 758
    newer = sys.version_info >= (3, 14)
    assert (source_tree(facts, "app/new.py") is None) is not newer
    assert isinstance(python_tree(facts, "app/new.py").body[0], ast.Try)
