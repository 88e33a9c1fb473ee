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


def test_small_trees_of_one_project_that_does_not_write_downgrades_share_the_policy(tmp_path):
    """cloudkitty (MIG001 warnings judged debatable x5): six Alembic trees of a few revisions each, 26 of 29 without a
    downgrade: the project's convention, one info per tree; a lone tree that writes them keeps its findings."""
    files = {}
    for tree in ("billing", "storage"):
        for path, text in _tree(6, 5).items():
            files[path.replace("migrations/", f"{tree}/migrations/")] = text
    found_ = found(tmp_path, files, "MIG001")
    assert sorted(f.anchor for f in found_) == ["migrations:empty-downgrades:billing/migrations/versions",
                                                "migrations:empty-downgrades:storage/migrations/versions"]
    assert all(f.severity == Severity.INFO and "(and 10 of the project's 12)" in f.message for f in found_)


def test_enum_values_added_after_a_commit_and_a_root_that_only_creates_are_no_warnings(tmp_path):
    """SurfSense (MIG001 warnings judged debatable): `op.execute("COMMIT")` then ADD VALUE IF NOT EXISTS only adds an
    enum value; a root revision that makes an extension, the models' tables (create_all) and indexes builds the
    schema from nothing (info)."""
    enum = revision('op.execute("COMMIT")\nop.execute("ALTER TYPE provider ADD VALUE IF NOT EXISTS \'OTHER\'")', "pass",
                    rev="0002", down="0001")
    root = revision('from app.db import Base\nop.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))\n'
                    "Base.metadata.create_all(bind=op.get_bind())\n"
                    'op.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_docs ON documents (title)"))', "pass", rev="0001")
    found_ = found(tmp_path, {"migrations/versions/0001_root.py": root, "migrations/versions/0002_enum.py": enum}, "MIG001")
    assert [(f.anchor, f.severity) for f in found_] == [("migration:0001:downgrade", Severity.INFO)]
