"""Where the application reads a table by one of its foreign key columns: an ORM query that filters on
the column or joins the table through it from another (or such a condition anywhere in its code), or a
relationship that loads the table's rows by it (one-to-many, a reverse one-to-one, a `secondary` link;
one a backref makes, where the code reads it). That is what an index on the column serves beyond the
foreign key check on deleting a parent row. A join from the table to its parent goes through the parent's
primary key and is not counted; nor is a relationship whose key dbreview cannot tell (several foreign
keys to one table and no `foreign_keys=`/`primaryjoin=` naming one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.facts.model import ColumnFact, Facts, RelationshipFact, Span, TableFact
from analyzers.facts.paths import is_test_path
from analyzers.rules.code_use import app_usage
from analyzers.rules.schema import is_tooling_path, python_paths


@dataclass(frozen=True, slots=True)
class Read:
    span: Span
    said: str  # what reads the table by the column, in the finding's words
    label: str  # the related location's label


def fk_reads(facts: Facts) -> dict[tuple[str, str], list[Read]]:
    """(table, column) -> the reads of the table by that foreign key column, relationships first."""
    cached = facts.derived.get("fk_reads")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[tuple[str, str], list[Read]] = {}
    classes = _Classes(facts)
    for table in facts.tables.values():
        for rel in table.relationships:
            for child, col, said, backref in _relationship_reads(classes, table, rel):
                read = Read(rel.span, said, f"{table.class_name}.{rel.attr}")
                if backref:  # made by SQLAlchemy, not declared: counted where the code reads it
                    owner = classes.table(rel.target)
                    used = _backref_read(facts, owner, rel.back_populates) if owner and rel.back_populates else None
                    if used is None:
                        continue
                    read = Read(used, f"{said} (the code reads it at {used.path}:{used.start})",
                                f"{owner.class_name}.{rel.back_populates}")
                out.setdefault((child.name, col.name), []).append(read)
    for usage in app_usage(facts):
        for q in usage.queries:
            where = f"{q.span.path}:{q.span.start}"
            for ref in q.filtered:
                found = classes.column(*ref.split(".", 1)) if "." in ref else classes.column(q.model, ref)
                if found is not None:
                    out.setdefault((found[0].name, found[1].name), []).append(
                        Read(q.span, f"the query at {where} filters on it", "the query"))
            for ref in q.joined:
                cls, _, attr = ref.partition(".")
                found = classes.column(cls, attr)
                if found is not None and cls != q.model:  # from the table itself to its parent: the parent's key serves
                    out.setdefault((found[0].name, found[1].name), []).append(
                        Read(q.span, f"the query at {where} joins {found[0].name} through it", "the query"))
    for (table, column), reads in _conditions(facts, classes).items():
        out.setdefault((table, column), []).extend(reads)
    for key, reads in out.items():  # one read per line: a query and its condition are one
        firsts: dict[tuple[str, int], Read] = {}
        for r in reads:
            firsts.setdefault((r.span.path, r.span.start), r)
        out[key] = list(firsts.values())
    facts.derived["fk_reads"] = out
    return out


_CLASS_ATTR = re.compile(r"\b([A-Z]\w*|cls)\.(\w+)\b")
_COMPARED_AFTER = re.compile(r"\s*(?:==|!=|\.in_\(|\.is_\(|\.is_not\(|\.isnot\(|\.not_in\()\s*(?:([A-Z]\w*)\.\w+\b)?")
_COMPARED_BEFORE = re.compile(r"(?:([A-Z]\w*)\.\w+\s*)?(?:==|!=)\s*$")
_JOIN = re.compile(r"\.(?:join|outerjoin|join_from)\(\s*(?:\w+\.)?([A-Z]\w*)\s*,")


def _conditions(facts: Facts, classes: _Classes) -> dict[tuple[str, str], list[Read]]:
    """Conditions on a foreign key column in the application's code (`Visit.patient_id == x`, `.in_()`): a
    filter, or the condition of a join into its table (`.join(Visit, Visit.patient_id == Patient.id)`). A
    join out of its table to another (`.join(Patient, Visit.patient_id == Patient.id)`) is not one: the other
    table's key serves it. Relationship declarations (primaryjoin=) are left to the relationships."""
    out: dict[tuple[str, str], list[Read]] = {}
    for path in python_paths(facts):
        if is_test_path(path) or is_tooling_path(path):
            continue
        lines = facts.lines(Span(path, 1, 1_000_000))
        for n, line in enumerate(lines, 1):
            code = line.partition("#")[0]
            if "relationship(" in code or "join=" in code or "." not in code:
                continue
            for m in _CLASS_ATTR.finditer(code):
                cls = classes.enclosing(path, n) if m.group(1) == "cls" else m.group(1)
                found = classes.column(cls, m.group(2)) if cls else None
                if found is None:
                    continue
                after, before = _COMPARED_AFTER.match(code, m.end()), _COMPARED_BEFORE.search(code[:m.start()])
                if after is None and before is None:
                    continue
                other = (after.group(1) if after else None) or (before.group(1) if before else None)
                if other and other != cls:  # a join condition: into this table, or out of it
                    joins = [j.group(1) for k in range(max(0, n - 3), n) for j in _JOIN.finditer(lines[k])]
                    if joins and joins[-1] != cls:
                        continue  # out of the table, to the other's key
                    said = f"the condition at {path}:{n} joins {found[0].name} through it"
                else:
                    said = f"the condition at {path}:{n} filters on it"
                out.setdefault((found[0].name, found[1].name), []).append(Read(Span(path, n, n), said, "the condition"))
    return out


