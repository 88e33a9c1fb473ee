"""Where the application reads a table by one of its foreign key columns: an ORM query or bulk DELETE/UPDATE that
tests the column by `==`, `in_()` or `is_()` (a lookup an index serves; `!=` or a bare attribute is none) or
joins the table through it from another (or such a condition anywhere in its code), or a
relationship that loads the table's rows by it (one-to-many, a reverse one-to-one, a `secondary` link, one a
backref makes), where the code reads that relationship. That is what an index on the column serves beyond the
foreign key check on deleting a parent row. A join from the table to its parent (or an alias of it) goes through
the parent's primary key and is not counted; nor is a relationship whose key dbreview cannot tell (several foreign
keys to one table and no `foreign_keys=`/`primaryjoin=` naming one).

Each read carries the table's other columns it tests with the key by equality (and-ed in the same query or
condition): an index led by them, with the key after them, serves that read."""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from analyzers.facts.core_tables import module_as_core
from analyzers.facts.model import ClassFact, ColumnFact, Facts, ModuleFacts, RelationshipFact, Span, TableFact
from analyzers.facts.names import Names, absolute
from analyzers.facts.paths import is_test_path
from analyzers.facts.predicates import asserted_terms
from analyzers.facts.usage import SOFT_DELETE_COLUMNS, QueryUse, attribute_ref, equated_attributes, keyed_attributes
from analyzers.facts.walk import children, kept_walks, walk
from analyzers.rules.code_use import (app_queries, app_usage, function_around, mapped_names, named_models, query_table,
                                      subclass_tables, table_variable)
from analyzers.rules.mentions import mentions
from analyzers.rules.s05_integrity import _is_tail, _may_name, _reached, _uncalled, _unparsed
from analyzers.rules.schema import is_tooling_path, python_paths, rls_by_table
from analyzers.rules.source_trees import source_tree


@dataclass(frozen=True, slots=True)
class Read:
    span: Span
    said: str  # what reads the table by the column, in the finding's words
    label: str  # the related location's label
    # The table's columns the read tests by equality with the key (and-ed): an index led by them serves it.
    # None: the read has a condition dbreview could not read, which may test others.
    tested: frozenset[str] | None = frozenset()
    # The columns it compares with a value (not another table's column, as a join does): what another index of
    # the table, one that does not hold the key, may find its rows by. None as for `tested`.
    values: frozenset[str] | None = frozenset()
    values_asked: bool = False  # a query's: its values are read from its statement when asked (values_with)
    # A relationship's: "read" (the code reads it, or deletes rows of its class, which loads it), "maybe" (its
    # name is read somewhere, on an object dbreview cannot type), "none" (no code reads it, no delete loads it); a
    # query's "tied": it joins the table by the key to another table it narrows (_Joins.tied; `how`: that table)
    use: str = "read"
    how: str = ""  # a relationship's: where the code reads it, or for "maybe", what may read it
    condition: bool = False  # a condition's: what else it tests is read when asked (tested_with)
    # A relationship's that deleting a parent row through the ORM loads (to clear the key of its rows, delete them,
    # or delete their link rows): neither passive_deletes= nor viewonly=.
    unlinks: bool = False
    # What it asserts of the table's columns (analyzers/facts/predicates.py terms), for the partial indexes that may
    # serve it: a relationship's primaryjoin, a query's filters. None: a condition dbreview could not read.
    asserted: frozenset[str] | None = frozenset()
    # The table's columns a query's join ties to a column of another table that it narrows by a value (not the key):
    # if the plan finds that table's rows first, an index led by them serves the read; dbreview cannot tell the plan.
    joined_by: frozenset[str] = frozenset()
    # A relationship's that no code was found to read but deleting a parent row through the ORM loads (to clear the
    # key of its rows, or delete them): it reads the table only when a parent row is deleted, as the key check does.
    on_delete: bool = False
    # (column, other table) for each column of the table its joins make equal to another table's column: a plan that
    # comes to the table from one that also gives the leading column of a key looks its rows up through that key.
    pinned: frozenset[tuple[str, str]] = frozenset()
    # A query's attributes of the table's class it compares with a value that are no column dbreview found (`Query.id`
    # where a helper of the project's, `id = primary_key("Query")`, declares it): an index may lead them.
    unknown: frozenset[str] = frozenset()


def pinned_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[tuple[str, str]]:
    """The columns of `table` that `read`'s joins make equal to another table's column (see Read.pinned)."""
    if not read.condition:
        return read.pinned
    _condition_cached(facts, read, table, col, False)
    return facts.derived.get("fk_pinned", {}).get((read.span.path, read.span.start, table.name, col.name), frozenset())  # type: ignore[union-attr]


def tested_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[str] | None:
    """The columns of `table` that `read` tests by equality with `col` (None: it has a condition dbreview cannot
    read). A condition's statement is parsed only when asked: only where an index holds the key after others."""
    if not read.condition:
        return read.tested
    return _condition_cached(facts, read, table, col, False)


def values_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[str] | None:
    """The columns of `table` that `read` compares with a value beside `col` (see Read.values)."""
    return _condition_cached(facts, read, table, col, True) if read.condition or read.values_asked else read.values


def asserted_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[str] | None:
    """What `read` asserts of the columns of `table` (None: it has a condition dbreview cannot read): asked only
    where a partial index may serve it; a condition's is found with what it tests (_condition_tested)."""
    if not read.condition:
        return read.asserted
    _condition_cached(facts, read, table, col, False)
    return facts.derived.get("fk_asserted", {}).get((read.span.path, read.span.start, table.name, col.name))  # type: ignore[union-attr]


def query_values(facts: Facts, q: QueryUse, table: TableFact, ranges: bool = False) -> frozenset[str] | None:
    """The columns of `table` query `q` compares with a value, itself or through its joins (None: a filter dbreview
    cannot read). With `ranges`, also those it tests by a range (`<`, between), which an index led by them finds
    rows by too: only in a query that joins nothing, as a range's attribute is recorded without its class."""
    classes = _classes(facts)
    tested = classes.tested(q, table)  # type: ignore[union-attr]
    if tested is None or not ranges or q.joined or q.join_into:
        return tested
    return tested | classes.columns_of(table, set(q.ranges), q.model)  # type: ignore[union-attr]


def _classes(facts: Facts) -> _Classes:
    classes = facts.derived.get("fk_classes")
    if classes is None:
        classes = facts.derived["fk_classes"] = _Classes(facts)
    return classes  # type: ignore[return-value]


def class_table(facts: Facts, ref: str | None) -> TableFact | None:
    """The table of the mapped class a relationship names (`"Tag"`, `lambda: Tag`, `models.Tag`), where one table has
    that class's name."""
    return _classes(facts).table(ref)


def secondary_table(facts: Facts, ref: str) -> TableFact | None:
    """The association table a `secondary=` names: by table name, a `Table(...)`'s variable, or `Class.__table__`."""
    return _classes(facts).link(ref)


