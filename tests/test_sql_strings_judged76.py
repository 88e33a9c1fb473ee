"""SQL built from strings, judged wrong on backends nobody tuned for (round 76): a name the function sets to
one statement after another is sent holding the statement set just before, not any of the others. Small
projects of our own with the exact finding, or its absence, pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import found

REUSED_NAME = '''
from sqlalchemy import text


def record(conn, owner_id, item_id, labels):
    sql = "SELECT id FROM item WHERE owner_id=%s AND id=%s" % (owner_id, item_id)
    rows = conn.execute(text(sql))
    for r in rows:
        if r:
            sql = "UPDATE item SET latest=false WHERE id=%s" % (r.id)
            conn.execute(text(sql))
    sql = "INSERT INTO note (owner_id, labels) VALUES (%s, '%s')" % (owner_id, labels)
    conn.execute(text(sql))
'''


def test_a_reused_name_is_sent_with_the_statement_set_just_before(tmp_path):
    """Each send is reported for the values of its own statement: the UPDATE for `r.id`, and the SELECT for
    its two values, not for the INSERT's `labels` set after it."""
    got = {f.location.start_line: f for f in found(tmp_path, {"app/notes.py": REUSED_NAME}, "CFG008")}
    assert sorted((line, f.anchor) for line, f in got.items()) == [
        (7, "sql:record:owner_id"), (11, "sql:record:r.id"), (13, "sql:record:owner_id")]
    assert "(1 more value(s)" in got[7].message and "read from the database" in got[11].message
    assert all(f.severity == Severity.INFO for f in got.values())  # nothing calls record