_ATTRIBUTE = re.compile(r"(?=\b([A-Za-z_]\w*)\.([A-Za-z_]\w*))")


def _attribute_reads(facts: Facts) -> dict[tuple[str, str], Span]:
    """(receiver, attribute) -> the first place the application's code (not tests, not tooling) reads
    `receiver.attribute`, the receiver lowercased without underscores (`room_photo.room`: ("roomphoto", "room"))."""
    cached = facts.derived.get("attribute_reads")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[tuple[str, str], Span] = {}
    for path in python_paths(facts):
        if is_test_path(path) or is_tooling_path(path):
            continue
        for n, line in enumerate(facts.lines(Span(path, 1, 1_000_000)), 1):
            for receiver, name in _ATTRIBUTE.findall(line.partition("#")[0]):
                out.setdefault((receiver.lower().replace("_", ""), name), Span(path, n, n))
    facts.derived["attribute_reads"] = out
    return out


def _backref_read(facts: Facts, owner: TableFact, name: str) -> Span | None:
    """Where the code reads the backref `name` that SQLAlchemy puts on `owner`'s class: on the class itself
    (`Policy.endpoints`) or on a name that says it holds one (`policy.endpoints`, `old_policy.endpoints`)."""
    cls = owner.class_name or ""
    stems = {cls.lower(), cls.lower().removesuffix("model")} - {""}
    return next((span for (receiver, attr), span in _attribute_reads(facts).items()
                 if attr == name and (receiver == cls.lower() or any(receiver.endswith(s) for s in stems))), None)


