"""MIG006 does not say that no migration adds a column when an operation on that table could not be read
(columns added in a loop, `batch_op.add_column(col)`): that part may add it. `scan --explain-layout` lists the
part, and what is not reported because of it. A column of another table is still reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_fk_action_drift import drift
from tests.test_precision import HEADER
from tui import cli

MODELS = HEADER + """

class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    color: Mapped[str] = mapped_column(String(20))


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
"""

CREATE = """
op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))
op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
"""

LOOP = """
added = [sa.Column("title", sa.String(80)), sa.Column("color", sa.String(20))]
with op.batch_alter_table("notes") as batch_op:
    for col in added:
        batch_op.add_column(col)
"""


def test_a_column_an_unread_operation_on_its_table_may_add_is_not_reported(tmp_path):
    found = drift(tmp_path, "column", MODELS, CREATE, LOOP)
    assert [f.anchor for f in found] == ["drift:column:tags.label"]  # another table's column is still reported
    assert "tags.label is in the model but no migration adds it" in found[0].message


def test_without_the_unread_part_the_columns_are_reported_one_finding_a_table(tmp_path):
    from analyzers.findings import identity_key

    found = drift(tmp_path, "column", MODELS, CREATE) + drift(tmp_path / "b", "columns", MODELS, CREATE)
    assert sorted(f.anchor for f in found) == ["drift:column:tags.label", "drift:columns:notes"]
    notes = next(f for f in found if f.anchor == "drift:columns:notes")
    assert notes.message.startswith("notes: 2 columns are in the model but no migration adds them (title, color)")
    # a saved review's decisions on the findings of one column each follow the table's
    assert set(notes.covers) == {identity_key("MIG006", "drift:column:notes.title"),
                                 identity_key("MIG006", "drift:column:notes.color")}


def test_a_type_changed_by_a_later_revision_is_cited_there(tmp_path):
    models = MODELS.replace('color: Mapped[str] = mapped_column(String(20))', 'color: Mapped[int] = mapped_column(Integer)')
    create = CREATE.replace('sa.Column("id", sa.Integer, primary_key=True))\nop.create_table("tags"',
                            'sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(80)), '
                            'sa.Column("color", sa.Integer))\nop.create_table("tags"')
    alter = 'op.alter_column("notes", "color", existing_type=sa.Integer, type_=sa.Boolean, postgresql_using="color::boolean")\n'
    (f,) = [f for f in drift(tmp_path, "type", models, create, alter) if "notes.color" in f.message]
    assert "but boolean in the migrations (Boolean, migrations/versions/0002_r.py:" in f.message


def test_explain_layout_names_the_unread_part_and_what_it_holds_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drift(tmp_path, "column", MODELS, CREATE, LOOP)
    cli.main(["scan", str(tmp_path / "repo"), "--explain-layout"])
    out = capsys.readouterr().out
    assert "  not read: migrations/versions/0002_r.py:" in out
    assert "(table notes): its columns no other migration adds are not reported as missing" in out


def test_star_args_of_a_list_written_in_the_revision_are_read(tmp_path):
    """`op.create_table(*notes_args)` with the list written above it (or lists added together): the table and
    its columns are read; a `*` over what the revision does not write is an operation not read, which lowers the
    claim to an info that says so."""
    from analyzers.engine import scan
    from tests.test_precision import _write, revision

    spread = ('base = [sa.Column("id", sa.Integer, primary_key=True)]\n'
              'notes_args = ["notes"] + base + [sa.Column("title", sa.String(80)), sa.Column("color", sa.String(20))]\n'
              'op.create_table(*notes_args)\n'
              'op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True), sa.Column("label", sa.String(40)))\n')
    root = _write(tmp_path, {"app/models.py": MODELS, "migrations/versions/0001_r.py": revision(spread)})
    result = scan(root)
    assert set(result.facts.migration_tables["notes"].columns) == {"id", "title", "color"}
    assert not [f for f in result.result.findings if f.rule_id == "MIG006" and "no migration" in f.message]
    unknown = spread.replace("op.create_table(*notes_args)", "op.create_table(*load_args())")
    root = _write(tmp_path / "b", {"app/models.py": MODELS, "migrations/versions/0001_r.py": revision(unknown)})
    (f,) = [f for f in scan(root).result.findings if f.rule_id == "MIG006" and "notes" in f.message]
    assert f.severity.value == "info" and "(not certain: migrations/versions/0001_r.py:9 could not be read: " \
        "op.create_table: `*...` could not be followed" in f.message
