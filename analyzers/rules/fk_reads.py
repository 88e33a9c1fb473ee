"""Where the application reads a table by one of its foreign key columns: an ORM query that filters on
the column or joins the table through it from another (or such a condition anywhere in its code), or a
relationship that loads the table's rows by it (one-to-many, a reverse one-to-one, a `secondary` link, one a
backref makes), where the code reads that relationship. That is what an index on the column serves beyond the
foreign key check on deleting a parent row. A join from the table to its parent goes through the parent's
primary key and is not counted; nor is a relationship whose key dbreview cannot tell (several foreign
keys to one table and no `foreign_keys=`/`primaryjoin=` naming one).

Each read carries the table's other columns it tests with the key by equality (and-ed in the same query or
condition): an index led by them, with the key after them, serves that read."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.model import ColumnFact, Facts, ModuleFacts, RelationshipFact, Span, TableFact
from analyzers.facts.paths import is_test_path
from analyzers.facts.usage import QueryUse, keyed_attributes
from analyzers.rules.code_use import app_usage, names_class
from analyzers.rules.mentions import mentions
from analyzers.rules.schema import is_tooling_path, python_paths


@dataclass(frozen=True, slots=True)
class Read:
    span: Span
    said: str  # what reads the table by the column, in the finding's words
    label: str  # the related location's label
    # The table's columns the read tests by equality with the key (and-ed): an index led by them serves it.
    # None: the read has a condition dbreview could not read, which may test others.
    tested: frozenset[str] | None = frozenset()
    # A relationship's: "read" (the code reads it, or deletes rows of its class, which loads it), "maybe" (its
    # name is read somewhere, on an object dbreview cannot type), "none" (no code reads it, no delete loads it)
    use: str = "read"
    how: str = ""  # for "maybe": what may read it
    condition: bool = False  # a condition's: what else it tests is read when asked (tested_with)


def tested_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[str] | None:
    """The columns of `table` that `read` tests by equality with `col` (None: it has a condition dbreview cannot
    read). A condition's statement is parsed only when asked: only where an index holds the key after others."""
    if not read.condition:
        return read.tested
    cache: dict[tuple[str, int, str, str], frozenset[str] | None] = facts.derived.setdefault("fk_tested", {})  # type: ignore[assignment]
    key = (read.span.path, read.span.start, table.name, col.name)
    if key not in cache:
        cache[key] = _condition_tested(facts, _Classes(facts), read.span.path, read.span.start, (table, col))
    return cache[key]


def fk_reads(facts: Facts) -> dict[tuple[str, str], list[Read]]:
    """(table, column) -> the reads of the table by that foreign key column, relationships first."""
    cached = facts.derived.get("fk_reads")
    if cached is not None:
        return cached  # type: ignore[return-value]
    out: dict[tuple[str, str], list[Read]] = {}
    classes = _Classes(facts)
    loaders = [(table, rel, *found) for table in facts.tables.values() for rel in table.relationships
               for found in _relationship_reads(classes, table, rel)]
    uses = _RelationshipUses(facts, classes, {(rel.back_populates if backref else rel.attr) or ""
                                              for _, rel, _, _, _, backref in loaders})
    for table, rel, child, col, said, backref in loaders:
        owner = classes.table(rel.target) if backref else table
        name = rel.back_populates if backref else rel.attr
        use, span, how = uses.use(owner, name or "", rel) if owner is not None else ("none", None, "")
        label = f"{owner.class_name}.{name}" if backref and owner is not None else f"{table.class_name}.{rel.attr}"
        if use == "read" and backref and span is not None:  # made by SQLAlchemy, not declared: shown where read
            read = Read(span, f"{said} ({how})", label)
        elif use == "maybe" and not backref:  # declared, and its name read somewhere: counted, as may be
            read = Read(rel.span, said, label)
        else:
            read = Read(rel.span, said, label, use=use, how=how)
        out.setdefault((child.name, col.name), []).append(read)
    for usage in app_usage(facts):
        for q in usage.queries:
            where = f"{q.span.path}:{q.span.start}"
            for ref in q.filtered:
                found = classes.column(*ref.split(".", 1)) if "." in ref else classes.column(q.model, ref)
                if found is not None:
                    out.setdefault((found[0].name, found[1].name), []).append(
                        Read(q.span, f"the query at {where} filters on it", "the query", classes.tested(q, found[0])))
            for ref in q.joined:
                cls, _, attr = ref.partition(".")
                found = classes.column(cls, attr)
                if found is not None and cls != q.model:  # from the table itself to its parent: the parent's key serves
                    out.setdefault((found[0].name, found[1].name), []).append(
                        Read(q.span, f"the query at {where} joins {found[0].name} through it", "the query",
                             classes.tested(q, found[0])))
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
                out.setdefault((found[0].name, found[1].name), []).append(
                    Read(Span(path, n, n), said, "the condition", None, condition=True))
    return out


