"""A history dbreview has to settle before it says anything about the whole schema (issue 7): a squash
that starts a new tree beside the legacy one it replaced. Projects of our own, with what is found pinned."""

from __future__ import annotations

from analyzers.engine import scan
from tests.test_precision import _write, revision

MODELS = '''
from sqlalchemy import Column, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    title = Column(String(200))
    body = Column(Text)
'''

# The live tree: a squash of the legacy history (it takes the legacy head's id), then a column added since.
SQUASH = revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(200)))',
                  'op.drop_table("notes")', rev="c0ffee000001")
ADD_BODY = revision('op.add_column("notes", sa.Column("body", sa.Text()))', 'op.drop_column("notes", "body")',
                    rev="0002", down="c0ffee000001")
# The legacy tree, kept beside it: it built the same table in two steps and locked it on the way.
LEGACY_FIRST = revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))', 'op.drop_table("notes")', rev="l001")
LEGACY_HEAD = revision('''
op.add_column("notes", sa.Column("title", sa.String(200)))
op.create_index("ix_notes_title", "notes", ["title"])
''', rev="c0ffee000001", down="l001")


def _project(tmp_path, legacy_head_id: str = "c0ffee000001"):
    head = LEGACY_HEAD.replace('revision = "c0ffee000001"', f'revision = "{legacy_head_id}"')
    return _write(tmp_path, {
        "app/models.py": MODELS,
        "migrations/versions/0001_squash.py": SQUASH,
        "migrations/versions/0002_body.py": ADD_BODY,
        "migrations/versions/legacy/l001_notes.py": LEGACY_FIRST,
        "migrations/versions/legacy/l002_title.py": head,
    })


def test_a_squash_that_takes_the_legacy_heads_id_settles_which_tree_is_live(tmp_path):
    done = scan(_project(tmp_path))
    facts = done.facts
    (squashed,) = facts.squashed
    assert squashed.folder == "migrations/versions/legacy" and squashed.into.path == "migrations/versions/0001_squash.py"
    assert {r.path.rsplit("/", 1)[0] for r in facts.revisions} == {"migrations/versions"}
    assert set(facts.migration_tables["notes"].columns) == {"id", "title", "body"}  # the live tree's replay alone
    findings = done.result.findings
    assert not [f for f in findings if f.rule_id == "MIG006"]
    assert not [f for f in findings if "/legacy/" in f.location.path]  # history: nothing runs it on the way to head


def test_the_explained_layout_names_the_replaced_tree_and_the_squash(tmp_path, capsys):
    from tui.cli import main

    main(["--data-dir", str(tmp_path / "data"), "scan", str(_project(tmp_path)), "--explain-layout"])
    out = capsys.readouterr().out
    assert ("migrations/versions/legacy: 2 revisions, head c0ffee000001; history: the squash revision c0ffee000001 "
            "(migrations/versions/0001_squash.py:4)") in out


def test_a_legacy_tree_the_live_root_does_not_continue_is_not_settled(tmp_path):
    facts = scan(_project(tmp_path, legacy_head_id="l002")).facts
    assert facts.squashed == []
    assert {r.path.rsplit("/", 1)[0] for r in facts.revisions} == {"migrations/versions", "migrations/versions/legacy"}


def test_two_trees_that_both_create_a_table_unsettled_merge_and_lower_the_drift(tmp_path):
    root = _project(tmp_path, legacy_head_id="l002")
    models = root / "app/models.py"
    models.write_text(models.read_text() + "    summary = Column(Text)\n")
    done = scan(root)
    assert set(done.facts.migration_tables["notes"].columns) == {"id", "title", "body"}  # what either tree adds
    (drift,) = [f for f in done.result.findings if f.rule_id == "MIG006"]
    assert drift.anchor == "drift:column:notes.summary" and drift.severity.value == "info"
    assert ("migrations/versions and migrations/versions/legacy both create notes, and which of the two trees builds "
            "the database is not settled") in drift.message


def test_two_files_with_one_revision_id_in_one_tree_lower_the_drift_on_what_they_touch(tmp_path):
    twin = revision('op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))', rev="0002", down="c0ffee000001")
    root = _write(tmp_path, {"app/models.py": MODELS, "migrations/versions/0001_squash.py": SQUASH,
                             "migrations/versions/0002_body.py": ADD_BODY, "migrations/versions/0002_twin.py": twin})
    findings = scan(root).result.findings
    drifts = [f for f in findings if f.rule_id == "MIG006"]  # the replay took the twin that recreates notes
    assert {f.anchor for f in drifts} == {"drift:columns:notes"}  # title and body: one finding for the table
    assert all(f.severity.value == "info" and "has the same revision id 0002: Alembic keeps one of the two files" in f.message
               for f in drifts)
