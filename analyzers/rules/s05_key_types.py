"""Section 5 (referential integrity): a foreign key column whose type is not the type of the key it references,
in the schema the migrations build (the models where there are no migrations). Only types dbreview reads on both
sides are compared (analyzers/rules/drift.py's families and lengths); a column typed by its annotation only, a
type it cannot resolve, or a table whose migrations hold SQL or steps it could not follow gives nothing."""

from __future__ import annotations

import re
from dataclasses import replace

from analyzers.facts.link import ordered
from analyzers.facts.model import ColumnFact, Span, TableFact
from analyzers.findings import Severity
from analyzers.rules import drift
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.runs_on import runs_on
from analyzers.rules.schema import is_test_path, migration_gaps

# Families PostgreSQL and MySQL have no equality between: they refuse the foreign key itself.
_APART = frozenset(("string", "uuid", "integer"))
_MODELS = HEADER + '''from sqlalchemy import BigInteger


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column({key}, ForeignKey("accounts.id"))
'''


class KeyTypeDiffers(Rule):
    """A foreign key column's type is not the type of the key it references.

    What it checks:
        Each single-column foreign key of the schema the migrations build (of the models when the application
        has no migrations) against the column it references: a SmallInteger referencing a wider integer (ids
        above 32,767 do not fit), a string shorter than the key's (String(50) referencing String(100)), or a
        type of another kind (String(36) referencing UUID, which PostgreSQL and MySQL refuse to build) is a
        warning; an Integer referencing a BigInteger (it fails only past 2,147,483,647 ids), a string of a set
        length longer than the key's (every key fits), or one of a set length referencing text of any length
        (longer keys do not fit), is info; text of any length referencing a string of a set length is not a
        finding.
        Columns typed only by their annotation (SQLAlchemy copies the key's type), types dbreview cannot
        resolve, and tables whose migrations hold SQL or steps it could not follow are not compared. An
        alter_column that changes something else (`nullable=False`) with an `existing_type` of another length
        rewrites the column with that type on MySQL (Alembic emits MODIFY): where the application runs on MySQL
        alone, the columns are compared as that leaves them; where it may run on MySQL and elsewhere, a finding
        that does not hold on MySQL says so and is info.
    Why it matters:
        Values of the referenced key that do not fit cannot be stored in the referencing row (integer out of
        range, value too long), and joins compare two types, casting one side.
    Example:
        account_id = mapped_column(Integer, ForeignKey("accounts.id"))  # accounts.id is BigInteger
    Instead:
        Give the foreign key column the referenced key's exact type: `mapped_column(BigInteger, ForeignKey(...))`.
    """

    ID = "INT017"
    ITEM = "5.4"
    SEVERITY = Severity.WARNING
    VALID = ({"app/models.py": _MODELS.format(key="BigInteger")},)
    INVALID = ({"app/models.py": _MODELS.format(key="Integer")},)

    def check(self):
        facts = self.facts
        migrated = bool(facts.revisions and facts.migration_tables)
        schema = facts.migration_tables if migrated else {n: t for n, t in facts.tables.items() if not is_test_path(t.path)}
        known = runs_on(facts)
        sqlite_only = bool(known.found) and set(known.found) == {"SQLite"}
        for table in schema.values():
            if migrated and (table.from_sql or migration_gaps(facts, table.name)):
                continue
            for col, target in _keys(table):
                ref_table, _, ref_col = target.rpartition(".")
                referenced = schema.get(ref_table.rpartition(".")[2])
                other = referenced.columns.get(ref_col) if referenced is not None else None
                if other is None or (migrated and (referenced.from_sql or migration_gaps(facts, referenced.name))):
                    continue
                if migrated and (drift.sql_touches(facts, table.name, col.name) or drift.sql_touches(facts, referenced.name, ref_col)):
                    continue
                said = _differs(col, other, not migrated, sqlite_only)
                mysql = _on_mysql(facts, table.name, col, referenced.name, other) if migrated and said else None
                if mysql is not None and (mysql[0] is None or mysql[0] != said):
                    if set(known.found) == {"MySQL"}:
                        said = mysql[0]  # the only database it runs on: the column is what Alembic wrote there
                    elif "MySQL" in known.found or not known.found:  # on MySQL it is not what the replay says
                        said = (said[0] + f"; but on MySQL, the alter_column at {mysql[1].path}:{mysql[1].start} writes "
                                f"its existing_type back (MODIFY), and there {mysql[0][0] if mysql[0] else 'the two fit'}",
                                Severity.INFO)
                if said is not None:
                    what, severity = said
                    where = "the migrations" if migrated else "the models"
                    yield self.finding(
                        f"{table.name}.{col.name} references {referenced.name}.{ref_col} but {what} (in the schema "
                        f"{where} build; {referenced.name}.{ref_col} at {other.span.path}:{other.span.start})",
                        col.span, f"fk_type:{table.name}.{col.name}", severity=severity,
                        related=[(other.span, f"{referenced.name}.{ref_col}, the referenced key")])


