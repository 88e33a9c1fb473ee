"""CFG016 (issue 8, checklist 1.6): a failed commit or flush swallowed by a handler that neither rolls back nor
raises, and the same session used next, on a fixture of our own (tests/fixtures/failed_commits); each finding
pinned, each place that is right on purpose silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.engine import scan

FIXTURE = Path(__file__).parent / "fixtures" / "failed_commits"

# (where, anchor, severity, words the message must hold): every CFG016 finding on the fixture.
EXPECTED = {
    ("app/imports.py:17", "function:app/imports.py:import_tags:session:no-rollback", "warning",
     "uses the session on the next turn of the loop (`session.add()`, line 15)"),
    ("app/imports.py:27", "function:app/imports.py:record_upload:db:no-rollback", "info",
     "uses the session in the handler itself (`db.commit()`, line 30)"),
    ("app/imports.py:38", "function:app/imports.py:rename_tag:session:no-rollback", "warning",
     "catches a failure of `session.flush()` (line 37) with except SQLAlchemyError (line 38)"),
}


@pytest.fixture(scope="module")
def findings():
    return [f for f in scan(FIXTURE).result.findings if f.rule_id == "CFG016"]


def test_every_finding_pinned(findings):
    got = {(f"{f.location.path}:{f.location.start_line}", f.anchor, f.severity.value) for f in findings}
    assert got == {e[:3] for e in EXPECTED}
    for f in findings:
        words = next(e[3] for e in EXPECTED if e[1] == f.anchor)
        assert words in f.message, f.message
        assert "PendingRollbackError" in f.message


def test_the_commit_and_the_use_are_cited(findings):
    f = next(f for f in findings if ":import_tags:" in f.anchor)
    notes = {r.note: f"{r.location.path}:{r.location.start_line}" for r in f.related}
    assert notes == {"the commit or flush that may fail": "app/imports.py:16", "the next use of the session": "app/imports.py:15"}


@pytest.mark.parametrize("function", ["import_tags_rolled_back", "import_tags_savepoint", "add_tag", "add_tag_or_raise",
                                      "add_tag_cleaned", "add_tag_fresh_session", "add_tag_not_a_db_error"])
def test_right_on_purpose_is_silent(findings, function):
    assert not [f for f in findings if f":{function}:" in f.anchor]


def test_tests_are_not_read(findings):
    assert not [f for f in findings if f.location.path.startswith("tests/")]


def test_the_advice_names_the_function_and_the_session(findings):
    from analyzers.advice import advice

    f = next(f for f in findings if ":record_upload:" in f.anchor)
    assert advice(f.rule_id, f.anchor, f.message).startswith("In `record_upload`, call `db.rollback()` first in the handler")


GUARDED = '''
from sqlalchemy.exc import IntegrityError
from app.models import Folder


def create_folder(session, name):
    folder = Folder(name=name)
    session.add(folder)
    try:
        session.commit()
    except IntegrityError as e:
        error = str(e)
        folder = None
    if folder:
        session.refresh(folder)
        return folder, None
    return None, error
'''


@pytest.mark.parametrize("test, reported", [
    ("if folder:", False),  # the handler set folder to None: its path skips the use
    ("if folder is not None:", False),
    ("if not folder:", True),  # the handler's path is the one that runs the body
    ("if name:", True),  # a test the handler did not decide
])
def test_a_use_behind_a_name_the_handler_set_to_none(tmp_path, test, reported):
    """papermerge-core's create_folder (judged wrong): `folder = None` in the handler, and the session used only
    under `if folder:` after the try."""
    from tests.test_precision import found

    got = found(tmp_path, {"app/folders.py": GUARDED.replace("if folder:", test)}, "CFG016")
    assert [(f.location.start_line, "`session.refresh()`, line 15" in f.message) for f in got] == (
        [(11, True)] if reported else [])