def built_apart(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> bool:
    """A condition built apart from any filter dbreview reads (`cond = and_(...)`, a list of conditions and_-ed later):
    what it tests is all dbreview knows of the read, as before it weighed what else the query tests."""
    return read.condition and (read.span.path, read.span.start, table.name, col.name) in facts.derived.get("fk_apart", set())  # type: ignore[operator]


def joined_with(facts: Facts, read: Read, table: TableFact, col: ColumnFact) -> frozenset[str]:
    """The columns of `table` that `read`'s joins tie to another table it narrows (see Read.joined_by)."""
    if not read.condition:
        return read.joined_by
    _condition_cached(facts, read, table, col, False)
    return facts.derived.get("fk_joined_by", {}).get((read.span.path, read.span.start, table.name, col.name), frozenset())  # type: ignore[union-attr]


def _condition_cached(facts: Facts, read: Read, table: TableFact, col: ColumnFact, values: bool) -> frozenset[str] | None:
    cache: dict[tuple[str, int, str, str, bool], frozenset[str] | None] = facts.derived.setdefault("fk_tested", {})  # type: ignore[assignment]
    key = (read.span.path, read.span.start, table.name, col.name, values)
    if key not in cache:
        cache[key] = _condition_tested(facts, _Classes(facts), read.span.path, read.span.start, (table, col), values)
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
        if backref and not name:  # backref=<a name built at run time>: what reads it cannot be looked for
            use, span, how = "unresolved", None, "its name is built at run time, so dbreview cannot look for what reads it"
        on_delete = use == "deleted"
        use = "read" if on_delete else use
        label = f"{table.class_name}.{rel.attr}"
        if backref and owner is not None:
            label = f"{owner.class_name}.{name}" if name else f"the backref of {label}"
        unlinks, asserted = not _passive(facts, rel), classes.join_asserted(rel, child)
        if use == "read" and span is not None:  # where the code reads it; a backref, made by SQLAlchemy, is shown there
            read = Read(span if backref else rel.span, f"{said} ({how})", label, how=how, unlinks=unlinks,
                        asserted=asserted, on_delete=on_delete)
        else:  # a name read on an object dbreview cannot type, or a delete of one, is said as such, not counted as a read
            read = Read(rel.span, said, label, use="maybe" if use == "unresolved" else use, how=how, unlinks=unlinks,
                        asserted=asserted, on_delete=on_delete)
        out.setdefault((child.name, col.name), []).append(read)
    for usage in app_usage(facts):
        for q in [*usage.queries, *usage.writes]:
            seen = classes.seen_by(q)
            where = f"{q.span.path}:{q.span.start}"
            what = "query" if q.statement == "select" else f"bulk {q.statement}"
            joins = seen.joins(q)
            for ref in sorted(_lookups(q)):
                found = seen.column(*ref.split(".", 1)) if "." in ref else seen.column(q.model, ref)
                if found is not None:
                    out.setdefault((found[0].name, found[1].name), []).append(
                        Read(q.span, f"the {what} at {where} filters on it", f"the {what}", seen.tested(q, found[0]),
                             values_asked=True, asserted=seen.asserted(q, found[0]), joined_by=joins.joined_by(found[0]),
                             pinned=joins.pinned(found[0]), unknown=seen.unknown(q, found[0])))
            for table, col, said, terms in joins.reads(where, what):
                asserted = seen.asserted(q, table)  # and what a relationship's primaryjoin asserts, whatever else it filters
                asserted = terms if asserted is None and terms else None if asserted is None or terms is None else asserted | terms
                # its values too: a join into the table that narrows it by a column another index leads finds its rows there
                out.setdefault((table.name, col.name), []).append(
                    Read(q.span, said, f"the {what}", seen.tested(q, table), values_asked=True, asserted=asserted,
                         joined_by=joins.joined_by(table), pinned=joins.pinned(table)))
            for table, col, other in joins.tied():
                out.setdefault((table.name, col.name), []).append(Read(
                    q.span, f"the {what} at {where} joins {table.name} to {other} on it, and narrows {other} by another "
                    f"column", f"the {what}", use="tied", how=other))
    with kept_walks():  # _conditions' readers walk each file's tree, and _ordering each of its functions, several times
        conditions = _conditions(facts, classes)
    for (table, column), reads in conditions.items():
        out.setdefault((table, column), []).extend(reads)
    for (table, column), reads in _forwarded(facts, classes).items():
        out.setdefault((table, column), []).extend(reads)
    for (table, column), read in _policy_reads(facts):
        out.setdefault((table, column), []).append(read)
    for key, reads in out.items():  # one read per line: a query and its condition are one
        firsts: dict[tuple[str, int], Read] = {}
        for r in reads:
            if firsts.setdefault((r.span.path, r.span.start), r).use == "tied" != r.use:  # a read by the key outweighs it
                firsts[(r.span.path, r.span.start)] = r
        # a condition on the lines after a query of the same function is that query's `.where(...)`, not a read of its own
        around = {id(r): (r.span.path, function_around(facts, r.span)[0]) for r in firsts.values()
                  if r.condition or r.said.startswith("the query at")}
        queried: dict[tuple[str, int], int] = {}
        for r in firsts.values():
            if r.said.startswith("the query at"):
                queried[around[id(r)]] = min(queried.get(around[id(r)], r.span.start), r.span.start)
        out[key] = [r for r in firsts.values() if not r.condition or r.use != "read"
                    or not queried.get(around[id(r)], r.span.start + 1) <= r.span.start]
    facts.derived["fk_reads"] = out
    return out


def _lookups(q: QueryUse) -> set[str]:
    """The attributes a query's filters test in a way an index looks up (==, in_(), is_(), filter_by): not `!=`, a
    bare attribute, `.has()`, a substring; nor a join's condition (out of the table, the parent's key serves it); nor,
    in a subquery, a column of a table it names only where it tests it equal to another's: the enclosing query's table,
    correlated, whose row is found already (`.where(groups.c.gid == services.c.owner).scalar_subquery()`)."""
    found = set(q.keyed) & set(q.filtered)
    if _NESTED.isdisjoint(q.methods):
        return found
    named = {q.model, *(r.partition(".")[0] for r in q.joined), *(target for target, _ in q.join_into)}
    return {r for r in found if r in q.valued or r.partition(".")[0] in named or "." not in r}


_NESTED = frozenset({"scalar_subquery", "subquery", "correlate", "lateral"})  # the methods that make a statement a subquery


_CLASS_ATTR = re.compile(r"\b([A-Z]\w*|cls)\.(\w+)\b")
# A test an index looks up (==, in_(), is_()); `!=`, not_in() and is_not() scan whatever indexes there are.
_COMPARED_AFTER = re.compile(r"\s*(?:==|\.in_\(|\.is_\()\s*(?:([A-Z]\w*)\.\w+\b)?")
_COMPARED_BEFORE = re.compile(r"(?:([A-Z]\w*)\.\w+\s*)?==\s*$")
_JOIN = re.compile(r"\.(?:join|outerjoin|join_from)\(\s*(?:\w+\.)?([A-Z]\w*)\s*,")


# `nrm = aliased(orm.NamespaceRole)`: the variable names the class in the module's conditions
_ALIASED = re.compile(r"^\s*(\w+)\s*=\s*(?:\w+\.)*aliased\(\s*(?:\w+\.)*([A-Z]\w*)\s*[,)]", re.M)
# `groups_users.c.group_id`, `nrm.namespace_id`: a Core table's column, or an alias's attribute
_NAMED_ATTR = re.compile(r"(?<![\w.])([a-z_]\w*)\.(c\.)?(\w+)\b")

# The other side of a comparison, where it is an attribute: `== other.id`, `Other.id ==`, `== t.c.id`
_OTHER_AFTER = re.compile(r"\s*==\s*(\w+)\.(c\.)?\w+")
_OTHER_BEFORE = re.compile(r"(\w+)\.(c\.)?\w+\s*==\s*$")


def _columns_named(classes: _Classes, aliases: dict[str, str], code: str, path: str, n: int):
    """(match, class, (table, foreign key column)) for each foreign key column a line names: `Class.attr`, `cls.attr`
    in a mapped class's methods; and, where it is compared with a value (not another table's column, a join or a
    correlation), `alias.attr` for a variable bound to aliased(Class) and `table.c.column` for a Core table's variable."""
    for m in _CLASS_ATTR.finditer(code):
        cls = classes.enclosing(path, n) if m.group(1) == "cls" else m.group(1)
        if cls and (found := classes.column(cls, m.group(2))) is not None:
            yield m, cls, found
    for m in _NAMED_ATTR.finditer(code):
        name, core, attr = m.groups()
        if not core and name not in aliases:  # `self.x`, `db.session`: most matches, neither kind
            continue
        other = _OTHER_AFTER.match(code, m.end()) or _OTHER_BEFORE.search(code[:m.start()])
        if other is not None and (other.group(2) or other.group(1)[0].isupper() or other.group(1) in {"cls", *aliases}):
            continue
        if not core:
            if (found := classes.column(aliases[name], attr)) is not None:
                yield m, aliases[name], found
            continue
        table = classes.core(name)
        col = table.columns.get(attr) if table is not None else None
        if col is not None and _keys(table, col):
            yield m, None, (table, col)


def _conditions(facts: Facts, classes: _Classes) -> dict[tuple[str, str], list[Read]]:
    """Conditions on a foreign key column in the application's code (`Visit.patient_id == x`, `.in_()`): a
    filter, or the condition of a join into its table (`.join(Visit, Visit.patient_id == Patient.id)`). A
    join out of its table to another (`.join(Patient, Visit.patient_id == Patient.id)`) is not one: the other
    table's key serves it. Relationship declarations (primaryjoin=) are left to the relationships."""
    out: dict[tuple[str, str], list[Read]] = {}
    declared = {(t.path, n) for t in facts.tables.values() for rel in t.relationships  # a primaryjoin's lines, too
                for n in range(rel.span.start, rel.span.end + 1)}
    for path in python_paths(facts):
        if is_test_path(path) or is_tooling_path(path):
            continue
        lines = facts.lines(Span(path, 1, 1_000_000))
        aliases = {m.group(1): m.group(2) for m in _ALIASED.finditer("\n".join(lines))}
        for n, line in enumerate(lines, 1):
            code = line.partition("#")[0]
            if "relationship(" in code or "join=" in code or "." not in code or (path, n) in declared:
                continue
            for m, cls, found in _columns_named(classes, aliases, code, path, n):
                after, before = _COMPARED_AFTER.match(code, m.end()), _COMPARED_BEFORE.search(code[:m.start()])
                end = (n, len(code[:m.end()].encode()))
                if after is None and before is None or end in _negated(facts, path) or end in _ordering(facts, path) \
                        or end in _correlated(facts, path) or end in _computed(facts, path):
                    continue
                # the other side and the join the comparison stands in, as the syntax tree has them (over several lines)
                across, into = _compared_across(facts, path, aliases).get((n, len(code[:m.end()].encode())), (None, None))
                other = (after.group(1) if after else None) or (before.group(1) if before else None) or across
                if other and classes.tables.get(other) is not found[0]:  # a join condition: into this table, or out of it
                    window = "\n".join(line.partition("#")[0] for line in lines[max(0, n - 4):n])  # a join's call may span lines
                    joins = [into] if into else [j.group(1) for j in _JOIN.finditer(window)]
                    if joins and classes.tables.get(joins[-1]) is not found[0]:
                        continue  # out of the table, to the other's key
                    said = f"the condition at {path}:{n} joins {found[0].name} through it"
                else:
                    said = f"the condition at {path}:{n} filters on it"
                    at = (n, len(code[:m.end()].encode()))
                    beside = next((src for src, refs in _or_branches(facts, path).get(at, ())
                                   if not any(_narrows(classes, cls, ref) for ref in refs)), None) if cls else None
                    if beside is not None:  # that OR keeps the rows another test finds: an index on the key serves none
                        out.setdefault((found[0].name, found[1].name), []).append(Read(
                            Span(path, n, n), f"{said} in an OR with `{beside}`", "the condition", None, use="ored",
                            how=(f"that branch finds no {found[0].name} row through an index of {found[0].name} (another "
                                 f"table's column, or a test no index narrows), so an index on {found[1].name} would not "
                                 "keep that read from scanning")))
                        continue
                    if at in _negated(facts, path, ored=True):
                        said += " (in an OR: an index serves that test only if every branch of the OR has one)"
                out.setdefault((found[0].name, found[1].name), []).append(
                    Read(Span(path, n, n), said, "the condition", None, condition=True))
    return out


_FORWARDS = re.compile(r"filter_by\(\s*\*\*")


def _forwarded(facts: Facts, classes: _Classes) -> dict[tuple[str, str], list[Read]]:
    """Calls of a class method that hands its keywords to its class's query, `Model.get_or_create(user=u, name=n)` where
    the method (the model's, or a base class's or mixin's it inherits) runs `cls.query.filter_by(**kwargs)`: the
    call's keywords are that query's filter, a relationship's name as a keyword comparing its key column."""
    paths = [p for p in python_paths(facts) if not is_test_path(p) and not is_tooling_path(p)
             and not p.rpartition("/")[2].startswith("test")]  # nor a module of test helpers (`testlib.py`)
    helpers: dict[str, list[tuple[str, str, int]]] = {}  # method -> (its class, path, the line of its filter_by)
    for path in paths:
        if not _FORWARDS.search("\n".join(facts.lines(Span(path, 1, 1_000_000)))) or (tree := _tree(facts, path)) is None:
            continue
        for cls in (n for n in walk(tree) if isinstance(n, ast.ClassDef)):
            for fn in cls.body:
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.args.kwarg is not None \
                        and any(_last_name(d) == "classmethod" for d in fn.decorator_list) \
                        and (line := _forwarding_filter(fn, fn.args.kwarg.arg)) is not None:
                    helpers.setdefault(fn.name, []).append((cls.name, path, line))
    out: dict[tuple[str, str], list[Read]] = {}
    if not helpers:
        return out
    called = re.compile(rf"\b[A-Z]\w*\.(?:{'|'.join(map(re.escape, helpers))})\(")
    for path in paths:
        if not called.search("\n".join(facts.lines(Span(path, 1, 1_000_000)))) or (tree := _tree(facts, path)) is None:
            continue
        for call in (n for n in walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                     and n.func.attr in helpers and isinstance(n.func.value, ast.Name)):
            table = classes.tables.get(model := call.func.value.id)  # type: ignore[union-attr]
            helper = next((h for h in helpers[call.func.attr] if table is not None  # type: ignore[union-attr]
                           and _descends(facts, table, h[0], h[1])), None)
            if table is None or helper is None:
                continue
            keys = {k.arg for k in call.keywords if k.arg}
            tested = frozenset(classes.columns_of(table, keys, model))
            for key in sorted(keys):
                if (found := classes.column(model, key)) is not None and found[0] is table:
                    out.setdefault((table.name, found[1].name), []).append(Read(
                        Span(path, call.lineno, call.end_lineno or call.lineno),
                        f"the call at {path}:{call.lineno} of {model}.{call.func.attr}(), whose query filters by its "  # type: ignore[union-attr]
                        f"keywords ({helper[1]}:{helper[2]}), filters on it", "the query", tested, tested))
    return out


def _forwarding_filter(fn: ast.FunctionDef | ast.AsyncFunctionDef, kwargs: str) -> int | None:
    """The line of `cls....filter_by(**kwargs)` in `fn`, a query of its class filtered by exactly the keywords it got;
    None where `fn` changes them first (`kwargs[name] = value`, `kwargs.pop(...)`)."""
    for node in walk(fn):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)) and any(
                isinstance(t, ast.Subscript) and _last_name(t.value) == kwargs for t in getattr(node, "targets", [getattr(node, "target", None)])):
            return None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _last_name(node.func.value) == kwargs \
                and node.func.attr in ("pop", "update", "setdefault"):
            return None
    return next((node.lineno for node in walk(fn) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr == "filter_by" and not node.args
                 and [(k.arg, _last_name(k.value)) for k in node.keywords] == [(None, kwargs)]
                 and any(isinstance(x, ast.Name) and x.id == "cls" for x in walk(node.func.value))), None)


def _descends(facts: Facts, owner: TableFact, name: str, path: str) -> bool:
    """`owner`'s class is class `name` of `path`, or inherits it (a base class or mixin dbreview resolves)."""
    if owner.class_name == name and owner.path == path:
        return True
    index = facts.derived.get("classes")
    model = next((c for c in index.all if c.name == owner.class_name and c.path == owner.path), None) if index else None  # type: ignore[attr-defined]
    return model is not None and any(_class_at(a, name, path) for a in index.ancestors(model))  # type: ignore[union-attr]


def _narrows(classes: _Classes, cls: str, ref: str) -> bool:
    """Whether `ref` ("Class.attr", looked up by ==, in_(), is_()) is a column of `cls`'s table an index may find rows by:
    not another table's, nor a boolean flag or a soft-delete column most rows share."""
    owner, _, attr = ref.partition(".")
    table = classes.tables.get(cls if owner == "cls" else owner)
    col = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None) if table is not None else None
    return (col is not None and table is classes.tables.get(cls) and col.name not in SOFT_DELETE_COLUMNS
            and col.type_name not in ("Boolean", "BOOLEAN", "bool"))


def _or_branches(facts: Facts, path: str) -> dict[tuple[int, int], list[tuple[str, set[str]]]]:
    """Where (line, column) a class attribute of `path` ends in a branch of an OR (`|`, `or_()`, `or`): the OR's other
    branches, each as its source and the attributes it looks up (and-ed, keyed_attributes); the innermost OR's."""
    cache: dict[str, dict[tuple[int, int], list[tuple[str, set[str]]]]] = facts.derived.setdefault("fk_or_branches", {})  # type: ignore[assignment]
    if path not in cache:
        out: dict[tuple[int, int], list[tuple[str, set[str]]]] = {}
        text = "\n".join(facts.lines(Span(path, 1, 1_000_000)))
        tree = _tree(facts, path) if "or_(" in text or "|" in text or " or " in text else None
        nested: set[int] = set()  # `a | b | c` is one OR of three branches, not `a | b` inside another
        for node in walk(tree) if tree is not None else ():  # outer ORs first: an inner one's branches win
            branches = _or_parts(node) if id(node) not in nested else None
            if branches is None:
                continue
            nested |= {id(n) for n in _bitor_chain(node)}
            for i, branch in enumerate(branches):
                others = [(_source(b), keyed_attributes(b)) for j, b in enumerate(branches) if j != i]
                for a in walk(branch):
                    if isinstance(a, ast.Attribute) and a.end_lineno is not None:
                        out[(a.end_lineno, a.end_col_offset or 0)] = others
        cache[path] = out
    return cache[path]


def _bitor_chain(node: ast.AST) -> list[ast.AST]:
    """The `|` nodes `a | b | c` is made of (flattened into one OR's branches by _or_parts)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)):
        return []
    return [node, *_bitor_chain(node.left), *_bitor_chain(node.right)]


def _or_parts(node: ast.AST) -> list[ast.expr] | None:
    """The branches of an OR, nested ORs flattened; None for anything else."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*(_or_parts(node.left) or [node.left]), *(_or_parts(node.right) or [node.right])]
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return list(node.values)
    if isinstance(node, ast.Call) and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "or_" and node.args:
        return list(node.args)
    return None