_TYPE = re.compile(r"(?:\w+\.)*(\w+)\((?:length\s*=\s*)?(\d+)\)$")


def _on_mysql(facts, table: str, col: ColumnFact, ref_table: str, key: ColumnFact):
    """(what _differs says, the step) when an alter_column that changes something else (nullable=) last gave
    either column an existing_type of another length: Alembic's MySQL DDL is MODIFY, which writes the column out
    whole with that type, while elsewhere the type stays what the replay says. None when no such step."""
    mine, theirs = _modified(facts, table, col), _modified(facts, ref_table, key)
    if mine is None and theirs is None:
        return None
    step = (mine or theirs)[1]
    return _differs(mine[0] if mine else col, theirs[0] if theirs else key, False, False), step


def _modified(facts, table: str, col: ColumnFact) -> tuple[ColumnFact, Span] | None:
    """The column as the last alter_column of it that emits DDL without a type_= leaves it on MySQL, when its
    existing_type spells a length other than the column's."""
    last = None
    for rev in ordered(facts.revisions):
        for op in rev.upgrade:
            if op.name == "alter_column" and op.table == table and op.target == col.name and op.reason is None:
                last = op
    m = _TYPE.match(last.options.get("existing_type", "")) if last is not None and "type_" not in last.options else None
    if m is None or m.group(2) == col.type_args.get("length"):
        return None
    return replace(col, type_name=m.group(1), type_args={"length": m.group(2)}), last.span


def _keys(table: TableFact):
    """(column, "table.column" it references) for each single-column foreign key of the table."""
    for col in table.columns.values():
        if len(col.foreign_keys) == 1:
            yield col, col.foreign_keys[0].target
    for con in table.constraints:
        if con.kind == "foreign_key" and len(con.columns) == 1 and con.target and con.columns[0] in table.columns:
            col = table.columns[con.columns[0]]
            if not col.foreign_keys:
                yield col, con.target


def _differs(col: ColumnFact, key: ColumnFact, model: bool, sqlite_only: bool) -> tuple[str, Severity] | None:
    """What is wrong with the referencing column's type against the key's, and how much, or None."""
    if model and (col.type_args.get("annotated") or key.type_args.get("annotated") and key.type_ref):
        return None  # typed by an annotation: a base's type_annotation_map, or the key's own type, may decide
    mine, theirs = drift.family(col, model), drift.family(key, model)
    if mine is None or theirs is None or col.type_args.get("impl") or key.type_args.get("impl"):
        return None
    if mine != theirs:
        if {mine, theirs} <= _APART:
            return (f"is {col.type_name} where the key is {key.type_name}: PostgreSQL and MySQL refuse to create "
                    "such a key (incompatible types), and elsewhere every join compares two types", Severity.WARNING)
        return None
    if mine == "integer":
        size, key_size = drift.INT_BYTES.get(col.type_name or ""), drift.INT_BYTES.get(key.type_name or "")
        if size is None or key_size is None or size >= key_size or sqlite_only:
            return None  # SQLite's INTEGER holds 8 bytes whatever the declared type
        # 32,767 ids are within reach of an ordinary table; 2,147,483,647 are not for most, so a consistency fix
        return (f"is {col.type_name}, narrower than the key's {key.type_name}: ids above {drift.INT_LARGEST[size]} cannot "
                "be stored in it (integer out of range)", Severity.WARNING if size < 4 else Severity.INFO)
    width, key_width = _width(col), _width(key)
    if mine != "string" or width is None or key_width is None or width == key_width:
        return None
    if width != _ANY and (key_width == _ANY or width < key_width):
        if key_width == _ANY:
            return (f"is {col.type_name}({width}) where the key is {key.type_name}, of any length: a key longer than "
                    f"{width} characters cannot be stored in it", Severity.INFO)
        return (f"is {col.type_name}({width}), shorter than the key's {key.type_name}({key_width}): a key longer "
                f"than {width} characters cannot be stored in it (value too long)", Severity.WARNING)
    if width == _ANY:
        return None  # text of any length: every key fits, and PostgreSQL compares it with varchar as it is
    return (f"is {col.type_name}({width}) where the key is {key.type_name}({key_width}): every key fits, but the two "
            "columns are declared apart", Severity.INFO)


_ANY = -1  # a text column of any length


def _width(c: ColumnFact) -> int | None:
    """A string column's length as spelled, _ANY for Text or a String without one, None when not known (a
    length given by a name, a TypeDecorator)."""
    if "impl" in c.type_args:
        return None
    if c.type_name in drift.BOUNDED:
        spelled = c.type_args.get("length")
        return _ANY if spelled is None and c.type_name not in ("CHAR", "NCHAR") else drift.length(c)
    return _ANY if c.type_name in ("Text", "TEXT", "UnicodeText", "CITEXT", "CIText") else None