class _Classes:
    """Mapped classes by name, where the name is one table's."""

    def __init__(self, facts: Facts) -> None:
        by_class: dict[str, list[TableFact]] = {}
        for t in facts.tables.values():
            if t.class_name:
                by_class.setdefault(t.class_name, []).append(t)
        self.tables = {name: ts[0] for name, ts in by_class.items() if len(ts) == 1}
        self.by_name = facts.tables

    def table(self, ref: str | None) -> TableFact | None:
        name = re.sub(r"^lambda\s*:\s*", "", (ref or "").strip("'\" ")).split(".")[-1]
        return self.tables.get(name)

    def column(self, cls: str, attr: str) -> tuple[TableFact, ColumnFact] | None:
        """The foreign key column `cls.attr` stands for: the column, or a many-to-one relationship through it
        (`Visit.patient == patient` compares visits.patient_id)."""
        table = self.tables.get(cls)
        if table is None:
            return None
        col = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
        if col is None:
            rel = next((r for r in table.relationships if r.attr == attr and not r.secondary), None)
            target = self.table(rel.target) if rel is not None else None
            if rel is None or target is None or target is table:
                return None
            forward = _keys_to(table, target, rel.keys)
            if len(forward) != 1 or _keys_to(target, table, rel.keys):
                return None
            col = forward[0]
        return None if not _keys(table, col) else (table, col)

    def enclosing(self, path: str, line: int) -> str | None:
        """The mapped class whose body holds `path:line` (what `cls.` names in its class methods)."""
        return next((t.class_name for t in self.tables.values()
                     if t.path == path and t.span.start <= line <= t.span.end and t.class_name), None)

    def link(self, ref: str) -> TableFact | None:
        """The association table a `secondary=` names: by table name, or a variable named as its table."""
        name = ref.strip("'\" ").removesuffix(".__table__").split(".")[-1]
        return self.by_name.get(name) or self.table(name)


def _keys(table: TableFact, col: ColumnFact) -> set[str]:
    """The tables `col` is a foreign key to (as written: table or class names)."""
    out = {fk.table.split(".")[-1] for fk in col.foreign_keys}
    out |= {(con.target or "").rsplit(".", 1)[0].split(".")[-1] for con in table.constraints
            if con.kind == "foreign_key" and col.name in con.columns}
    return out - {""}


def _keys_to(table: TableFact, target: TableFact, text: str | None) -> list[ColumnFact]:
    """The foreign key columns of `table` to `target`; where the relationship names its keys (`text`), those
    it names."""
    names = {target.name, target.class_name}
    cols = [c for c in table.columns.values() if _keys(table, c) & names]
    if text:
        cols = [c for c in cols if re.search(rf"\b{re.escape(c.attr or c.name)}\b", text)]
    return cols


def _relationship_reads(classes: _Classes, table: TableFact, rel: RelationshipFact):
    """(child table, column, what reads it, made by a backref) for each table `rel` (or the backref it makes)
    loads by a key."""
    target = classes.table(rel.target)
    if target is None:
        return
    name = f"{table.class_name}.{rel.attr}"
    backref = f"the backref {target.class_name}.{rel.back_populates} of {name}"
    if rel.secondary:
        link = classes.link(rel.secondary)
        if link is None:
            return
        sides = [(table, f"the relationship {name}", rel.keys, False)]
        sides += [(target, backref, None, True)] if rel.backref else []
        for side, who, text, backref in sides:
            cols = _keys_to(link, side, text)
            if len(cols) == 1:
                yield link, cols[0], f"{who} loads its rows through it (secondary {link.name})", backref
        return
    if target is table:  # self-referential: one-to-many unless remote_side names the primary key
        cols = _keys_to(table, table, rel.keys)
        if len(cols) != 1:
            return
        col = cols[0]
        many_to_one = rel.remote_side is not None and not re.search(rf"\b{re.escape(col.attr or col.name)}\b", rel.remote_side)
        if not many_to_one:
            yield table, col, f"the relationship {name} loads its rows by it", False
        elif rel.backref:
            yield table, col, f"{backref} loads its rows by it", True
        return
    forward, reverse = _keys_to(table, target, rel.keys), _keys_to(target, table, rel.keys)
    if len(reverse) == 1 and not forward:
        yield target, reverse[0], f"the relationship {name} loads its rows by it", False
    elif len(forward) == 1 and not reverse and rel.backref:
        yield table, forward[0], f"{backref} loads its rows by it", True