def _source(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _compared_across(facts: Facts, path: str, aliases: dict[str, str]) -> dict[tuple[int, int], tuple[str | None, str | None]]:
    """Where (line, column) a class attribute of `path` ends that `==` compares with another class's attribute (not a
    value's, `user.id`), or an alias's (`creator.id`, `creator = aliased(User)`: another instance of a table, the
    table's own too): that class or alias, and the class or alias of the join whose condition holds the comparison
    (None: none does)."""
    cache: dict[str, dict[tuple[int, int], tuple[str | None, str | None]]] = facts.derived.setdefault("fk_across", {})  # type: ignore[assignment]
    if path not in cache:
        out: dict[tuple[int, int], tuple[str | None, str | None]] = {}
        tree = _tree(facts, path)
        joined: dict[int, str] = {}  # id() of a comparison -> the join it stands in (the innermost: visited last)
        for node in walk(tree) if tree is not None else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _JOIN_CALLS:
                args = node.args[1:] if node.func.attr == "join_from" else node.args
                target = (_model_class(args[0]) or _alias(args[0], aliases)) if args else None
                for t in [*args[1:], *(k.value for k in node.keywords if k.arg == "onclause")]:
                    joined.update({id(c): target for c in walk(t) if isinstance(c, ast.Compare) and target})
        for node in walk(tree) if tree is not None else ():
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
                sides = [node.left, node.comparators[0]]
                refs = [_class_attribute(x) for x in sides]
                for side, ref, other in ((sides[0], refs[0], refs[1]), (sides[1], refs[1], refs[0])):
                    if ref and other and (other[:1].isupper() or other.partition(".")[0] in aliases) \
                            and side.end_lineno is not None:  # a class's or an alias's, not `user.id`
                        out[(side.end_lineno, side.end_col_offset or 0)] = (other.partition(".")[0], joined.get(id(node)))
        cache[path] = out
    return cache[path]


# The calls that make a statement a subquery correlated to the enclosing query's tables (not `.subquery()`: in a FROM,
# a table it names but does not select from is one more it reads)
_CORRELATING = frozenset({"scalar_subquery", "exists", "correlate", "correlate_except", "lateral", "as_scalar"})
_STATEMENTS = frozenset({"select", "query", "exists"})  # where another statement starts, with tables of its own
_OWN = frozenset({"select", "query", "select_from", "join", "outerjoin", "join_from", "correlate_except", "add_columns",
                  "with_only_columns"})  # the calls whose arguments name the tables a statement reads


def _correlated(facts: Facts, path: str) -> set[tuple[int, int]]:
    """Where (line, column) a class attribute of `path` ends that a subquery's filter compares with an attribute of a
    class the subquery reads, where its own class is none it reads: the enclosing query's, correlated, whose row is
    found already (`select(func.count(Reply.id)).where(Reply.topic_id == Follow.topic_id).scalar_subquery()` looks
    replies up by topic_id for each follow; it reads no follow)."""
    cache: dict[str, set[tuple[int, int]]] = facts.derived.setdefault("fk_correlated", {})  # type: ignore[assignment]
    if path not in cache:
        out: set[tuple[int, int]] = set()
        tree = _tree(facts, path)
        for node in walk(tree) if tree is not None else ():
            name = _call_name(node)
            if name not in _CORRELATING:
                continue
            calls = _chain(node.args[0] if name == "exists" and isinstance(node.func, ast.Name) and node.args else node)
            own = {n for c in calls if _call_name(c) in _OWN for a in c.args for n in _classes_named(a)}
            for test in (a for c in calls if _call_name(c) in _FILTER_CALLS for a in c.args):
                for compare in _own_level(test):
                    if not (isinstance(compare, ast.Compare) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq)):
                        continue
                    sides = [compare.left, compare.comparators[0]]
                    refs = [_class_attribute(x) for x in sides]
                    if not all(refs):
                        continue
                    for side, ref, other in ((sides[0], refs[0], refs[1]), (sides[1], refs[1], refs[0])):
                        if ref.partition(".")[0] not in own and other.partition(".")[0] in own:  # type: ignore[union-attr]
                            out.add((side.end_lineno or side.lineno, side.end_col_offset or 0))
        cache[path] = out
    return cache[path]


def _chain(node: ast.AST) -> list[ast.Call]:
    """The calls of a method chain, outermost first: `select(X).where(...).exists()`."""
    calls: list[ast.Call] = []
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            calls.append(node)
            node = node.func
        else:
            node = node.value
    return calls


def _classes_named(node: ast.AST) -> set[str]:
    """The classes (or aliases) an argument names: `Reply`, `models.Reply`, `Reply.id`, `func.count(Reply.id)`."""
    found = {node.id} if isinstance(node, ast.Name) else {_model_class(node)} if isinstance(node, ast.Attribute) else set()
    found |= {ref.partition(".")[0] for n in _own_level(node) if (ref := _class_attribute(n))}
    return {n for n in found if n}


def _own_level(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of `node` outside any statement nested in it (`exists(select(...))`), which reads tables of its own."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack += [c for c in children(current) if _call_name(c) not in _STATEMENTS]


def _alias(node: ast.AST, aliases: dict[str, str]) -> str | None:
    return node.id if isinstance(node, ast.Name) and node.id in aliases else None


def _policy_reads(facts: Facts) -> list[tuple[tuple[str, str], Read]]:
    """The Row-Level Security policies (as the upgrades leave them, on tables they enable it on) whose USING test
    compares a column of their table by `=` or IN: PostgreSQL adds that test to every query of the table that the
    policy applies to (not INSERT, whose WITH CHECK looks nothing up), so each such query reads by the column."""
    out: list[tuple[tuple[str, str], Read]] = []
    for name, state in rls_by_table(facts).items():
        table = facts.tables.get(name) or facts.tables.get(name.split(".")[-1])
        if table is None or not state.enabled:
            continue
        for policy in state.policies:
            using = str(policy.details.get("using") or "")
            if str(policy.details.get("command") or "all").lower() == "insert" or not using:
                continue
            own = rf'(?<![\w."])(?:"?{re.escape(table.name)}"?\.)?'
            compared = {c.name for c in table.columns.values()
                        if re.search(rf'{own}"?{re.escape(c.name)}"?\s*(?:=(?!>)|IN\s*\()', using, re.I)
                        or re.search(rf'(?<![<>!])=\s*{own}"?{re.escape(c.name)}"?(?![\w"])', using)}
            either = re.search(r"\bOR\b", using, re.I) is not None
            said = (f"the policy {policy.details.get('name')} on {table.name} adds a test of it to every query of {table.name} "
                    f"it applies to, which finds its rows by it where the query tests no other indexed column (a listing "
                    f"of the rows the policy lets through)")
            if either:
                said += " (in an OR: an index serves that test only if every branch of the OR has one)"
            for col in sorted(compared):
                others = frozenset() if either else frozenset(compared - {col})
                read = Read(policy.span, said, "the policy", others, values=others)
                out.append(((table.name, col), read))
    return out


_SUBQUERY = frozenset(("select", "exists", "query", "where", "filter", "filter_by"))


def _negated(facts: Facts, path: str, ored: bool = False) -> set[tuple[int, int]]:
    """Where (line, column) a class attribute of `path` ends under a NOT (`not_(...)`, `~(...)`): a test there keeps
    the rows that do not match it, which no index on the column finds (`not_(and_(Msg.kind == k, Msg.author_id
    == a))` reads every message of its thread but one author's). `ored`: where one ends in a branch of an OR (`|`,
    `or_()`, `or`) instead."""
    cache: dict[str, set[tuple[int, int]]] = facts.derived.setdefault("fk_ored" if ored else "fk_negated", {})  # type: ignore[assignment]
    if path not in cache:
        text = "\n".join(facts.lines(Span(path, 1, 1_000_000)))
        tree = _tree(facts, path) if ("or_(" in text or "|" in text or " or " in text if ored else "not_(" in text or "~" in text) else None
        out: set[tuple[int, int]] = set()
        below: set[int] = set()  # the nodes under a NOT (an OR) read already: a nested one is read with the outer one
        # Only what lies under a NOT (an OR) can be in one, so each outermost is read with its subtree; the rest of the
        # module is met in a walk the other readers of the file share (kept), not a walk of its own for each.
        for top in walk(tree) if tree is not None else ():  # breadth first: an outer one before the ones inside it
            if id(top) in below or not _opens(top, _call_name(top), ored):
                continue
            stack: list[tuple[ast.AST, bool]] = [(child, True) for child in children(top)]
            while stack:
                node, under = stack.pop()
                below.add(id(node))
                if isinstance(node, ast.Attribute) and under:
                    out.add((node.end_lineno or node.lineno, node.end_col_offset or 0))
                name = _call_name(node)
                if name in _SUBQUERY:
                    under = False  # a subquery's own filters: `~exists(select(X).where(X.key == v))` looks X up by its key
                else:
                    under = under or _opens(node, name, ored)
                stack += [(child, under) for child in children(node)]  # ast.iter_child_nodes's, at less cost
        cache[path] = out
    return cache[path]


def _call_name(node: ast.AST) -> str | None:
    return (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None


def _opens(node: ast.AST, name: str | None, ored: bool) -> bool:
    """`node` puts what is below it in an OR's branch (`ored`), or under a NOT."""
    if ored:
        return isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) or (
            isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or)) or name == "or_"
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Invert, ast.Not)) or name == "not_"


_COMPUTING = frozenset({"case", "values"})  # the calls whose tests compute a value for each row found otherwise


def _computed(facts: Facts, path: str) -> set[tuple[int, int]]:
    """Where (line, column) an attribute of `path` ends in a value a statement computes for each row it finds otherwise:
    a CASE's test (`sa.case((T.fk.is_(None), x), else_=y)`), the values an UPDATE or INSERT sets (`.values(fk=...)`).
    A test there finds no row; a statement nested there (`select(...).where(...)`) finds its own."""
    cache: dict[str, set[tuple[int, int]]] = facts.derived.setdefault("fk_computed", {})  # type: ignore[assignment]
    if path not in cache:
        text = "\n".join(facts.lines(Span(path, 1, 1_000_000)))
        tree = _tree(facts, path) if "case(" in text or ".values(" in text else None
        out: set[tuple[int, int]] = set()
        for top in walk(tree) if tree is not None else ():
            if _call_name(top) not in _COMPUTING:
                continue
            stack: list[ast.AST] = [*top.args, *(k.value for k in top.keywords)]  # type: ignore[attr-defined]  # not the chain it ends
            while stack:
                node = stack.pop()
                if isinstance(node, ast.Attribute):
                    out.add((node.end_lineno or node.lineno, node.end_col_offset or 0))
                stack += [c for c in children(node) if _call_name(c) not in _SUBQUERY]
        cache[path] = out
    return cache[path]


