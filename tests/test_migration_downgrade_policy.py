"""MIG001 on a tree whose empty downgrades are the project's policy: one finding, not one per revision."""

from __future__ import annotations

from analyzers.advice import advice
from analyzers.findings import Severity
from tests.test_precision import found, revision


def _tree(count: int, empty: int) -> dict[str, str]:
    """`count` revisions in one chain, each creating a table; the first `empty` have `pass` as downgrade."""
    files = {}
    for n in range(1, count + 1):
        rev, down = f"{n:04d}", f"{n - 1:04d}" if n > 1 else None
        downgrade = "pass" if n <= empty else f'op.drop_table("t{n}")'
        files[f"migrations/versions/{rev}_t{n}.py"] = revision(
            f'op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True))', downgrade, rev=rev, down=down)
    return files


def test_a_tree_where_most_downgrades_are_empty_gets_one_info(tmp_path):
    (f,) = found(tmp_path, _tree(12, 10), "MIG001")
    assert f.severity == Severity.INFO
    assert f.anchor == "migrations:empty-downgrades:migrations/versions"
    assert f.message.startswith("10 of 12 revisions of migrations/versions have an empty downgrade: the project does "
                                "not write downgrades; rolling back means restoring a backup")
    assert "0001, 0002, 0003, 0004, 0005, and 5 more" in f.message
    assert f.location.path == "migrations/versions/0001_t1.py"
    assert [r.note for r in f.related] == ["0002", "0003", "0004", "0005"]
    assert f.covers == tuple(f"MIG001 migration:{n:04d}:downgrade" for n in range(1, 11))
    assert advice("MIG001", f.anchor, f.message).startswith("Say in the runbook how a failed deploy is undone")


def test_a_tree_where_an_empty_downgrade_is_the_exception_keeps_a_finding_per_revision(tmp_path):
    below_share = found(tmp_path, _tree(12, 8), "MIG001")  # 8 of 12: under 3/4
    assert [f.anchor for f in below_share] == [f"migration:{n:04d}:downgrade" for n in range(1, 9)]
    assert [f.severity for f in below_share[1:]] == [Severity.WARNING] * 7
    small = found(tmp_path / "small", _tree(9, 9), "MIG001")  # all empty, but under 10 revisions
    assert [f.anchor for f in small] == [f"migration:{n:04d}:downgrade" for n in range(1, 10)]