_FILTER_CALLS = ("where", "filter", "having")
_JOIN_CALLS = ("join", "outerjoin", "join_from")


def _condition_tested(facts: Facts, classes: _Classes, path: str, line: int,
                      found: tuple[TableFact, ColumnFact]) -> frozenset[str] | None:
    """The columns of the table the condition at `path:line` tests with the key: in the filter or join condition
    it stands in (and-ed), and in the query of the same function that filters on the key (its other filters).
    None where the condition is built apart from any filter dbreview reads (a list of conditions and_-ed later)."""
    tree = _tree(facts, path)
    if tree is None:
        return None
    table, col = found
    parts, function = _statement_at(tree, line)
    keyed: set[str] = set()
    placed = False  # the key is tested inside a filter or join condition of the statement
    for node in (n for part in parts for n in ast.walk(part)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _FILTER_CALLS:
                tests = node.args
            elif node.func.attr in _JOIN_CALLS:
                tests = [*node.args[1:], *(k.value for k in node.keywords if k.arg == "onclause")]
            else:
                continue
            keyed |= {a for t in tests for a in keyed_attributes(t)}
            placed = placed or any(isinstance(n, ast.Attribute) and n.attr == (col.attr or col.name)
                                   or isinstance(n, ast.Attribute) and classes.column(table.class_name or "", n.attr) == found
                                   for t in tests for n in ast.walk(t))
    tested = classes.columns_of(table, keyed)
    module = _modules(facts).get(path)
    for q in module.usage.queries if module is not None and module.usage is not None and function else ():
        refs = [classes.column(*r.split(".", 1)) if "." in r else classes.column(q.model, r) for r in q.filtered]
        if q.function == function and found in refs:
            more = classes.tested(q, table)
            if more is None:
                return None
            tested |= more
            placed = True
    return frozenset(tested) if placed else None


def _modules(facts: Facts) -> dict[str, ModuleFacts]:
    by_path = facts.derived.get("modules_by_path")
    if by_path is None:
        by_path = facts.derived["modules_by_path"] = {m.path: m for m in facts.modules}
    return by_path  # type: ignore[return-value]


def _tree(facts: Facts, path: str) -> ast.Module | None:
    trees: dict[str, ast.Module | None] = facts.derived.setdefault("fk_read_trees", {})  # type: ignore[assignment]
    if path not in trees:
        try:
            trees[path] = ast.parse("\n".join(facts.lines(Span(path, 1, 1_000_000))))
        except (SyntaxError, ValueError, RecursionError):
            trees[path] = None
    return trees[path]


def _statement_at(tree: ast.Module, line: int) -> tuple[list[ast.AST], str | None]:
    """What the innermost statement holding `line` tests (a compound statement's header, not its body), and the
    function it is in: down the statements whose lines hold it, not through the whole module."""
    node: ast.AST = tree
    best: ast.AST | None = None
    function: str | None = None
    while True:
        inner = next((c for c in ast.iter_child_nodes(node) if isinstance(c, (ast.stmt, ast.excepthandler))
                      and c.lineno <= line <= (c.end_lineno or c.lineno)), None)
        if inner is None:
            break
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = inner.name
        best = inner if isinstance(inner, ast.stmt) else best
        node = inner
    if best is None:
        return [], function
    if isinstance(getattr(best, "body", None), list):  # its header: the body's statements did not hold the line
        parts: list[ast.AST] = [v for _, v in ast.iter_fields(best) if isinstance(v, ast.expr)]
        return parts + [i.context_expr for i in getattr(best, "items", ())], function
    return [best], function


class _RelationshipUses:
    """Whether the application reads a relationship, found by its name. It reads it where the name is an
    attribute of its class or of a variable named as the class (`Patient.visits`, `old_patient.visits`), a
    loader option's string, or where the code deletes rows of its class (which loads the collection to
    update or delete its rows, unless `passive_deletes=`). It may read it where the name is read any other
    way: an attribute of another object, a string (getattr, a serializer's field list), a keyword argument, a
    field of a class (a pydantic or marshmallow schema), code that walks every relationship of a mapper, a
    delete of an object whose class dbreview cannot tell. A local variable of that name is not a read."""

    def __init__(self, facts: Facts, classes: _Classes, names: set[str]) -> None:
        self.facts, self.classes = facts, classes
        self.lines = mentions(facts, (names - {""}) | {"relationships", "include_relationships", "delete", "DELETE"})
        self.declared = {(t.path, n) for t in facts.tables.values() for rel in t.relationships
                         for n in range(rel.span.start, rel.span.end + 1)}
        self.walked = next((span for word in ("relationships", "include_relationships") for span, line in self.lines[word]
                            if re.search(r"\.relationships\b|include_relationships\s*=\s*True", line.partition("#")[0])), None)

    def use(self, owner: TableFact, name: str, rel: RelationshipFact) -> tuple[str, Span | None, str]:
        """("read" | "maybe" | "none", where, how) for `owner`'s relationship `name` (declared as `rel`, or its backref)."""
        cls = (owner.class_name or "").lower()
        stems = {cls, cls.removesuffix("model")} - {""}
        maybe: tuple[Span, str] | None = None
        for span, line in self.lines.get(name, []):
            if (span.path, span.start) in self.declared:
                continue
            code = line.partition("#")[0]
            receivers = {r.lower().replace("_", "") for r in re.findall(rf"\b(\w+)\s*\.\s*{re.escape(name)}\b", code)}
            if any(r == cls or any(r.endswith(s) for s in stems) for r in receivers) or re.search(
                    rf"""(?:{_LOADERS})\(\s*["']{re.escape(name)}["']""", code):
                return "read", span, f"the code reads it at {span.path}:{span.start}"
            if maybe is None and self._may_read(span, code, name):
                maybe = span, f"{span.path}:{span.start} names {name}, on an object dbreview cannot tell"
        passive = "passive_deletes" in " ".join(self.facts.lines(rel.span))
        deleted = None if passive else orm_deletes(self.facts, self.classes, owner)
        if deleted is not None and deleted[1]:
            return "read", deleted[0], f"deleting a {owner.class_name} loads it: {deleted[2]}"
        if maybe is not None:
            return "maybe", *maybe
        if self.walked is not None:
            return "maybe", self.walked, f"the code walks the mapper's relationships at {self.walked.path}:{self.walked.start}"
        if deleted is not None:
            return "maybe", deleted[0], f"{deleted[2]}, of an object whose class dbreview cannot tell, may load it"
        return "none", None, ""

    def _may_read(self, span: Span, code: str, name: str) -> bool:
        n = re.escape(name)
        if re.search(rf"\.\s*{n}\b", code) or re.search(rf"[(,]\s*{n}\s*=(?!=)", code):
            return True  # an attribute, a keyword argument
        if re.search(rf"""["']{n}["']""", code) and not re.search(r"back_populates|backref|__tablename__|Table\(", code):
            return True  # getattr, a serializer's fields
        if re.match(rf"\s*{n}\s*(?::|=(?!=))", code):
            return self._in_class_body(span)  # a schema's field, not a local variable
        return False

    def _in_class_body(self, span: Span) -> bool:
        lines = self.facts.lines(Span(span.path, 1, span.start))
        indent = len(lines[-1]) - len(lines[-1].lstrip())
        for text in reversed(lines[:-1]):
            if text.strip() and len(text) - len(text.lstrip()) < indent:
                return text.lstrip().startswith("class ")
        return False


_LOADERS = "selectinload|joinedload|subqueryload|immediateload|contains_eager|defaultload|lazyload|raiseload|noload|load_only"


def orm_deletes(facts: Facts, classes: _Classes, table: TableFact, seen: frozenset[str] = frozenset()
                ) -> tuple[Span, bool, str] | None:
    """Where the application may delete a row of `table` through the ORM, whether it surely does, and how, in the
    finding's words: `session.delete()` of an object of its class (of `self` in its class), the delete cascade of
    a relationship from a class it surely deletes (sure); of an object whose class dbreview cannot tell, or whose
    name fits several classes (not sure)."""
    cache: dict[str, tuple[Span, bool, str] | None] = facts.derived.setdefault("orm_deletes", {})  # type: ignore[assignment]
    if table.name not in cache:
        if table.name in seen:
            return None  # a cycle of cascades
        cache[table.name] = _orm_deletes(facts, classes, table, seen | {table.name})
    return cache[table.name]


_SESSION_DELETE = re.compile(r"\b(?:\w*session|db|database)\.delete\(\s*([A-Za-z_]\w*)\s*\)")


def _orm_deletes(facts: Facts, classes: _Classes, table: TableFact, seen: frozenset[str]) -> tuple[Span, bool, str] | None:
    cls = table.class_name or table.name
    known = [t.class_name for t in facts.tables.values() if t.class_name]
    unsure: tuple[Span, bool, str] | None = None
    calls = [c for c in facts.calls if c.name == "session.delete"]
    called = {(c.span.path, c.span.start) for c in calls}
    found = [(c.span, c.kwargs.get("model"), c.target or "") for c in calls]
    for span, line in mentions(facts, {"delete"})["delete"]:  # in modules the scan did not read (no SQLAlchemy named)
        m = _SESSION_DELETE.search(line.partition("#")[0])
        if m is not None and (span.path, span.start) not in called:
            found.append((span, None, m.group(1)))
    for span, model, hint in found:
        if is_test_path(span.path) or is_tooling_path(span.path):
            continue
        model = model if model in known else None  # a parameter's annotation (AsyncSession) is no model
        if hint == "self":
            model = model or classes.enclosing(span.path, span.start)
        named = [k for k in known if names_class(hint, k)] if model is None else [model]
        where = f"session.delete at {span.path}:{span.start}"
        if named == [cls]:
            return span, True, where
        if unsure is None and (not named or cls in named):
            unsure = span, False, where
    for other in facts.tables.values():
        for rel in other.relationships:
            if rel.cascade and re.search(r"\b(all|delete)\b", rel.cascade) and classes.table(rel.target) is table:
                parent = orm_deletes(facts, classes, other, seen)
                where = f"the delete cascade of {other.class_name}.{rel.attr} ({rel.span.path}:{rel.span.start})"
                if parent is not None and parent[1]:
                    return rel.span, True, where
                if parent is not None and unsure is None:
                    unsure = rel.span, False, where
    return unsure


def deletes(facts: Facts, table: TableFact) -> Span | None:
    """Where the application may delete rows of `table`: through the ORM, a bulk delete of its class (`delete(X)`,
    `X.query...delete()`), SQL naming it, or a database cascade from a parent it may delete. None: nowhere."""
    return _deletes(facts, _Classes(facts), table, set())


def _deletes(facts: Facts, classes: _Classes, table: TableFact, seen: set[str]) -> Span | None:
    seen.add(table.name)
    found = orm_deletes(facts, classes, table)
    if found is not None:
        return found[0]
    cls = re.escape(table.class_name or table.name)
    bulk = re.compile(rf"\bdelete\(\s*(?:\w+\.)*{cls}\b|\b{cls}\.(?:__table__\.delete|query\b.*\.delete\()"
                      rf"|query\(\s*(?:\w+\.)*{cls}\b.*\.delete\(|DELETE\s+FROM\s+[\w.]*\"?{re.escape(table.name)}\b", re.I)
    for word, lines in mentions(facts, {"delete", "DELETE"}).items():
        for span, line in lines:
            if bulk.search(line):
                return span
    for usage in app_usage(facts):
        for q in usage.queries:
            if q.model == table.class_name and "delete" in q.methods:
                return q.span
    for col in table.columns.values():
        for fk in col.foreign_keys:
            parent = classes.by_name.get(fk.table) or classes.table(fk.table)
            if (fk.ondelete or "").upper() == "CASCADE" and parent is not None and parent.name not in seen:
                via = _deletes(facts, classes, parent, seen)
                if via is not None:
                    return via
    return None


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

    def columns_of(self, table: TableFact, refs: set[str], model: str | None = None) -> set[str]:
        """The columns of `table` among attribute references ("Class.attr"; a bare "attr" is `model`'s)."""
        out: set[str] = set()
        for ref in refs:
            cls, _, attr = ref.rpartition(".")
            if self.tables.get(cls or model or "") is not table:
                continue
            col = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
            via = self.column(cls or model or "", attr) if col is None else None
            col = col or (via[1] if via else None)
            if col is not None:
                out.add(col.name)
        return out

    def tested(self, q: QueryUse, table: TableFact) -> frozenset[str] | None:
        """The columns of `table` the query tests by equality (and-ed); None if it has a filter dbreview cannot read."""
        return None if q.opaque_filter else frozenset(self.columns_of(table, set(q.keyed), q.model))

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