def _ordering(facts: Facts, path: str) -> set[tuple[int, int]]:
    """Where (line, column) a class attribute of `path` ends in a sort key only: an argument of `order_by()`, or the
    value of a name a function uses only there (`all_null = and_(T.a.is_(None), ...)`, then `order_by(asc(all_null))`).
    A test there orders the rows the filters found; it finds none."""
    cache: dict[str, set[tuple[int, int]]] = facts.derived.setdefault("fk_ordering", {})  # type: ignore[assignment]
    if path not in cache:
        text = "\n".join(facts.lines(Span(path, 1, 1_000_000)))
        tree = _tree(facts, path) if "order_by(" in text else None
        out: set[tuple[int, int]] = set()
        for fn in walk(tree) if tree is not None else ():
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            sorting = [a for c in walk(fn) if isinstance(c, ast.Call) and getattr(c.func, "attr", None) == "order_by"
                       for a in [*c.args, *(k.value for k in c.keywords)]]
            inside = {id(n) for a in sorting for n in walk(a)}
            used = [n for n in walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
            keys = {u.id for u in used if id(u) in inside} - {u.id for u in used if id(u) not in inside}
            values = [*sorting, *(a.value for a in walk(fn) if isinstance(a, ast.Assign) and len(a.targets) == 1
                                  and isinstance(a.targets[0], ast.Name) and a.targets[0].id in keys)]
            out |= {(n.end_lineno or n.lineno, n.end_col_offset or 0) for v in values for n in walk(v)
                    if isinstance(n, ast.Attribute)}
        cache[path] = out
    return cache[path]


_FILTER_CALLS = ("where", "filter", "having")
_JOIN_CALLS = ("join", "outerjoin", "join_from")


def _condition_tested(facts: Facts, classes: _Classes, path: str, line: int,
                      found: tuple[TableFact, ColumnFact], values: bool = False) -> frozenset[str] | None:
    """The columns of the table the condition at `path:line` tests with the key: in the filter or join condition
    it stands in (and-ed), and in the query of the same function that filters on the key (its other filters).
    None where the condition is built apart from any filter dbreview reads (a list of conditions and_-ed later).
    `values`: only the columns its filters compare with a value (Read.values). What the condition asserts of the
    table's columns (analyzers/facts/predicates.py), its joins and pins are kept for asserted_with, joined_with and
    pinned_with, from the full reading (one that weighs only values leaves out the joins' tests)."""
    table, col = found
    asserts: dict[tuple[str, int, str, str], frozenset[str] | None] = ({} if values else facts.derived.setdefault("fk_asserted", {}))  # type: ignore[assignment]
    at = (path, line, table.name, col.name)
    asserts[at] = None
    tree = _tree(facts, path)
    if tree is None:  # a file in syntax newer than this Python's ast: the query's own facts (read by another parser)
        module = _modules(facts).get(path)
        own = [q for q in ([*module.usage.queries, *module.usage.writes] if module is not None and module.usage else ())
               if q.span.start == line]
        found_in = [classes.compared(q, table) if values else classes.tested(q, table) for q in own]
        if not own or any(v is None for v in found_in):
            return None
        terms = [classes.asserted(q, table) for q in own]
        asserts[at] = None if any(t is None for t in terms) else frozenset().union(*terms)  # type: ignore[arg-type]
        return frozenset().union(*found_in)  # type: ignore[arg-type]
    parts, function = _statement_at(tree, line)
    gathered = _gathered(tree, line)
    if gathered is not None:  # a condition added to a list that a filter and-s: that filter's statement, the list's conditions
        parts = gathered[0]
    earlier = _narrowed_before(tree, line)
    keyed: set[str] = set()
    equated: set[tuple[str, str]] = set()
    into: set[tuple[str, str]] = set()
    terms: set[tuple[str, str]] = set()
    placed = False  # the key is tested inside a filter or join condition of the statement

    def weigh(tests: list[ast.expr], filtering: bool) -> None:
        nonlocal keyed, equated, terms, placed
        if not values or filtering:
            keyed |= {a for t in tests for a in keyed_attributes(t, values=True)}
            equated |= {p for t in tests for p in equated_attributes(t)}
        terms |= {term for t in tests for term in asserted_terms(t, attribute_ref)}
        placed = placed or any(isinstance(n, ast.Attribute) and n.attr == (col.attr or col.name)
                               or isinstance(n, ast.Attribute) and classes.column(table.class_name or "", n.attr) == found
                               for t in tests for n in walk(t))

    for node in (n for part in [*parts, *earlier] for n in walk(part)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _FILTER_CALLS:
                tests = node.args
            elif node.func.attr in _JOIN_CALLS:
                args = node.args[1:] if node.func.attr == "join_from" else node.args
                tests = [*args[1:], *(k.value for k in node.keywords if k.arg == "onclause")]
                target = _model_class(args[0]) if args else None
                into |= {(target, ref) for t in tests for ref in map(_class_attribute, walk(t))
                         if target and ref and ref.partition(".")[0] == target}
                into |= {("", ref) for t in [*args[:1], *tests] if (ref := _class_attribute(t)) and ref.split(".")[1][:1].islower()}
            else:
                continue
            weigh(tests, node.func.attr in _FILTER_CALLS)
    if gathered is not None:
        weigh(gathered[1], True)
    joins = _Joins(classes, keyed, equated, into, None)
    tested = set(joins.tested(table))
    joined: dict[tuple[str, int, str, str], frozenset[str]] = ({} if values else facts.derived.setdefault("fk_joined_by", {}))  # type: ignore[assignment]
    joined[at] = joins.joined_by(table)
    pinned: dict[tuple[str, int, str, str], frozenset[tuple[str, str]]] = ({} if values else facts.derived.setdefault("fk_pinned", {}))  # type: ignore[assignment]
    pinned[at] = joins.pinned(table)
    asserted = classes.terms_of(table, terms)
    roots = [r for r in _statement_roots(parts) if not (earlier and isinstance(r, ast.Name))] + [_chain_root(v) for v in earlier]
    if placed and any(_built_elsewhere(root) for root in roots):
        tested.add(UNREAD_BASE)
        if any(isinstance(root, ast.Name) and root.id in _parameters_at(tree, line) for root in roots):
            tested.add(GIVEN_BASE)
    module = _modules(facts).get(path)
    mine = [q for q in ([*module.usage.queries, *module.usage.writes] if module is not None and module.usage is not None
                        and function else ())
            if q.function == function and found in [classes.column(*r.split(".", 1)) if "." in r else classes.column(q.model, r)
                                                    for r in _lookups(q)]]
    first, last = min((p.lineno for p in parts), default=line), max((p.end_lineno or p.lineno for p in parts), default=line)
    within = [q for q in mine if first <= q.span.start <= last]  # the statement's own query, where it holds one
    for q in within or mine:
        more = classes.compared(q, table) if values else classes.tested(q, table)
        if more is None:
            return None
        tested |= more
        joined[at] = (joined[at] | classes.joins(q).joined_by(table)) - tested
        pinned[at] = pinned[at] | classes.joins(q).pinned(table)
        also = classes.asserted(q, table)
        asserted = None if asserted is None or also is None else asserted | also
        placed = True
    asserts[at] = asserted if placed and UNREAD_BASE not in tested else None
    if not placed:
        facts.derived.setdefault("fk_apart", set()).add(at)  # type: ignore[union-attr]
    return frozenset(tested) if placed else None


def _gathered(tree: ast.Module, line: int) -> tuple[list[ast.AST], list[ast.expr]] | None:
    """Where the statement at `line` adds conditions to a list (`conds.append(c)`, `.extend([...])`, `conds = [...]`,
    `conds += [...]`) that a filter of the same function and-s (`.where(*conds)`, `.where(and_(*conds))`): the
    statements that hold those filters, and the conditions and-ed with the ones added at `line` wherever the list is
    used: those the block that binds the list adds (not a branch inside it) and those added at `line`."""
    function = next((f for f in walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and f.lineno <= line <= (f.end_lineno or f.lineno)
                     and not any(isinstance(g, (ast.FunctionDef, ast.AsyncFunctionDef)) and g is not f
                                 and g.lineno <= line <= (g.end_lineno or g.lineno) for g in walk(f))), None)
    if function is None:
        return None
    here = next((s for s in walk(function) if isinstance(s, ast.stmt) and not isinstance(s, _COMPOUND)
                 and s.lineno <= line <= (s.end_lineno or s.lineno)), None)
    added = _added_to(here) if here is not None else None
    if added is None:
        return None
    name, conditions = added
    uses = [n for n in walk(function) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr in _FILTER_CALLS and any(_stars(a, name) for a in n.args)]
    if not uses:
        return None
    always: list[ast.expr] = []
    for block in (b for s in walk(function) for b in _blocks(s)):
        if any(isinstance(s, (ast.Assign, ast.AnnAssign)) and (a := _added_to(s)) is not None and a[0] == name for s in block):
            always += [c for s in block if (a := _added_to(s)) is not None and a[0] == name and s is not here for c in a[1]]
            break
    return [_statement_at(tree, u.lineno)[0][0] for u in uses if _statement_at(tree, u.lineno)[0]], [*always, *conditions]


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef, ast.Match)


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    return [v for f in ("body", "orelse", "finalbody") if isinstance(v := getattr(node, f, None), list)]


def _added_to(node: ast.AST) -> tuple[str, list[ast.expr]] | None:
    """(list, conditions) for `name.append(c)`, `name.extend([...])`, `name = [...]`, `name: T = [...]`, `name += [...]`."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(f := node.value.func, ast.Attribute) \
            and isinstance(f.value, ast.Name) and node.value.args:
        arg = node.value.args[0]
        if f.attr == "append":
            return f.value.id, [arg]
        if f.attr == "extend" and isinstance(arg, (ast.List, ast.Tuple)):
            return f.value.id, list(arg.elts)
        return None
    target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
    value = getattr(node, "value", None)
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and isinstance(target, ast.Name) \
            and isinstance(value, (ast.List, ast.Tuple)) and (not isinstance(node, ast.AugAssign) or isinstance(node.op, ast.Add)):
        return target.id, list(value.elts)
    return None


def _stars(node: ast.AST, name: str) -> bool:
    """`*name`, itself or as the argument of and_()."""
    if isinstance(node, ast.Starred):
        return isinstance(node.value, ast.Name) and node.value.id == name
    return isinstance(node, ast.Call) and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) == "and_" \
        and any(_stars(a, name) for a in node.args)


def _modules(facts: Facts) -> dict[str, ModuleFacts]:
    by_path = facts.derived.get("modules_by_path")
    if by_path is None:
        by_path = facts.derived["modules_by_path"] = {m.path: m for m in facts.modules}
    return by_path  # type: ignore[return-value]


def _tree(facts: Facts, path: str) -> ast.Module | None:
    trees: dict[str, ast.Module | None] = facts.derived.setdefault("fk_read_trees", {})  # type: ignore[assignment]
    if path not in trees:
        tree = source_tree(facts, path)
        module = _modules(facts).get(path)
        try:
            trees[path] = tree if module is None or tree is None else module_as_core(  # Core tables named as the usage facts name them
                tree, Names(tree, module.module, path.endswith("__init__.py")))
        except (SyntaxError, ValueError, RecursionError):
            trees[path] = None
    return trees[path]


# Among the columns a condition tests: its statement starts from one built elsewhere (`self.get_base_statement()`, a
# parameter), whose filters dbreview does not read: it may test more than shown.
UNREAD_BASE = "<a statement built elsewhere>"
GIVEN_BASE = "<a statement its function is given>"  # its caller builds it: what else it tests is not read here
_BUILDERS = frozenset(("select", "query", "delete", "update", "exists", "union", "union_all", "insert"))


def _statement_roots(parts: list[ast.AST]) -> list[ast.AST]:
    """What the filter calls of `parts` are called on, at the start of their chains."""
    return [_chain_root(node.func.value) for part in parts for node in walk(part)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FILTER_CALLS]


def _chain_root(root: ast.AST) -> ast.AST:
    """Where `a.b(...).c(...)` starts: a builder's call (select(), session.query()), `Model.query`, or what else."""
    while True:
        if isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute) and root.func.attr not in _BUILDERS:
            root = root.func.value
        elif isinstance(root, ast.Attribute) and root.attr != "query":
            root = root.value
        else:
            return root


def _built_elsewhere(root: ast.AST) -> bool:
    """A chain that starts from a call of the project's (not select(), query()...) or from a name: its filters are not
    read here (a name bound in the same function is followed by _narrowed_before, and its own root weighed)."""
    if isinstance(root, ast.Call):
        f = root.func
        return (f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else "") not in _BUILDERS
    return isinstance(root, ast.Name) and not root.id[:1].isupper()


def _narrowed_before(tree: ast.Module, line: int) -> list[ast.AST]:
    """Where the statement at `line` narrows a statement bound earlier (`stmt = stmt.where(...)`): the values that
    bound that name before it in its function, in the blocks that hold it (not in a branch beside it), whose
    filters always run before it."""
    node: ast.AST = tree
    before: list[ast.stmt] = []
    inside = False
    while True:
        body = [c for c in children(node) if isinstance(c, (ast.stmt, ast.excepthandler))]
        inner = next((c for c in body if c.lineno <= line <= (c.end_lineno or c.lineno)), None)
        if inner is None:
            break
        if inside:
            before += [c for c in body if isinstance(c, ast.stmt) and (c.end_lineno or c.lineno) < inner.lineno]
        inside = inside or isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef))
        node = inner
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
        return []
    name, root = node.targets[0].id, node.value
    while isinstance(root, (ast.Call, ast.Attribute)):
        root = root.func if isinstance(root, ast.Call) else root.value
    if not (isinstance(root, ast.Name) and root.id == name):
        return []
    return [b.value for b in before if isinstance(b, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                                            for t in b.targets)]


def _parameters_at(tree: ast.Module, line: int) -> set[str]:
    """The parameters of the innermost function holding `line`."""
    node: ast.AST = tree
    found: set[str] = set()
    while (inner := next((c for c in children(node) if isinstance(c, ast.stmt) and c.lineno <= line <= (c.end_lineno or c.lineno)),
                         None)) is not None:
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = {a.arg for a in (*inner.args.posonlyargs, *inner.args.args, *inner.args.kwonlyargs)}
        node = inner
    return found


