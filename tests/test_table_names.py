"""Tables named by a call of the project's (`Table(prefixed("tags"), ...)`, `__tablename__ = prefixed("notes")`):
the name worked out where the prefix is a constant; where it is set at run time, the table is kept under its
argument, its name marked not certain (in --explain-layout too), and what the migrations say of it is held
back. A fixture of our own."""

from __future__ import annotations

from pathlib import Path

from analyzers.engine import scan
from analyzers.examples import facts_from_sources
from analyzers.rules.schema import migration_gaps
from tui.cli import explain_layout

NAMING = '''
import os
PREFIX = {}

def prefixed(name: str) -> str:
    """The table's name with the deployment's prefix."""
    return f"{{PREFIX}}{{name}}"
'''

MODELS = '''
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from app.naming import prefixed

class Base(DeclarativeBase):
    pass

class Note(Base):
    __tablename__ = prefixed("notes")
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200))

NoteTag = Table(
    prefixed("note_tags"),
    Base.metadata,
    Column("note_id", ForeignKey(f"{prefixed('notes')}.id"), primary_key=True),
    Column("tag", String(40), primary_key=True),
)
'''


def _tables(prefix: str) -> dict:
    return facts_from_sources({"app/naming.py": NAMING.format(prefix), "app/models.py": MODELS}).tables


def test_a_constant_prefix_gives_the_whole_name() -> None:
    tables = _tables('"app_"')
    assert sorted(tables) == ["app_note_tags", "app_notes"]
    link = tables["app_note_tags"]
    assert link.name_unsure is None and [fk.target for fk in link.columns["note_id"].foreign_keys] == ["app_notes.id"]


def test_a_prefix_set_at_run_time_keeps_the_table_under_its_argument_and_says_so() -> None:
    facts = facts_from_sources({"app/naming.py": NAMING.format('os.environ.get("TABLE_PREFIX", "")'), "app/models.py": MODELS})
    assert sorted(facts.tables) == ["note_tags", "notes"]
    link = facts.tables["note_tags"]
    assert link.name_unsure == "named by prefixed('note_tags'), which adds {PREFIX}, known only at run time"
    assert [fk.target for fk in link.columns["note_id"].foreign_keys] == ["notes.id"]
    [gap] = migration_gaps(facts, "note_tags")  # the rules that compare it with the migrations hold back
    assert (gap.kind, gap.span.start) == ("name", 14)


def test_explain_layout_names_the_tables_whose_name_is_not_certain(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/naming.py").write_text(NAMING.format('os.environ["TABLE_PREFIX"]'))
    (tmp_path / "app/models.py").write_text(MODELS)
    text = explain_layout(scan(tmp_path))
    assert "app/models.py: 2 tables (note_tags, notes)" in text
    assert ("  name not certain: app/models.py:14 note_tags is named by prefixed('note_tags'), which adds {PREFIX}, "
            "known only at run time; the rules that need its exact name (against the migrations and SQL) leave it out") in text
