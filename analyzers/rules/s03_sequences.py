"""Section 3 (migrations): rows a migration inserts with explicit values of a serial or identity key, while
nothing advances the sequence behind it, so PostgreSQL hands the application the ids the seed already took."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.facts.folded import Folded
from analyzers.facts.model import ColumnFact, Facts, RevisionFact, Span, TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.drift import family
from analyzers.rules.growth import growth
from analyzers.rules.outside_writes import bulk_insert_table
from analyzers.rules.runs_on import on_postgres, runs_on
from analyzers.rules.schema import is_test_path, python_paths

# What moves a sequence past rows inserted by hand, in any form: setval, ALTER SEQUENCE/TABLE ... RESTART, a helper
# named for it (`reset_sequences`, `sync_sequence`, `fix_sequence`), TRUNCATE ... RESTART IDENTITY.
_ADVANCES = re.compile(r"setval|\bRESTART\b|ALTER\s+SEQUENCE|(?:reset|sync|fix|update)_\w*seq", re.I)
_ADVANCE_WORDS = ("setval", "restart", "seq")  # one of them is in each of its matches, in lower case
# Text that builds the statement's names (a loop over the tables): it may name any table.
_BUILT = re.compile(r"\{|%s|%\(|\.format\(|\+\s*\w")
# A statement that leaves the table without a row: DELETE with no WHERE, TRUNCATE (group 1 or 2 the table).
_CLEARS = re.compile(r"^\s*(?:DELETE\s+FROM\s+(?:ONLY\s+)?(?:\"?\w+\"?\.)?\"?(\w+)\"?\s*;?\s*$"
                     r"|TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(?:\"?\w+\"?\.)?\"?(\w+)\"?)", re.I)
_SQL_INSERT = re.compile(r"\bINSERT\s+INTO\s+(?:\"?\w+\"?\.)?\"?(\w+)\"?\s*\(([^)]*)\)\s*VALUES\b", re.I)


@dataclass(frozen=True, slots=True)
class Seed:
    revision: RevisionFact
    span: Span
    ids: tuple[int, ...]  # the explicit values, where they are integer literals


def serial_key(table: TableFact) -> ColumnFact | None:
    """The table's key when the database numbers it from a sequence: one integer column, no default of its own,
    autoincrement not turned off."""
    names = {c.name for c in table.columns.values() if c.primary_key}
    names.update(*(con.columns for con in table.constraints if con.kind == "primary_key"))
    key = table.columns.get(names.pop()) if len(names) == 1 else None
    if key is None:
        return None
    if family(key, False) != "integer" or key.server_default is not None or (key.autoincrement or "").lower() == "false":
        return None
    return key


def _seeds(facts: Facts, table: str, key: str) -> list[Seed]:
    """The upgrades' inserts into `table` that give `key` a value: `op.bulk_insert` rows with it as a literal key,
    `INSERT INTO table (key, ...) VALUES` in op.execute."""
    out: list[Seed] = []
    given = re.compile(rf"""["']{re.escape(key)}["']\s*:\s*(-?\d+)?""")
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "bulk_insert" and (bulk_insert_table(facts, op) or "").lower() == table:
                found = given.findall("\n".join(facts.lines(op.span)))
                if found:
                    out.append(Seed(rev, op.span, tuple(int(v) for v in found if v)))
            for st in op.sql.statements if op.sql is not None else ():
                for m in _SQL_INSERT.finditer(st.text):
                    columns = [c.strip().strip('"').lower() for c in m.group(2).split(",")]
                    if m.group(1).lower() == table and key.lower() in columns:
                        values = re.findall(r"\(\s*(-?\d+)\s*,", st.text[m.end():]) if columns[0] == key.lower() else []
                        out.append(Seed(rev, st.span, tuple(int(v) for v in values)))
    return out


def _clears(facts: Facts, table: str) -> list[tuple[RevisionFact, Span]]:
    """The upgrades' steps that leave `table` without a row: a DELETE of all rows, TRUNCATE, drop_table."""
    out: list[tuple[RevisionFact, Span]] = []
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "drop_table" and (op.table or "").lower() == table:
                out.append((rev, op.span))
            for st in op.sql.statements if op.sql is not None else ():
                m = _CLEARS.match(st.text)
                if m and (m.group(1) or m.group(2)).lower() == table:
                    out.append((rev, st.span))
    return out


def _cleared(facts: Facts, seed: Seed, clears: list[tuple[RevisionFact, Span]]) -> bool:
    """A step after the seed, in its revision or one descending from it, empties the table: no seeded row stays."""
    by_id = {r.revision: r for r in facts.revisions if r.revision}
    for rev, span in clears:
        if rev is seed.revision:
            if span.start > seed.span.end:
                return True
            continue
        todo, seen = list(rev.down_revisions), set()
        while todo:
            parent = todo.pop()
            if parent in seen or parent not in by_id:
                continue
            if by_id[parent] is seed.revision:
                return True
            seen.add(parent)
            todo.extend(by_id[parent].down_revisions)
    return False


def _advancing(facts: Facts) -> list[tuple[Span, str]]:
    """The lines of the project's code (its migrations and application, tests apart) that may advance a
    sequence, once per scan."""
    cached = facts.derived.get("advancing_sequences")
    if cached is None:
        paths = dict.fromkeys([*(r.path for r in facts.revisions), *python_paths(facts)])
        found: list[tuple[Span, str]] = []
        for path in paths:
            lines = () if is_test_path(path) else facts.lines(Span(path, 1, 10_000_000))
            if Folded("\n".join(lines)).search(_ADVANCES, _ADVANCE_WORDS):  # a line's match is its file's; most files have none
                found.extend((Span(path, n, n), line) for n, line in enumerate(lines, 1) if _ADVANCES.search(line))
        cached = facts.derived["advancing_sequences"] = found
    return cached  # type: ignore[return-value]


def _advanced(facts: Facts, table: str) -> Span | None:
    """Where a line that advances sequences names the table, builds its names, or names none (a helper's call)."""
    word = re.compile(rf"(?<![a-z0-9]){re.escape(table)}(?![a-z0-9])", re.I)  # in `roles_id_seq` too
    return next((span for span, line in _advancing(facts)
                 if word.search(line) or _BUILT.search(line) or not re.search(r"['\"]\w", line)), None)


_MODELS = '''
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


def add_role(session, name):
    session.add(Role(name=name))
'''
_SEED = '''
from alembic import op
import sqlalchemy as sa
revision = "0001"
down_revision = None
def upgrade():
    op.create_table("roles", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(40), unique=True))
    roles = sa.table("roles", sa.column("id", sa.Integer), sa.column("name", sa.String))
    op.bulk_insert(roles, [{"id": 1, "name": "admin"}, {"id": 2, "name": "member"}])
def downgrade():
    op.drop_table("roles")
'''
_CONFIG = 'DATABASE_URL = "postgresql://app@db/app"\n'


class SeedKeepsSequenceBehind(Rule):
    """A migration inserts rows with explicit ids into a table whose ids come from a sequence, and never
    advances the sequence.

    What it checks:
        Every upgrade's `op.bulk_insert` whose rows give the table's key a value (`{"id": 1, ...}`, the table
        named by the replay or by `sa.table("roles", ...)`), and every `INSERT INTO roles (id, ...) VALUES` in
        `op.execute`, where the table's key (as the migrations leave it) is one integer column with no default
        of its own and autoincrement not turned off: PostgreSQL numbers it from a sequence (SERIAL or
        identity). Nothing is said where any migration or application code advances sequences on a line
        that names the table or builds its names (`setval`, `ALTER SEQUENCE ... RESTART`, a
        `reset_sequences` helper), nor where the application is known not to run on PostgreSQL, nor for a seed
        a later step of its revision or a revision descending from it empties the table (`DELETE FROM roles`
        with no WHERE, TRUNCATE, drop_table): no seeded id is left to collide with. A warning
        where the application adds rows to the table (the finding cites where); info where dbreview sees no
        such place (an administrator, another service or a later version may add them).
    Why it matters:
        An insert with an explicit id does not touch the sequence: after the seed it still starts at 1, so the
        application's inserts take ids the seed already holds and fail with a duplicate key ("duplicate key value
        violates unique constraint ..._pkey") until the sequence passes the largest seeded id, each failure
        using up one value. Tests on SQLite or MySQL, whose auto-increment follows the largest id, do not see it.
    Example:
        op.bulk_insert(roles, [{"id": 1, "name": "admin"}, {"id": 2, "name": "member"}])
    Instead:
        Leave the ids out and let the sequence give them (look rows up by a natural key), or advance it after
        the seed: `op.execute("SELECT setval(pg_get_serial_sequence('roles', 'id'), (SELECT max(id) FROM roles))")`.
    """

    ID = "MIG024"
    ITEM = "3.2"
    SEVERITY = Severity.WARNING
    VALID = (
        {"app/models.py": _MODELS, "app/config.py": _CONFIG,
         "migrations/versions/0001_seed.py": _SEED.replace('"id": 1, ', "").replace('"id": 2, ', "")},
        {"app/models.py": _MODELS, "app/config.py": _CONFIG,
         "migrations/versions/0001_seed.py": _SEED.replace(
             "def downgrade", "    op.execute(\"SELECT setval(pg_get_serial_sequence('roles', 'id'), 2)\")\ndef downgrade")},
    )
    INVALID = ({"app/models.py": _MODELS, "app/config.py": _CONFIG, "migrations/versions/0001_seed.py": _SEED},)

    def check(self):
        facts = self.facts
        if not facts.revisions or runs_on(facts).not_postgres:
            return
        for name, table in sorted(facts.migration_tables.items()):
            key = serial_key(table)
            seeds = _seeds(facts, name.lower(), key.name) if key is not None else []
            clears = _clears(facts, name.lower()) if seeds else []
            seeds = [s for s in seeds if not _cleared(facts, s, clears)]
            if key is None or not seeds or _advanced(facts, name) is not None:
                continue
            yield on_postgres(facts, self._finding(name, key, seeds))

    def _made(self, span: Span, model: TableFact) -> bool:
        """The class constructed with values, not `Setting()` or `Setting().get(...)`: a row made to be added."""
        line = " ".join(self.facts.lines(Span(span.path, span.start, span.end + 1)))  # `Setting(\n).get()` too
        return bool(model.class_name) and re.search(rf"\b{re.escape(model.class_name)}\((?!\s*\))", line) is not None

    def _finding(self, name: str, key: ColumnFact, seeds: list[Seed]):
        ids = sorted({i for s in seeds for i in s.ids})
        first = seeds[0]
        given = (f"ids {ids[0]} to {ids[-1]}" if len(ids) > 1 else f"id {ids[0]}") if ids else f"explicit values of {key.name}"
        said = (f"revision {first.revision.revision or first.revision.path} inserts rows into {name} with {given}"
                f"{f' (and {len(seeds) - 1} more insert(s) like it)' if len(seeds) > 1 else ''}, and no migration "
                f"advances the sequence behind {name}.{key.name} (setval): on PostgreSQL it still starts at 1, so "
                f"inserts that let it number the row fail with a duplicate key"
                + (f" until it passes {ids[-1]}" if ids else ""))
        model = self.facts.tables.get(name)
        adds = sorted(growth(self.facts, model).adds, key=lambda s: not self._made(s, model)) if model is not None else []
        related = [(s.span, f"revision {s.revision.revision or s.revision.path} gives {key.name}") for s in seeds[1:]]
        if adds:
            return self.finding(
                f"{said}; the application adds {name} rows ({adds[0].path}:{adds[0].start})", first.span,
                f"sequence:{name}", related=[*related, (adds[0], "the application adds a row")])
        return self.finding(
            f"{said}, once anything adds rows without an id (dbreview sees no place in the application's code that does)",
            first.span, f"sequence:{name}", severity=Severity.INFO, related=related)