def _statement_at(tree: ast.Module, line: int) -> tuple[list[ast.AST], str | None]:
    """What the innermost statement holding `line` tests (a compound statement's header, not its body), and the
    function it is in: down the statements whose lines hold it, not through the whole module."""
    node: ast.AST = tree
    best: ast.AST | None = None
    function: str | None = None
    while True:
        inner = next((c for c in children(node) if isinstance(c, (ast.stmt, ast.excepthandler))
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
    attribute of its class or of a variable named as the class (`Patient.visits`, `old_patient.visits`, `self.visits`
    in a method of the class), a loader option's string, a field of an API read model named after the class
    (`SearchFilterRead.individuals`, which serializing a response reads), or where the code deletes rows of its class (which loads the
    collection to update or delete its rows, unless `passive_deletes=`). It may read it where the name is read any other
    way: an attribute of another object, a string (getattr, a serializer's field list), a keyword argument, a
    field of a class (a pydantic or marshmallow schema), code that walks every relationship of a mapper, a
    delete of an object whose class dbreview cannot tell. A local variable of that name is not a read, nor is
    `self.name` in a method of a class that is not the model, a base of it or a subclass (its own attribute)."""

    def __init__(self, facts: Facts, classes: _Classes, names: set[str]) -> None:
        self.facts, self.classes = facts, classes
        self.lines = mentions(facts, (names - {""}) | {"relationships", "include_relationships", "delete", "DELETE"})
        self.declared = {(t.path, n) for t in facts.tables.values() for rel in t.relationships
                         for n in range(rel.span.start, rel.span.end + 1)}
        self.walked = next((span for word in ("relationships", "include_relationships") for span, line in self.lines[word]
                            if _WALKS.search(line.partition("#")[0])), None)

    def use(self, owner: TableFact, name: str, rel: RelationshipFact) -> tuple[str, Span | None, str]:
        """("read" | "deleted" | "maybe" | "unresolved" | "none", where, how) for `owner`'s relationship `name` (declared
        as `rel`, or its backref); "deleted": no code reads it, but a delete of a row of its class through the ORM loads
        it; "unresolved": only a delete of an object whose class dbreview cannot tell may load it."""
        lazy = (rel.lazy or "").strip("'\"")
        if rel.attr == name and lazy in _EAGER:  # loaded with every row of its class
            query = next((q.span for q, t in app_queries(self.facts) if t is owner), None)
            if query is not None:
                shown = lazy if lazy == "False" else f'"{lazy}"'
                return "read", query, (f"lazy={shown} loads it with every {owner.class_name} queried, as at "
                                       f"{query.path}:{query.start}")
        cls = (owner.class_name or "").lower()
        stems = {cls, cls.removesuffix("model")} - {""}
        maybe: tuple[Span, str] | None = None
        for span, line in self.lines.get(name, []):
            if (span.path, span.start) in self.declared:
                continue
            code = line.partition("#")[0]
            receivers = {r.lower().replace("_", "") for r in re.findall(rf"\b(\w+)\s*\.\s*{re.escape(name)}\b", code)}
            if any(r == cls or any(r.endswith(s) for s in stems) for r in receivers) or (
                    receivers & {"self", "cls"} and self._own_method(span, owner)):
                return "read", span, f"the code reads it at {span.path}:{span.start}"
            if (model := self._read_model(span, code, name, owner)) is not None:
                return "read", span, f"the read model {model} serializes it at {span.path}:{span.start}"
            if re.search(rf"""(?:{_LOADERS})\(\s*["'][\w.]*\b{re.escape(name)}\b""", code):
                owners = _string_loader_owners(self.facts, self.classes, span, name)
                if owner.class_name in owners:
                    return "read", span, f"the code reads it at {span.path}:{span.start}"
                if None in owners and maybe is None:  # on a query whose entity dbreview cannot tell: said, not guessed
                    maybe = span, f"{span.path}:{span.start} loads {name} by name, on a query whose entity dbreview cannot tell"
                continue
            if maybe is None and self._may_read(span, code, name) and not self._anothers_own(span, code, name, owner):
                schema = self._field_of(span, code, name)
                maybe = span, (f"{span.path}:{span.start} names {name}, on an object dbreview cannot tell" if schema is None
                               else f"{span.path}:{span.start} is a field {name} of {schema}, a schema dbreview cannot tie "
                                    f"to {owner.class_name}: whether serializing it reads {name}, it cannot tell")
        deleted = None if _passive(self.facts, rel) else orm_deletes(self.facts, self.classes, owner)
        if deleted is not None and deleted[1] == "sure":  # beside a name read where it may be it: a read dbreview cannot show
            if maybe is not None:
                return "maybe", maybe[0], f"{maybe[1]}; deleting a {owner.class_name} loads it: {deleted[2]}"
            return "deleted", deleted[0], f"deleting a {owner.class_name} loads it: {deleted[2]}"
        if deleted is not None and deleted[1] == "uncalled" and maybe is None and self.walked is None:
            return "uncalled", deleted[0], f"the only delete of a {owner.class_name} that would load it is {deleted[2]}"
        if maybe is not None:
            return "maybe", *maybe
        if self.walked is not None:
            return "maybe", self.walked, f"the code walks the mapper's relationships at {self.walked.path}:{self.walked.start}"
        if deleted is not None and deleted[1] == "unsure":
            return "unresolved", deleted[0], f"{deleted[2]}, of an object whose class dbreview cannot tell, may load it"
        return "none", None, ""

    def _may_read(self, span: Span, code: str, name: str) -> bool:
        n = re.escape(name)
        if re.match(r"\s*(?:from|import)\s", code):
            return False  # a module's name: `from app.policies import ...`
        bare = re.sub(r"""(?<!\w)(["'])[^"']*\1""", "''", code)  # a string's dots are no attribute (an f-string's are)
        if re.search(rf"\.\s*{n}\b", bare) or re.search(rf"""[(,]\s*{n}\s*=(?!=)\s*(?!["'\d]|None\b|True\b|False\b)""", code):
            return True  # an attribute, a keyword argument (not given a literal, which reads nothing)
        if name in string_literals(code) and not re.search(r"back_populates|backref|__tablename__|Table\(", code):
            return True  # getattr, a serializer's fields
        if re.match(rf"\s*{n}\s*(?::|=(?!=))", code):
            # a schema's field, not a local variable; one of a scalar type (`expenses: str`) holds no rows of it
            return self._in_class_body(span) and not _scalar_field(code)
        return False

    def _read_model(self, span: Span, code: str, name: str, owner: TableFact) -> str | None:
        """The API schema (pydantic, SQLModel or marshmallow, not itself mapped) whose field of the name `span` is, where
        its name ties it to `owner`'s class (`SearchFilterRead` of `SearchFilter`): serializing one reads the
        relationship. A schema whose name ties it to no model stays a name dbreview cannot tie."""
        mine, index, schema = owner.class_name or "", self.facts.derived.get("classes"), self._field_of(span, code, name)
        if not mine or index is None or schema is None or not re.fullmatch(rf"{re.escape(mine)}{_READ_SUFFIX}", schema):
            return None
        cls = next((c for c in index.all if c.name == schema and c.path == span.path), None)  # type: ignore[attr-defined]
        if cls is None:  # a module of schemas, which holds no model: its class's own bases, as written
            tree = _tree(self.facts, span.path)
            found = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.name == schema), None) if tree else None
            return schema if found is not None and any(_last_name(b) in _SCHEMA_BASES for b in found.bases) else None
        if index.is_mapped(cls):  # type: ignore[attr-defined]
            return None
        bases = [*cls.bases, *(b for a in index.ancestors(cls) for b in getattr(a, "bases", ()))]  # type: ignore[attr-defined]
        return cls.name if any(b.rpartition(".")[2] in _SCHEMA_BASES for b in bases) else None

    def _field_of(self, span: Span, code: str, name: str) -> str | None:
        """The class whose annotated field of the name (not of a scalar type) the line declares."""
        if not re.match(rf"\s*{re.escape(name)}\s*:", code) or _scalar_field(code):
            return None
        lines = self.facts.lines(Span(span.path, 1, span.start))
        indent = len(lines[-1]) - len(lines[-1].lstrip())
        header = next((t for t in reversed(lines[:-1]) if t.strip() and len(t) - len(t.lstrip()) < indent), "")
        found = re.match(r"\s*class\s+(\w+)", header)
        return found.group(1) if found else None

    def _own_method(self, span: Span, owner: TableFact) -> bool:
        """The line is in a method of `owner`'s class (in its module) or of a base class of it that dbreview resolves
        (a mixin's method runs on the model's rows): `self.visits` there is its relationship."""
        found = _enclosing_class(self.facts.lines(Span(span.path, 1, span.start)))
        if found is None:
            return False
        return self._meta_model(span, found[0]) == owner.class_name or _descends(self.facts, owner, found[0], span.path)

    def _meta_model(self, span: Span, name: str) -> str | None:
        """The model class `name` (the class around `span`) says it stands for in its `class Meta: model = X`: a
        graphene-sqlalchemy object type's or a marshmallow-sqlalchemy schema's, whose resolvers get rows of X as self."""
        tree = _tree(self.facts, span.path)
        cls = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.name == name
                    and n.lineno <= span.start <= (n.end_lineno or n.lineno)), None) if tree else None
        meta = next((n for n in cls.body if isinstance(n, ast.ClassDef) and n.name == "Meta"), None) if cls else None
        return next((_last_name(a.value) for a in meta.body if isinstance(a, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "model" for t in a.targets)), None) if meta else None

    def _anothers_own(self, span: Span, code: str, name: str, owner: TableFact) -> bool:
        """`self.steps` in a method of a class that is neither `owner`'s class, one of its bases (as far as dbreview
        reads them all), nor a subclass of it: that class's own attribute, not the relationship."""
        receivers = set(re.findall(rf"\b(\w+)\s*\.\s*{re.escape(name)}\b", code))
        if not receivers or not receivers <= {"self", "cls"}:
            return False
        found = _enclosing_class(self.facts.lines(Span(span.path, 1, span.start)))
        if found is None:
            return False
        cls, bases = found
        mine = owner.class_name or ""
        index = self.facts.derived.get("classes")
        if cls == mine or re.search(rf"\b{re.escape(mine)}\b", bases) or index is None:
            return False
        facts_of = {(c.name, c.path): c for c in index.all}  # type: ignore[attr-defined]
        model, there = facts_of.get((mine, owner.path)), facts_of.get((cls, span.path))
        if model is None or owner.unknown_bases:
            return False  # its bases not all known: `cls` may be one
        if there is not None and any(getattr(a, "name", "").rpartition(".")[2] == mine for a in index.ancestors(there)):  # type: ignore[attr-defined]
            return False  # a subclass of the model
        return all(getattr(a, "name", "").rpartition(".")[2] != cls for a in index.ancestors(model))  # type: ignore[attr-defined]

    def _in_class_body(self, span: Span) -> bool:
        lines = self.facts.lines(Span(span.path, 1, span.start))
        indent = len(lines[-1]) - len(lines[-1].lstrip())
        for text in reversed(lines[:-1]):
            if text.strip() and len(text) - len(text.lstrip()) < indent:
                return text.lstrip().startswith("class ")
        return False


def _class_at(ancestor: object, name: str, path: str) -> bool:
    """An ancestor (a class of the target, or a base resolved to a class in another module) is class `name` of `path`."""
    if isinstance(ancestor, ClassFact):
        return ancestor.name == name and ancestor.path == path
    module = getattr(ancestor, "module", None)
    return getattr(ancestor, "kind", "") == "class" and str(getattr(ancestor, "name", "")).rpartition(".")[2] == name \
        and getattr(module, "path", None) == path


def _enclosing_class(lines: list[str]) -> tuple[str, str] | None:
    """(name, bases as written) of the class whose method holds the last of `lines`; None outside a method."""
    indent = len(lines[-1]) - len(lines[-1].lstrip())
    in_method = False
    for text in reversed(lines[:-1]):
        stripped = text.lstrip()
        if not stripped or len(text) - len(stripped) >= indent:
            continue
        indent = len(text) - len(stripped)
        if not in_method:
            if not re.match(r"(async\s+)?def\s", stripped):
                continue  # an if, a for, a with: keep going up to the def
            in_method = True
        elif m := re.match(r"class\s+(\w+)\s*(\([^)]*\)?)?", stripped):
            return m.group(1), m.group(2) or ""
        elif not stripped.startswith("@"):
            return None  # a nested function's, or a module function's
    return None


# A read model's name after its model's (`SearchFilterRead`, `UserOut`, `OrderSchema`), and the bases that make a class
# an API schema, which serializes its fields from the ORM object's attributes.
_READ_SUFFIX = r"(?:Read|Out|Output|Response|Detail|Details|Public|View|Schema|Serializer)\w*"
_SCHEMA_BASES = frozenset(("BaseModel", "SQLModel", "Schema", "SQLAlchemySchema", "SQLAlchemyAutoSchema", "ModelSchema"))


# Types a field holds one plain value of: not a relationship's rows (a list, another schema) nor its object.
_SCALARS = frozenset(("str", "int", "float", "bool", "bytes", "Decimal", "datetime", "date", "time", "timedelta", "UUID",
                      "EmailStr", "AnyUrl", "HttpUrl", "SecretStr", "constr", "conint", "confloat", "condecimal"))


def _scalar_field(code: str) -> bool:
    """A class body's field annotated with scalar types only (`expenses: str`, `total: Optional[Decimal] = None`,
    `name: Annotated[str, Field(...)]`, `n: int | None`)."""
    try:
        node = ast.parse(code.strip()).body[0]
    except (SyntaxError, ValueError, IndexError, RecursionError):
        return False
    return isinstance(node, ast.AnnAssign) and _scalar(node.annotation)


