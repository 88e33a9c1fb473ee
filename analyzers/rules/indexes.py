"""Every index the database may hold on a table, wherever it is declared: the model, the schema the
migrations replay, and the upgrades themselves. An upgrade may index a table it did not create (a
history that begins with `create_all` + stamp): the replay does not build such a table, but its
`op.create_index`, unique constraints and CREATE INDEX statements still run on it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.facts.model import Facts, MigrationOp, Span, TableFact
from analyzers.facts.history import dropped_objects
from analyzers.facts.predicates import IS_NULL, not_null, predicate_terms


@dataclass(frozen=True, slots=True)
class Key:
    """One index or unique/primary key: its columns in order, its predicate (a partial index), where."""

    name: str | None
    columns: tuple[str, ...]
    where: str | None
    span: Span
    kind: str = "index"  # index | unique constraint | primary key
    where_python: bool = False  # the model's predicate is a Python bool: INT007 reports the index itself

    @property
    def label(self) -> str:
        return f"the {self.kind} {self.name + ' ' if self.name else ''}({', '.join(self.columns)})"

    def implied_by(self, asserted: frozenset[str] | None, column: str) -> bool:
        """Does a read by `column` that asserts `asserted` (analyzers/facts/predicates.py) look only for rows this
        key holds: no predicate, or every term of its predicate among what the read asserts (a lookup by the
        column asserts it is not NULL, unless it asks for NULL)?"""
        if self.where is None:
            return True
        terms = predicate_terms(self.where)
        if terms is None or asserted is None:
            return False
        return terms <= (asserted if f"{column} {IS_NULL}" in asserted else asserted | {not_null(column)})

    def serves(self, column: str) -> bool:
        """Does it serve every lookup by `column` (leads with it, and any predicate only leaves NULLs out,
        which a join or a foreign key check never looks for)?"""
        return bool(self.columns) and self.columns[0] == column and (
            self.where is None or self.where_python or _not_null(self.where, column))


_KIND = {"unique": "unique constraint", "primary_key": "primary key"}


def _not_null(where: str, column: str) -> bool:
    return re.fullmatch(rf"\(?\s*\"?{re.escape(column)}\"?\s+IS\s+NOT\s+NULL\s*\)?", where.strip(), re.I) is not None


def table_keys(table: TableFact, facts: Facts) -> list[Key]:
    """The indexes, unique constraints and primary key of `table`: the model's, and the schema's as the
    migrations build it (the replay's, or for a table they do not create, what their upgrades index on it
    and do not drop again). A primary key made of columns marked `primary_key=True` has their order in
    the table, which the migrations spell out; where only the model tells (columns from mixins and bases
    come in an order dbreview does not follow), each of its columns counts as leading."""
    out: list[Key] = []
    migrated = facts.migration_tables.get(table.name)
    for t in (table, migrated):
        if t is None:
            continue
        out += [Key(ix.name, ix.columns, ix.where, ix.span, where_python=ix.where_python) for ix in t.indexes]
        out += [Key(c.name, c.columns, None, c.span, _KIND[c.kind]) for c in t.constraints if c.kind in _KIND]
        out += [Key(None, (c.name,), None, c.span) for c in t.columns.values() if c.index or c.unique]
        # index=/unique= as an expression of the class (a mixin's flag): maybe indexed, never said to be without
        out += [Key(None, (c.name,), None, c.span, f"index or unique constraint its class may ask for ({c.keys_unread})")
                for c in t.columns.values() if c.keys_unread and not (c.index or c.unique)]
        pk = tuple(c.name for c in t.columns.values() if c.primary_key)
        if t is migrated and pk:
            out.append(Key(None, pk, None, t.span, "primary key"))
        elif pk and migrated is None:
            out += [Key(None, (c,), None, t.span, "primary key") for c in pk]
        elif pk:
            out.append(Key(None, pk[:1], None, t.span, "primary key"))
    if migrated is None:
        out += _upgrade_keys(facts).get(table.name, [])
    return out


def _upgrade_keys(facts: Facts) -> dict[str, list[Key]]:
    """Per table, the keys the upgrades create and no later upgrade drops (by name), in revision order."""
    cached = facts.derived.get("upgrade_keys")
    if cached is not None:
        return cached  # type: ignore[return-value]
    live: dict[str, tuple[str, Key]] = {}  # index or constraint name -> (table, key)
    unnamed: dict[str, list[Key]] = {}
    for rev in facts.revisions:
        for op in rev.upgrade:
            for name, table, key in _created(op):
                if name:
                    live[name] = (table, key)
                else:
                    unnamed.setdefault(table, []).append(key)
            for kind, name, _, _ in dropped_objects(op):
                if kind in ("index", "constraint"):
                    live.pop(name.split(".", 1)[-1] if kind == "constraint" else name, None)
    out = {t: list(keys) for t, keys in unnamed.items()}
    for table, key in live.values():
        out.setdefault(table, []).append(key)
    facts.derived["upgrade_keys"] = out
    return out


def _created(op: MigrationOp) -> list[tuple[str | None, str, Key]]:
    """(name, table, key) of each index or unique/primary key `op` creates."""
    out: list[tuple[str | None, str, Key]] = []
    if op.table:
        out += [(ix.name, op.table, Key(ix.name, ix.columns, ix.where, op.span)) for ix in op.made_indexes if ix.columns]
    if op.table:
        out += [(c.name, op.table, Key(c.name, c.columns, None, op.span, _KIND[c.kind])) for c in op.constraints
                if c.kind in _KIND and c.columns]
    for st in op.sql.statements if op.sql else ():
        d = st.details
        if st.kind == "create_index" and st.table and d.get("columns"):
            cols = tuple(str(c) for c in d["columns"])  # type: ignore[union-attr]
            name = str(d["name"]) if d.get("name") else None
            out.append((name, st.table, Key(name, cols, str(d["where"]) if d.get("where") else None, st.span)))
        elif st.kind == "alter_table" and st.table:
            for c in d.get("added_constraints", ()):  # type: ignore[union-attr]
                if c.get("kind") in _KIND and c.get("columns"):
                    out.append((c.get("name"), st.table, Key(c.get("name"), tuple(c["columns"]), None, st.span, _KIND[c["kind"]])))
    return out



# A database URL or driver the configuration falls back to: `... or "mysql+pymysql"`,
# `os.getenv("DATABASE_URL", "mysql://...")`, `default="postgresql://..."`, `DATABASE_URL = "mysql://..."`.
_DEFAULT_URL = re.compile(
    r"""(?:\bor\s+|default\s*=\s*|(?:getenv|\.get)\(\s*[^,()]+,\s*)f?["'](?P<a>mysql|mariadb|postgres(?:ql)?|cockroachdb)(?:\+\w+)?(?::|["'])"""
    r"""|^\s*\w+(?:\s*:\s*\w+)?\s*=\s*f?["'](?P<b>mysql|mariadb|postgres(?:ql)?|cockroachdb)(?:\+\w+)?://""")


def mysql_default(facts: Facts, config_modules: list[str]) -> Span | None:
    """Where the application's configuration falls back to MySQL or MariaDB, when it names no PostgreSQL
    default anywhere in `config_modules`: there InnoDB indexes every foreign key by itself."""
    found: Span | None = None
    for path in config_modules:
        for n, line in enumerate(facts.lines(Span(path, 1, 1_000_000)), 1):
            for m in _DEFAULT_URL.finditer(line.partition("#")[0]):
                scheme = m.group("a") or m.group("b")
                if scheme in ("mysql", "mariadb"):
                    found = found or Span(path, n, n)
                else:
                    return None
    return found