def _scalar(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        return all(_scalar(n) or _is_none(n) for n in sides) and not all(_is_none(n) for n in sides)
    if isinstance(node, ast.Subscript) and _last_name(node.value) in ("Optional", "Annotated"):
        inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
        return _scalar(inner)
    if isinstance(node, ast.Call):
        node = node.func  # constr(max_length=3)
    return _last_name(node) in _SCALARS


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split(".")[-1]
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


# Code that walks every relationship of a mapper (a serializer's, a copier's): `inspect(obj).relationships`,
# `Model.__mapper__.relationships`, `mapper.relationships`, marshmallow-sqlalchemy's `include_relationships = True`;
# not a module called relationships (`from app.db.relationships import ...`) nor another object's attribute of the name.
_WALKS = re.compile(r"(?:(?:\binspect|(?:class|object)_mapper)\((?:[^()]|\([^()]*\))*\)|__mapper__|\w*mapper)\.relationships\b"
                    r"|include_relationships\s*=\s*True", re.I)


_STRING = re.compile(r"""(["'])((?:\\.|(?!\1).)*)\1""")


def string_literals(code: str) -> set[str]:
    """The contents of the one-line string literals of a line of code (`getattr(o, "tag")`: tag; not a word inside a
    longer string such as a help text)."""
    return {m.group(2) for m in _STRING.finditer(code)}


def _passive(facts: Facts, rel: RelationshipFact) -> bool:
    """A delete of the parent through the ORM does not load the relationship: it has passive_deletes= (the database's
    cascade does the work) or viewonly=True (the unit of work leaves it alone)."""
    return re.search(r"passive_deletes|viewonly\s*=\s*True", " ".join(facts.lines(rel.span))) is not None


_EAGER = frozenset(("selectin", "joined", "subquery", "immediate", "False"))  # lazy= values that load on every query
_LOADERS = "selectinload|joinedload|subqueryload|immediateload|contains_eager|defaultload|lazyload|raiseload|noload|load_only"
_LOADER_NAMES = frozenset(_LOADERS.split("|"))


def _string_loader_owners(facts: Facts, classes: _Classes, span: Span, name: str) -> set[str | None]:
    """The classes whose relationship `name` the loader options at `span` load by its name (`joinedload("visits")`):
    a path starts at its query's entity (`Patient.query.options(...)`, `select(Patient)`, `Load(Patient)`) or at
    an attribute (`joinedload(Patient.visits).joinedload("notes")`) and goes through each relationship's target.
    None among them: an option whose entity dbreview cannot tell (built apart from its query, a path through a
    relationship it cannot resolve)."""
    tree = _tree(facts, span.path)
    if tree is None:
        return {None}
    owners: set[str | None] = set()
    entities: dict[int, str | None] = {}  # id(loader call at the head of an option) -> its query's entity
    for node in walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "options":
            entity = _query_entity(node.func.value)
            for arg in node.args:
                entities[id(_option_head(arg))] = entity
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and node.lineno <= span.start <= (node.end_lineno or node.lineno)
                and _loader_name(node) in _LOADER_NAMES and any(name in _path_names(a) for a in node.args)):
            continue
        steps = _option_steps(node)
        head = steps[0][0]
        entity = entities.get(id(head))
        if isinstance(head.func, ast.Attribute) and isinstance(head.func.value, ast.Call) and _loader_name(head.func.value) == "Load":
            entity = _model_class(head.func.value.args[0]) if head.func.value.args else None  # Load(Patient).joinedload(...)
        for call, args in steps:
            for arg in args:
                if isinstance(arg, ast.Attribute) and _model_class(arg.value):
                    entity = _target_class(classes, _model_class(arg.value), arg.attr)
                    continue
                for part in _path_names(arg):
                    if part == name and call is node:
                        owners.add(entity)
                    entity = _target_class(classes, entity, part)
    return owners or {None}


def _loader_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _option_head(node: ast.AST) -> ast.AST:
    """The first loader call of an option chain (`joinedload("a").joinedload("b")` -> `joinedload("a")`)."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) \
            and _loader_name(node.func.value) in _LOADER_NAMES:
        node = node.func.value
    return node


def _option_steps(call: ast.Call) -> list[tuple[ast.Call, list[ast.expr]]]:
    """The loader calls of the chain that ends at `call`, first to last, each with its arguments."""
    steps = [(call, list(call.args))]
    node = call
    while isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) \
            and _loader_name(node.func.value) in _LOADER_NAMES:
        node = node.func.value
        steps.insert(0, (node, list(node.args)))
    return steps


def _path_names(arg: ast.AST) -> list[str]:
    """The relationship names a loader's string argument holds (`"a.b"`: a, then b); none for anything else."""
    return arg.value.split(".") if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else []


def _model_class(node: ast.AST) -> str | None:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name if name[:1].isupper() and not name.isupper() else None


def _query_entity(node: ast.AST) -> str | None:
    """The model a query chain starts from: `Patient.query...`, `session.query(Patient)...`, `select(Patient)...`."""
    for _ in range(60):
        if isinstance(node, ast.Call):
            if _loader_name(node) in ("query", "select") and node.args:
                return _model_class(node.args[0])
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr == "query" and _model_class(node.value):
                return _model_class(node.value)
            node = node.value
        else:
            return None
    return None


def _target_class(classes: _Classes, cls: str | None, attr: str) -> str | None:
    """The class a relationship `attr` of `cls` leads to: declared on it, or a backref another class gives it."""
    table = classes.tables.get(cls or "")
    if table is None:
        return None
    rel = next((r for r in table.relationships if r.attr == attr), None)
    if rel is not None:
        target = classes.table(rel.target)
        return target.class_name if target is not None else None
    for other in classes.by_name.values():
        for r in other.relationships:
            if r.backref and r.back_populates == attr and classes.table(r.target) is table:
                return other.class_name
    return None


def unresolved_delete(facts: Facts, table: TableFact) -> str | None:
    """The only delete dbreview found that may remove a row of `table`, where it is `session.delete()` of an object whose
    class it cannot tell (in the finding's words); None where it found a delete it can tell, or none at all."""
    found = orm_deletes(facts, _Classes(facts), table)
    if found is None or found[1] != "unsure" or not found[2].startswith("session.delete at "):
        return None
    return found[2] if deletes(facts, table, sure=True) is None else None


def orm_deletes(facts: Facts, classes: _Classes, table: TableFact, seen: frozenset[str] = frozenset()
                ) -> tuple[Span, str, str] | None:
    """Where the application may delete a row of `table` through the ORM, how sure dbreview is, and how, in the
    finding's words: `session.delete()` of an object of its class (of `self` in its class, or through a base
    class's helper called on one), the delete cascade of a relationship from a class it surely deletes ("sure");
    of an object whose class dbreview cannot tell, or whose name fits several classes ("unsure"); only in module
    functions that nothing in the application's code calls, as far as INT010's call facts tell ("uncalled")."""
    cache: dict[str, tuple[Span, str, str] | None] = facts.derived.setdefault("orm_deletes", {})  # type: ignore[assignment]
    if table.name not in cache:
        if table.name in seen:
            return None  # a cycle of cascades
        cache[table.name] = _orm_deletes(facts, classes, table, seen | {table.name})
    return cache[table.name]


_SESSION_DELETE = re.compile(r"\b(?:\w*session|_?db|database)\.delete\(\s*([A-Za-z_]\w*(?:\.\w+)?)\s*\)")


def _orm_deletes(facts: Facts, classes: _Classes, table: TableFact, seen: frozenset[str]) -> tuple[Span, str, str] | None:
    cls = table.class_name or table.name
    known = [t.class_name for t in facts.tables.values() if t.class_name]
    unsure: tuple[Span, str, str] | None = None
    dead: tuple[Span, str, str] | None = None  # a sure delete in code nothing calls
    # `session.query(X).filter(...).delete()` holds no object: a bulk delete, read with the queries (Usage.writes)
    calls = [c for c in facts.calls if c.name == "session.delete" and c.target]
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
        elif re.fullmatch(r"\w+(?:\.\w+)+", hint):  # `session.delete(task.grading_config)`: what the relationship loads
            model = _loaded_by(classes, hint.rpartition(".")[2])
        named = named_models(hint, known) if model is None else [model]  # `user_role` a UserRole, where one exists
        where = f"session.delete at {span.path}:{span.start}"
        sure = [(span, where)] if named == [cls] else []
        if not named and hint == "self":  # a base class's or mixin's helper: where its callers name the class
            sure = [(call, f"{said}, which deletes it through {where}") for call, said in _helper_calls(facts, classes, span, cls)]
        for site, said in sure:
            function = uncalled_function(facts, site)
            if function is None:
                return site, "sure", said
            dead = dead or (site, "uncalled", f"{said}, in {function}(), {NO_CALL}")
        if unsure is None and not sure and (not named or cls in named):
            unsure = span, "unsure", where
    for other in facts.tables.values():
        for rel in other.relationships:
            if rel.cascade and re.search(r"\b(all|delete)\b", rel.cascade) and classes.table(rel.target) is table:
                parent = orm_deletes(facts, classes, other, seen)
                where = f"the delete cascade of {other.class_name}.{rel.attr} ({rel.span.path}:{rel.span.start})"
                if parent is not None and parent[1] == "sure":
                    return rel.span, "sure", where
                if parent is not None and parent[1] == "unsure" and unsure is None:
                    unsure = rel.span, "unsure", where
                if parent is not None and parent[1] == "uncalled" and dead is None:
                    dead = rel.span, "uncalled", parent[2]  # the delete it cascades from is the one nothing calls
    return unsure or dead


def _loaded_by(classes: _Classes, attr: str) -> str | None:
    """The class every relationship named `attr` loads one object of (a many-to-one, a scalar one-to-one), where one
    class is all they load; None otherwise."""
    loaded: set[str | None] = set()
    for rel in (r for t in classes.by_name.values() for r in t.relationships if r.attr == attr):
        target = classes.table(rel.target) if rel.uselist is not True else None
        loaded.add(target.class_name if target is not None else None)
    return next(iter(loaded)) if len(loaded) == 1 else None


NO_CALL = "which dbreview found no call of in the application's code outside tests"


def uncalled_function(facts: Facts, span: Span, *, methods: bool = True) -> str | None:
    """The module-level function `span` is in, where nothing in the application's code calls it (INT010's call
    facts: by name, in the modules that may import it, erring towards "called"); None otherwise. Without `methods`,
    a call `obj.name(...)` elsewhere, or one by the bare name in a module that cannot name this function (it imports
    no such name from here), is not taken for one of it: a call through its module is among the mentions INT010's
    facts weigh, and neither `session.delete(x)` nor another service's `delete()` is a call of this `delete()`."""
    module = _modules(facts).get(span.path)
    if module is None or module.revision is not None:
        return None  # a migration's upgrade() runs when Alembic does
    first, lines = function_around(facts, span)
    m = re.match(r"(?:async\s+)?def\s+(\w+)", lines[0])  # at column 0: a module's function
    if m is None:
        return None  # a method, a nested function, module level: not weighed
    cache: dict[tuple[str, int, bool], str | None] = facts.derived.setdefault("fk_uncalled", {})  # type: ignore[assignment]
    if (span.path, first, methods) not in cache:
        name = m.group(1)
        callers = _uncalled(facts, SimpleNamespace(span=span, function=name)) if methods else _unreached(facts, module, name)
        if callers is not None:  # and no call of its name elsewhere but from those callers (a route of the same name)
            call = re.compile(rf"{'' if methods else '(?<![.])'}\b{re.escape(name)}\s*\(")
            for site, text in mentions(facts, {name})[name]:
                code = text.partition("#")[0]
                if not methods and (other := _modules(facts).get(site.path)) is not None and not _may_name(other, module.module, name):
                    continue
                if site.path != span.path and call.search(code) and not re.match(rf"\s*(?:async\s+)?def\s+{name}\b", code):
                    caller = re.match(r"\s*(?:async\s+)?def\s+(\w+)", function_around(facts, site)[1][0])
                    if caller is None or caller.group(1) not in callers:
                        callers = None
                        break
        cache[(span.path, first, methods)] = name if callers is not None else None
    return cache[(span.path, first, methods)]


_IMPORT_LINE = re.compile(r"\s*(?:from\s+[\w.]+\s+)?import\b")


def _unreached(facts: Facts, module: ModuleFacts, name: str) -> tuple[str, ...] | None:
    """As INT010's `_uncalled`, but a mention counts only as the module that may name the function writes it: by the
    name it imports it as, or through the name it binds the function's module to (`incident_type_service.delete`);
    `db_session.delete(...)` in a module that imports the service is no call of the service's `delete()`. The
    functions the mentions are in, where none is reached from what runs (a route, a task, module level); else None."""
    if module.top_functions.get(name) is not False:
        return None
    if any(name in words and _may_name(m, module.module, name) for m, words in _unparsed(facts)):
        return None
    reached, callers = _reached(facts), set()
    for m in facts.modules:
        if is_test_path(m.path) or m.revision is not None or name not in m.mentions or not _may_name(m, module.module, name):
            continue
        written = _names_for(facts, m, module, name)
        if written is None:
            return None  # imported in a way not read here
        if not written:
            continue  # it names another function of that name
        pattern = re.compile(rf"(?<![\w.])(?:{'|'.join(written)})\b")
        for site, line in mentions(facts, {name})[name]:
            if site.path != m.path or not pattern.search(line.partition("#")[0]) or _IMPORT_LINE.match(line):
                continue  # an import binds the name, it calls nothing
            head = re.match(r"\s*(?:async\s+)?def\s+(\w+)", function_around(facts, site)[1][0])
            if head is not None and head.group(1) == name and m is module:
                continue  # its own definition
            if head is None or head.group(1) in reached:
                return None  # module level, a class body, or a function that runs
            callers.add(head.group(1))
    return tuple(sorted(callers))


def _names_for(facts: Facts, m: ModuleFacts, module: ModuleFacts, name: str) -> list[str] | None:
    """How module `m` writes the function `name` of `module`, as patterns: `name` in its own module, its alias where it
    is imported by name, `svc.name` through the module imported as `svc` (or by its dotted path). None: m's source does
    not parse."""
    if m is module:
        return [re.escape(name)]
    tree = source_tree(facts, m.path)
    if tree is None:
        return None
    written: list[str] = []
    package = m.path.endswith("__init__.py")
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = absolute(m.module, package, node)
            for a in node.names:
                if a.name in ("*", name) and _is_tail(module.module, source):
                    written.append(re.escape(a.asname or name))
                elif _is_tail(module.module, f"{source}.{a.name}"):
                    written.append(rf"{re.escape(a.asname or a.name)}\s*\.\s*{re.escape(name)}")
        elif isinstance(node, ast.Import):
            written += [rf"{re.escape(a.asname or a.name)}\s*\.\s*{re.escape(name)}" for a in node.names
                        if _is_tail(module.module, a.name)]
    return written


_DEF = re.compile(r"\s*(?:async\s+)?def\s+(\w+)\s*\(\s*self\s*(?:,([^)]*))?\)")
_SESSIONISH = re.compile(r"^\s*(?:\w+\.)*(?:\w*session\w*|\w*_?db|database|conn|connection)\s*$", re.I)


def _helper_calls(facts: Facts, classes: _Classes, delete: Span, cls: str) -> list[tuple[Span, str]]:
    """The calls of the method of a base class or mixin that always deletes `self` at `delete` (`def delete(self,
    db): db.delete(self)`, not under an `if`) on an object whose class the code shows is `cls` (`_receiver_classes`),
    with the session it asks for (a name or attribute that says it is one) or, if it asks for none, nothing:
    another object's method of the same name (`cache.delete(key)`) passes something else."""
    first, lines = function_around(facts, delete)
    m = _DEF.match(lines[0]) if first != delete.start else None
    body = next((ln for ln in lines[1:] if ln.strip() and not ln.strip().startswith(("#", '"', "'"))), "")
    line = lines[delete.start - first] if m else ""
    if m is None or len(line) - len(line.lstrip()) != len(body) - len(body.lstrip()):
        return []  # no method of self, or a delete only some calls make (`if delete_from_db:`)
    params = [p.split(":")[0].split("=")[0].strip() for p in (m.group(2) or "").split(",") if p.strip()]
    params = [p for p in params if p and not p.startswith("*")]
    receiver = re.search(r"([\w.]+)\.delete\(\s*self\s*\)", line)
    session = receiver.group(1).split(".")[0] if receiver else None
    at = params.index(session) if session in params else None
    call = re.compile(rf"([\w.]+)\.{re.escape(m.group(1))}\(([^()]*)\)")
    out: list[tuple[Span, str]] = []
    for span, text in mentions(facts, {m.group(1)})[m.group(1)]:
        for c in call.finditer(text.partition("#")[0]):
            args = [a.strip() for a in c.group(2).split(",") if a.strip()]
            if at is None:  # the helper finds its session itself (db.session): its callers pass nothing
                if args:
                    continue
            elif not any(_SESSIONISH.match(a.split("=")[-1]) and (i == at or a.startswith(f"{session}="))
                         for i, a in enumerate(args)):
                continue
            if _receiver_classes(facts, classes, span, c.group(1)) == {cls}:
                out.append((span, f"{c.group(0)} at {span.path}:{span.start}"))
    table = classes.tables.get(cls)
    if out and table is not None and _defines(facts, table, m.group(1)):
        return []  # the class has a method of that name of its own (a soft delete): its calls do not reach the helper
    return out


def _defines(facts: Facts, table: TableFact, method: str) -> bool:
    """Does the mapped class's own body define `method`, one that does not hand on to its base's (`super().delete()`)?"""
    body = facts.lines(table.span)
    indent = next((len(ln) - len(ln.lstrip()) for ln in body[1:] if ln.strip()), 4)
    start = next((i for i, ln in enumerate(body) if re.match(rf"\s{{{indent}}}(?:async\s+)?def\s+{re.escape(method)}\b", ln)), None)
    if start is None:
        return False
    end = next((i for i in range(start + 1, len(body)) if body[i].strip() and len(body[i]) - len(body[i].lstrip()) <= indent),
               len(body))
    return not any(f".{method}(" in ln and "super(" in ln for ln in body[start + 1:end])


def _receiver_classes(facts: Facts, classes: _Classes, span: Span, receiver: str) -> set[str]:
    """The mapped classes the code shows `receiver` holds at `span`: a relationship's (`user.client`: the target
    of every relationship named `client`), or the classes named where the function binds the name (`for group in
    Group.get_all(...)`, `client: ClientDetail`); none where nothing shows it (a helper's return, a parameter)."""
    known = set(classes.tables)
    name, _, attr = receiver.rpartition(".")
    if name:
        if name in ("self", "cls"):
            return set()
        out = {target.class_name for table in classes.by_name.values() for r in table.relationships
               if r.attr == attr and (target := classes.table(r.target)) is not None}
        out |= {table.class_name for table in classes.by_name.values() for r in table.relationships
                if r.backref and r.back_populates == attr}
        return {c for c in out if c}
    first, lines = function_around(facts, span)
    n = re.escape(attr)
    binds = re.compile(rf"^\s*{n}\s*(?::[^=]+)?=(?!=)(.*)|\bfor\s+{n}\s+in\b(.*)|[(,]\s*{n}\s*:\s*([^,=)]+)")
    found: set[str] = set()
    shallowest = None  # a binding less indented than every earlier one replaces them (not one in a branch beside them)
    for at, text in enumerate(lines[: span.start - first + 1], first):
        for b in binds.finditer(text.partition("#")[0]):
            bound = "".join(g or "" for g in b.groups())
            named = set(re.findall(r"\b[A-Z]\w*", bound)) & known
            if re.search(r"\bcls\.", bound) and (own := classes.enclosing(span.path, at)) is not None:
                named.add(own)  # `existing = cls.by_entity_id(...)` in a class method
            indent = len(text) - len(text.lstrip())
            found = named if shallowest is None or indent < shallowest else found | named
            shallowest = indent if shallowest is None else min(shallowest, indent)
    return found


def deletes(facts: Facts, table: TableFact, sure: bool = False) -> Span | None:
    """Where the application may delete rows of `table`: through the ORM, a bulk delete of its class (`delete(X)`,
    `X.query...delete()`), SQL naming it, or a database cascade from a parent it may delete. None: nowhere.
    `sure`: not a delete through the ORM of an object whose class dbreview cannot tell."""
    return _deletes(facts, _Classes(facts), table, set(), sure)


def _deletes(facts: Facts, classes: _Classes, table: TableFact, seen: set[str], sure: bool = False) -> Span | None:
    seen.add(table.name)
    found = orm_deletes(facts, classes, table)
    if found is not None and not (sure and found[1] == "unsure"):
        return found[0]
    cls = re.escape(table.class_name or table.name)
    bulk = re.compile(rf"\bdelete\(\s*(?:\w+\.)*{cls}\b|\b{cls}\.(?:__table__\.delete|query\b.*\.delete\()"
                      rf"|query\(\s*(?:\w+\.)*{cls}\b.*\.delete\(|DELETE\s+FROM\s+[\w.]*\"?{re.escape(table.name)}\b", re.I)
    for word, lines in mentions(facts, {"delete", "DELETE"}).items():
        for span, line in lines:
            if line.rstrip().endswith("delete("):  # `worker.delete(\n    User, select(...))`: the class on the next line
                line += "".join(facts.lines(Span(span.path, span.start + 1, span.start + 1))).strip()
            if bulk.search(line):
                return span
    for name, at in _deleting_helpers(facts):  # `self._destroy(models.Goal, goal_id)`
        call = re.compile(rf"\b{re.escape(name)}\(\s*(?:[^(),]+,\s*){{{at}}}(?:\w+\.)*{cls}\s*[,)]")
        for span, line in mentions(facts, {name})[name]:
            if not is_test_path(span.path) and call.search(line.partition("#")[0]):
                return span
    for usage in app_usage(facts):
        for q in usage.queries:
            if q.model == table.class_name and "delete" in q.methods:
                return q.span
    for col in table.columns.values():
        for fk in col.foreign_keys:
            parent = classes.by_name.get(fk.table) or classes.table(fk.table)
            if (fk.ondelete or "").upper() == "CASCADE" and parent is not None and parent.name not in seen:
                via = _deletes(facts, classes, parent, seen, sure)
                if via is not None:
                    return via
    return None


def _deleting_helpers(facts: Facts) -> list[tuple[str, int]]:
    """The application's functions that delete rows of the class handed to them (`def _destroy(model, id_)` that runs
    `session.query(model)...delete()`): (name, the place of that argument in a call, `self` not counted)."""
    found: list[tuple[str, int]] | None = facts.derived.get("deleting_helpers")  # type: ignore[assignment]
    if found is None:
        found = []
        for span, line in mentions(facts, {"delete"})["delete"]:
            if is_test_path(span.path) or is_tooling_path(span.path) or not re.search(r"\.delete\(", line.partition("#")[0]):
                continue
            body = "\n".join(function_around(facts, span)[1])
            head = re.match(r"\s*(?:async\s+)?def\s+(\w+)\s*\(([^)]*)\)", body)
            if head is None:
                continue
            params = [p.split(":")[0].split("=")[0].strip().lstrip("*") for p in head[2].split(",")]
            params = [p for p in params if p][1 if params[:1] in (["self"], ["cls"]) else 0:]
            for at, param in enumerate(params):
                if re.search(rf"\b(?:query|select|delete)\(\s*{re.escape(param)}\s*[,)]|\b{re.escape(param)}\.query\b", body) \
                        and (head[1], at) not in found:
                    found.append((head[1], at))
        facts.derived["deleting_helpers"] = found
    return found


class _Classes:
    """Mapped classes by name, where the name is one table's."""

    def __init__(self, facts: Facts) -> None:
        by_class = mapped_names(facts)
        self.tables = {name: ts[0] for name, ts in by_class.items() if len(ts) == 1}
        self.shared = {name: ts for name, ts in by_class.items() if len(ts) > 1}  # told apart query by query: seen_by
        self.views: dict[tuple[str, str], _Classes] = {}
        # Single-table inheritance: a subclass's columns are its parent's table's (declared in the subclass,
        # which is no mixin of the table); `DisputeCase.dispute_id` names support_cases.dispute_id.
        subclasses: dict[str, dict[int, TableFact]] = {}
        for t in facts.tables.values():
            for c in t.columns.values():
                if c.declared_in and c.declared_in != t.class_name and c.declared_in not in t.mixins:
                    subclasses.setdefault(c.declared_in, {})[id(t)] = t
        for name, held in subclasses.items():
            if len(held) == 1 and name not in by_class:
                self.tables[name] = next(iter(held.values()))
        # and those that declare none (`class Question(Component)`, a relationship's target), as the class index has them
        self.tables.update({name: t for name, t in subclass_tables(facts, self.tables).items() if name not in self.tables})
        # A model imported under another name (`from app.models import Preference as PrefTable`): the name stands
        # for its table wherever no mapped class has it and every import of it names the same model.
        aliases: dict[str, set[str]] = {}
        for usage in app_usage(facts):
            for q in [*usage.queries, *usage.writes]:
                real = q.model_ref.rpartition(".")[2]
                if real != q.model and real in self.tables and q.model.isidentifier() and q.model[0].isupper() \
                        and q.model not in by_class:
                    aliases.setdefault(q.model, set()).add(real)
        self.tables.update({alias: self.tables[real.pop()] for alias, real in aliases.items() if len(real) == 1})
        self.by_name = facts.tables
        self.facts = facts
        self.variables: dict[str, TableFact] | None = None  # a Table(...)'s variable -> the table, built when asked

    def seen_by(self, q: QueryUse) -> _Classes:
        """The classes as the query names them: its own model's name, shared by models of two modules
        (`models_cdr.Checkout`, `models_checkout.Checkout`), stands for the one its import leads to."""
        mine = query_table(q, self.shared.get(q.model, []))
        if mine is None:
            return self
        if (q.model, mine.name) not in self.views:  # one view a class and table: not a copy of every name a query
            view = copy.copy(self)
            view.tables = {**self.tables, q.model: mine}
            self.views[(q.model, mine.name)] = view
        return self.views[(q.model, mine.name)]

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
            if rel is None:  # the backref another class's relationship gives it (`User.sketches`, backref="user")
                rel, target = next(((r, other) for other in self.by_name.values() for r in other.relationships
                                    if r.backref and r.back_populates == attr and not r.secondary
                                    and self.table(r.target) is table), (None, None))
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

    def terms_of(self, table: TableFact, terms: set[tuple[str, str]], model: str | None = None) -> frozenset[str] | None:
        """Terms ("Class.attr", test) as terms of the columns of `table` ("deleted_at IS NULL"); None where one names
        an attribute of its class that is no column (a hybrid property such as `~Review.is_deleted`), which may
        stand for any condition on its columns."""
        out: set[str] = set()
        for ref, test in terms:
            cls, _, attr = ref.rpartition(".")
            if self.tables.get(cls or model or "") is not table:
                continue
            found = self.columns_of(table, {ref}, model)
            if not found:
                return None
            out |= {f"{c} {test}" for c in found}
        return frozenset(out)

    def asserted(self, q: QueryUse, table: TableFact) -> frozenset[str] | None:
        """What the query's filters assert of the columns of `table`; None if it has a filter dbreview cannot read."""
        return None if q.unread_test else self.terms_of(table, set(q.asserted), q.model)

    def join_asserted(self, rel: RelationshipFact, child: TableFact) -> frozenset[str] | None:
        """What a relationship's primaryjoin asserts of the columns of the table it loads (`and_(Review.org_id ==
        Org.id, Review.deleted_at.is_(None))`: deleted_at IS NULL); nothing where it has none; None where it cannot
        be read."""
        if not rel.join:
            return frozenset()
        try:
            tree = ast.parse(rel.join.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError):
            return None
        return self.terms_of(child, asserted_terms(tree, _class_attribute))

    def tested(self, q: QueryUse, table: TableFact) -> frozenset[str] | None:
        """The columns of `table` the query compares with a value (and-ed), itself or through its joins' equalities
        (`Entity.id == x` through a join on link.entity_id == entity.id tests link.entity_id); None if it has a filter
        dbreview cannot read. A column a join only ties to another table's is not tested: which side the plan looks up
        first, dbreview cannot tell."""
        return None if q.unread_test else self.joins(q).tested(table)

    def joins(self, q: QueryUse) -> _Joins:
        cache: dict[tuple[int, bool], _Joins] = self.facts.derived.setdefault("fk_joins", {})  # type: ignore[assignment]
        key = (id(q), q.model in self.tables)  # a query of a shared class name: as seen_by tells it, or not at all
        if key not in cache:
            cache[key] = _Joins(self, q.valued, q.equated, q.join_into, q.model)
        return cache[key]

    def compared(self, q: QueryUse, table: TableFact) -> frozenset[str] | None:
        """The columns of `table` the query's filters compare with `==` (or filter_by): Read.values."""
        return None if q.unread_test else frozenset(self.columns_of(table, set(q.equals), q.model))

    def unknown(self, q: QueryUse, table: TableFact) -> frozenset[str]:
        """The attributes of `table`'s class the query compares with a value that are neither a column nor a relationship
        dbreview found (Read.unknown)."""
        out = set()
        for ref in q.valued:
            cls, _, attr = ref.rpartition(".")
            if self.tables.get(cls.rpartition(".")[2] or q.model) is table and attr not in table.columns \
                    and all((c.attr or c.name) != attr for c in table.columns.values()) \
                    and all(r.attr != attr for r in table.relationships) and self.column(table.class_name or "", attr) is None:
                out.add(attr)
        return frozenset(out)

    def enclosing(self, path: str, line: int) -> str | None:
        """The mapped class whose body holds `path:line` (what `cls.` names in its class methods)."""
        return next((t.class_name for t in self.tables.values()
                     if t.path == path and t.span.start <= line <= t.span.end and t.class_name), None)

    def core(self, variable: str) -> TableFact | None:
        """The Core table a variable is assigned (`groups_users = Table("groups_users", ...)`), or named as its table."""
        if (mapped := self.tables.get(variable)) is not None and mapped.class_name:
            return None  # a mapped class's name
        self.link(variable)  # builds the variables
        return self.variables.get(variable) or self.by_name.get(variable)  # type: ignore[union-attr]

    def link(self, ref: str) -> TableFact | None:
        """The association table a `secondary=` names: by table name, or the variable a `Table(...)` is assigned to
        (`team_members = Table("team_member", ...)`), or a variable named as its table."""
        name = ref.strip("'\" ").removesuffix(".__table__").split(".")[-1]
        if self.variables is None:
            self.variables = {}
            for t in self.by_name.values():
                if (variable := table_variable(self.facts, t)) is not None:
                    self.variables.setdefault(variable, t)
        return self.by_name.get(name) or self.variables.get(name) or self.table(name)


class _Joins:
    """What one statement's filters and joins make equal: each column compared with a value, and each pair of columns
    a condition or a relationship join ties together (`.join(Case.signals)`: signal.case_id = case.id); a column equal
    to one compared with a value is compared with it too (PostgreSQL finds that equality as well)."""

    def __init__(self, classes: _Classes, valued, equated, join_into, model: str | None) -> None:
        self.classes = classes
        self.parent: dict[tuple[str, str], tuple[str, str]] = {}
        # (table, key, through what, what the relationship's primaryjoin asserts of the table) the joins look up by
        self.into: list[tuple[TableFact, ColumnFact, str, frozenset[str] | None]] = []
        for a, b in equated:
            ca, cb = _any_column(classes, a, model), _any_column(classes, b, model)
            if ca is not None and cb is not None and ca[0] != cb[0]:
                self._union(ca, cb)
        for target, ref in join_into:
            if target:  # .join(Target, Target.key == Other.id): Target looked up by its key
                found = classes.column(*ref.split(".", 1))
                if found is not None and found[0] is classes.tables.get(target) and any(ref in pair for pair in equated):
                    self.into.append((found[0], found[1], "", frozenset()))
            else:
                for pair, into, rel in _relationship_join(classes, ref):
                    self._union(*pair)
                    if into is not None:
                        self.into.append((*into, f" ({ref})", classes.join_asserted(rel, into[0])))
        self.direct = {c for ref in valued if (c := _any_column(classes, ref, model)) is not None}
        roots = {self._find(c) for c in self.direct}
        self.valued = self.direct | {c for c in self.parent if self._find(c) in roots}
        self.narrowed = {t for t, _ in self.valued}

    def _find(self, c: tuple[str, str]) -> tuple[str, str]:
        while self.parent.get(c, c) != c:
            c = self.parent[c]
        return c

    def _union(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        self.parent.setdefault(a, a)
        self.parent.setdefault(b, b)
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def tested(self, table: TableFact) -> frozenset[str]:
        return frozenset(c for t, c in self.valued if t == table.name)

    def pinned(self, table: TableFact) -> frozenset[tuple[str, str]]:
        """(column, other table) for each of its columns a join makes equal to another table's (see Read.pinned)."""
        return frozenset((c, o[0]) for t, c in self.parent if t == table.name
                         for o in self.parent if o[0] != t and self._find(o) == self._find((t, c)))

    def joined_by(self, table: TableFact) -> frozenset[str]:
        """Its columns tied only to another table's that the statement narrows by a value, or reaches by joins from
        one it narrows (see Read.joined_by)."""
        mine = [c for c in self.parent if c[0] == table.name and c not in self.valued]
        reached = self._reached(table.name)
        return frozenset(c for t, c in mine if any(o[0] != t and o[0] in reached and self._find(o) == self._find((t, c))
                                                  for o in self.parent))

    def _reached(self, avoid: str) -> set[str]:
        """The tables the statement narrows by a value, and those a chain of joins reaches from them without going
        through `avoid` (User by name, then its memberships by user_id, then their groups by id): a plan may find
        each one's rows from the one before."""
        reached = self.narrowed - {avoid}
        while grown := {t for t, _ in self.parent if t not in reached and t != avoid and any(
                o[0] in reached and o[0] != t and self._find(o) == self._find(c) for c in self.parent if c[0] == t
                for o in self.parent)}:
            reached |= grown
        return reached

    def tied(self) -> list[tuple[TableFact, ColumnFact, str]]:
        """Foreign keys of a table the statement does not narrow by a value, which its joins tie only to the column of
        another table it narrows by another column (`select(User).join(Group, Group.id == User.group_id).where(
        Group.banned)`): (table, key, that other table). A plan that finds the other table's rows first looks the table
        up by the key; whether it does, dbreview cannot tell."""
        out = []
        for name, col in sorted(self.parent):
            table = self.classes.by_name.get(name)
            column = table.columns.get(col) if table is not None else None
            if column is None or name in self.narrowed or not _keys(table, column):
                continue
            other = sorted(o[0] for o in self.parent if o[0] != name and o[0] in self.narrowed and self._find(o) == self._find((name, col)))
            if other:
                out.append((table, column, other[0]))
        return out

    def reads(self, where: str, what: str) -> list[tuple[TableFact, ColumnFact, str, frozenset[str] | None]]:
        """The reads of tables by a foreign key the statement makes beyond its filters: a join into a table through its
        key (the table joined to, not the one joined from, whose rows come first), and a key equal to a column compared
        with a value through the joins."""
        out = [(t, c, f"the {what} at {where} joins {t.name} through it{how}", terms) for t, c, how, terms in self.into]
        for name, col in sorted(self.valued - self.direct):  # one compared with a value itself is a lookup, read as such
            table = self.classes.by_name.get(name)
            column = table.columns.get(col) if table is not None else None
            if column is None or not _keys(table, column):
                continue
            source = sorted(f"{t}.{c}" for t, c in self.direct if self._find((t, c)) == self._find((name, col)))
            out.append((table, column, f"the {what} at {where} finds {name} rows by it: its joins make it equal to "
                                       f"{source[0] if source else 'a column'}, which it compares with a value", frozenset()))
        return out


def _any_column(classes: _Classes, ref: str, model: str | None) -> tuple[str, str] | None:
    """(table, column) of a model's attribute ("Class.attr", or the model's "attr"): a column, or the key of a
    many-to-one relationship (`Visit.patient`)."""
    cls, _, attr = ref.rpartition(".")
    table = classes.tables.get(cls or model or "")
    if table is None:
        return None
    col = next((c for c in table.columns.values() if (c.attr or c.name) == attr), None)
    if col is not None:
        return table.name, col.name
    via = classes.column(cls or model or "", attr)
    return (via[0].name, via[1].name) if via is not None else None


def _referenced(classes: _Classes, table: TableFact, col: ColumnFact, parent: TableFact) -> str | None:
    """The column of `parent` that `col` references: as its foreign key names it, else the parent's one primary key."""
    for fk in col.foreign_keys:
        name = fk.target.rsplit(".", 1)[-1] if "." in fk.target else ""
        found = next((c.name for c in parent.columns.values() if name in (c.name, c.attr)), None)
        if found is not None:
            return found
    keys = [c.name for c in parent.columns.values() if c.primary_key]
    return keys[0] if len(keys) == 1 else None


def _relationship_join(classes: _Classes, ref: str):
    """For a join through the relationship "Class.attr" (or a backref): each pair of columns it makes equal, with the
    (table, key) it looks rows up by from the side it starts at (None for the parent's key), and the relationship."""
    cls, _, attr = ref.partition(".")
    start = classes.tables.get(cls)
    if start is None:
        return []
    rel, forward = next((r for r in start.relationships if r.attr == attr), None), True
    if rel is None:
        rel = next((r for t in classes.by_name.values() for r in t.relationships
                    if r.backref and r.back_populates == attr and classes.table(r.target) is start), None)
        forward = False
    if rel is None:
        return []
    owner = start if forward else next(t for t in classes.by_name.values() if rel in t.relationships)
    target = classes.table(rel.target)
    if target is None or target is owner:
        return []  # self-referential: which column is which side, the remote_side tells; not followed here
    if rel.secondary:
        link = classes.link(rel.secondary)
        if link is None:
            return []
        mine, theirs = _keys_to(link, owner, rel.keys), _keys_to(link, target, None)
        if len(mine) != 1 or len(theirs) != 1 or mine[0] is theirs[0]:
            return []
        a, b = _referenced(classes, link, mine[0], owner), _referenced(classes, link, theirs[0], target)
        if a is None or b is None:
            return []
        first = (link, mine[0]) if forward else (link, theirs[0])
        return [(((owner.name, a), (link.name, mine[0].name)), first, rel),
                (((link.name, theirs[0].name), (target.name, b)), None, rel)]
    ahead, back = _keys_to(owner, target, rel.keys), _keys_to(target, owner, rel.keys)
    if len(back) == 1 and not ahead:  # one-to-many from the owner
        key = _referenced(classes, target, back[0], owner)
        return [] if key is None else [(((target.name, back[0].name), (owner.name, key)), (target, back[0]) if forward else None, rel)]
    if len(ahead) == 1 and not back:  # many-to-one from the owner
        key = _referenced(classes, owner, ahead[0], target)
        return [] if key is None else [(((owner.name, ahead[0].name), (target.name, key)), None if forward else (owner, ahead[0]), rel)]
    return []


def _class_attribute(node: ast.AST) -> str | None:
    """"Class.attr" for `Class.attr` in a primaryjoin (its string's classes are named bare), also wrapped in
    `foreign()`/`remote()` or reached through a module (`models.Outcome.completed_at`)."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("foreign", "remote") and len(node.args) == 1:
        node = node.args[0]
    if not isinstance(node, ast.Attribute):
        return None
    if isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    owner = node.value
    if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name) and owner.attr[:1].isupper():
        return f"{owner.attr}.{node.attr}"
    return None


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
    backref = (f"the backref {target.class_name}.{rel.back_populates} of {name}" if rel.back_populates else
               f"the backref of {name} on {target.class_name} (its name built at run time)")
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
