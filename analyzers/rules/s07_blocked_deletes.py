"""Section 7 (cascade deletes): application code that deletes a row other tables still point at, where neither
the foreign key nor the ORM says what becomes of their rows."""

from __future__ import annotations

import re

from analyzers.facts.model import Facts, ForeignKeyRef, RelationshipFact, Span, TableFact
from analyzers.facts.paths import is_test_path
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import app_queries, function_around, mapped_names, table_variable
from analyzers.rules.drift import fks_unsettled
from analyzers.rules.examples_common import HEADER, orm_delete
from analyzers.rules.fk_reads import NO_CALL, _modules, uncalled_function
from analyzers.rules.mentions import mentions
from analyzers.rules.s05_integrity import _may_name
from analyzers.rules.schema import function_source, is_tooling_path, migration_gaps

HANDLED = re.compile(r"except\s*\(?[^:\n]*\b(IntegrityError|SQLAlchemyError|DBAPIError|DatabaseError|ForeignKeyViolation)\b")
# A bulk delete whose rows a subquery picks (those nothing references any more, maybe): not knowable here.
_PICKED = re.compile(r"subquery\(|exists\(|select\(|outerjoin|notin_|not_in\(|~")
# Collections the ORM does not load whole to null their keys the usual way: what it does on a delete is not told here.
UNLOADED = ("dynamic", "write_only")
_CLEARS = re.compile(r"delete|remove|purge|clear|clean|detach|unlink|drop|wipe|erase", re.I)
DEF = re.compile(r"\s*(?:async\s+)?def\s+(\w+)")


class DeleteBlockedByForeignKey(Rule):
    """Application code deletes a row that other tables reference with no ON DELETE, and nothing deletes theirs first.

    What it checks:
        A delete in application code of a model whose table another table references by a foreign key written with
        no ON DELETE action (in the schema the migrations build; the models' where there are no migrations):
        `session.delete(obj)` (the object's model read from the function, as HIP005 reads it), or a bulk
        `delete(Model)` / `query(Model).delete()` (not one whose rows a subquery picks). For `session.delete`, what
        SQLAlchemy does first decides: the rows of an association table a relationship of the model names as its
        `secondary=` go with it (no finding); a relationship from the model to the referencing class with
        `cascade="all"`/`"delete"` deletes them (no finding), and so does one to a table their rows reference with
        ON DELETE CASCADE and which references the model (`Project.tasks` with a delete cascade, `result.task_id`
        ON DELETE CASCADE: results go with the project's tasks; no finding); one with `passive_deletes`, a narrowed join, a dynamic
        or write-only collection, a backref from the other side, or two keys between the tables is not knowable
        here (no finding); one without a delete cascade sets their key to NULL, which fails on a NOT NULL column
        (warning) and leaves the rows with no parent on a nullable one (info); with no relationship, PostgreSQL
        decides (warning). A bulk delete runs no ORM cascade at all (warning). Not when the function itself names
        the referencing model, table or relationship before the delete (it deletes or moves those rows first; or loops
        over a module-level collection that names it: `for t in search_indexes.values(): delete(t)...`), nor
        when every call of the function outside tests does so before it calls it (a `delete_*__no_commit` step of a
        whole delete), or it catches IntegrityError; not for a key that is the referencing table's primary key (joined inheritance, an
        extension row), a self-reference, or a key whose action is written (RESTRICT and NO ACTION written out are
        choices). Tests and tooling are not read; a migration step about the tables that could not be read makes
        it info, and so does a delete in a module-level function that nothing in the application's code calls (no
        route, task, command or other function of it reaches it: INT010's call facts), which the message says.
    Why it matters:
        PostgreSQL checks the foreign key when the parent row goes: as soon as one referencing row exists, the delete
        fails with an IntegrityError and the request with it, a failure tests with empty tables never see. Where the
        ORM nulls the children's key instead, they stay behind, attached to nothing.
    Example:
        session.delete(project)   # tasks.project_id REFERENCES projects (id), no ON DELETE, no relationship
    Instead:
        Say what the children's rows become: `ForeignKey("projects.id", ondelete="CASCADE")` (with
        `passive_deletes=True` on the relationship) or `relationship(cascade="all, delete-orphan")` to delete them,
        `ondelete="SET NULL"` on a nullable key to keep them, or delete or move them in the same function first; where
        the delete must be refused, `ondelete="RESTRICT"` and a handled IntegrityError say so.
    """

    ID = "REL005"
    ITEM = "7.6"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)

class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id{action}"))
'''
    _CODE, _ROUTE = orm_delete("Project", "project")
    INVALID = ({"models.py": _MODELS.format(action=""), "app/projects.py": _CODE, "app/routes.py": _ROUTE},)
    VALID = ({"models.py": _MODELS.format(action='", ondelete="CASCADE'), "app/projects.py": _CODE},)

    def check(self):
        facts = self.facts
        by_class = mapped_names(facts)
        for call in facts.calls:
            if call.name != "session.delete" or not call.kwargs.get("model") or skipped(call.span.path):
                continue
            tables = by_class.get(call.kwargs["model"], [])
            if len(tables) == 1 and loaded_as(facts, call.span, call.target or "", call.kwargs["model"]):
                yield from self._site(tables[0], call.span, f"session.delete({call.target})", orm=True)
        for q, table in app_queries(facts, writes=True):
            if (q.statement == "delete" or "delete" in q.methods) and not skipped(q.span.path) and not (
                    q.opaque_filter or _PICKED.search(" ".join(facts.lines(q.span)))):
                yield from self._site(table, q.span, f"a bulk delete of {table.class_name or table.name}", orm=False)

    def _site(self, parent: TableFact, span: Span, how: str, *, orm: bool):
        facts = self.facts
        start, lines = function_around(facts, span)
        head = DEF.match(lines[0]) if lines else None
        if head is None:
            return
        function, before = head.group(1), "\n".join(lines[: span.start - start])
        if HANDLED.search("\n".join(lines)):
            return  # the function answers the refusal itself
        called = cleared_first(facts, span.path, lines[1: span.start - start])
        if called is None:
            return  # a helper called first may clear the rows (`_delete_dependencies(...)`)
        before += "\n" + called + "".join("\n" + text for text in _looped_collections(facts, before))
        blocked, orphaned, lost = [], [], []
        callers: list[str] | None = None
        for child, column, fk, keys in _referencing(facts, parent):
            child_class = _class_of(facts, child.name)
            if any(re.search(rf"\b{re.escape(w)}\b", before) for w in (child.name, child_class) if w):
                continue  # the function deals with those rows itself before the delete
            if callers is None:
                callers = _before_calls(facts, span, function)
            if callers and all(text is None or any(re.search(rf"\b{re.escape(w)}\b", text) for w in (child.name, child_class) if w)
                               for text in callers):
                continue  # each caller deals with them before it calls the function (a `__no_commit` step of a whole)
            if orm and _associated(facts, parent, child):
                continue  # an association table: the ORM deletes the parent's links with it
            own, back = _relationships(facts, parent, child_class)
            if any(re.search(rf"\.{re.escape(r.attr)}\b", before) for r in own):
                continue
            if orm and _go_with_cascaded(facts, parent, child):
                continue  # the ORM deletes the parent's rows they hang on, and the database deletes them with those
            cascade = next((r for r in own if re.search(r"delete|all", r.cascade or "")), None) if keys == 1 else None
            if orm and (own or back):
                if keys > 1 or _refers_to(parent, child) or cascade or any(r.narrowed or r.backref or r.lazy in UNLOADED or passive(facts, r) for r in own) or back:
                    continue  # the ORM deletes them, or does what dbreview cannot tell
                (orphaned if column.is_nullable else lost).append((child, column, fk, own[0]))
            else:
                blocked.append((child, column, fk, cascade if not orm else None))
        if not (blocked or lost or orphaned):
            return
        name = parent.class_name or parent.name
        anchor = f"delete-blocked:{function}:{name}"
        tables = [parent.name, *{c.name: None for c, *_ in [*blocked, *lost, *orphaned]}]
        unsure = list({u: None for t in tables for u in migration_gaps(facts, t)}) if facts.revisions else []
        # A delete nothing in the application runs (no route, task or command reaches it) fails nobody yet.
        dead = uncalled_function(facts, span, methods=False) is not None
        if blocked or lost:
            parts = [_blocked(c, col, rel) for c, col, _, rel in blocked] + [_nulled(c, col, rel, name) for c, col, _, rel in lost]
            yield self.finding(
                f"{function} deletes {_a(name)} ({parent.name}) with {how}, but {_listed(parts)}: the delete fails with an "
                f"IntegrityError as soon as one of those rows points at the {name}"
                + (f" (it is in {function}(), {NO_CALL}: no request reaches this delete yet)" if dead else ""),
                span, anchor, unsure=unsure, severity=Severity.INFO if dead else None,
                related=[(fk.span, f"{c.name}.{col.name}: no ON DELETE") for c, col, fk, _ in [*blocked, *lost]][:10],
            )
        elif orphaned:
            parts = [f"{name}.{rel.attr} sets {c.name}.{col.name} to NULL" for c, col, _, rel in orphaned]
            yield self.finding(
                f"{function} deletes {_a(name)} ({parent.name}) with {how}, and with no delete cascade {_listed(parts)} on "
                f"their rows: those rows stay, attached to nothing; if they belong to the {name}, delete them with it",
                span, anchor, severity=Severity.INFO, unsure=unsure,
                related=[(fk.span, f"{c.name}.{col.name}: no ON DELETE") for c, col, fk, _ in orphaned][:10],
            )


def loaded_as(facts: Facts, span: Span, target: str, model: str) -> bool:
    """The object deleted is a `model` by its own binding: a name assigned from, annotated as, or iterated over what
    names the class (a loop over a list built from another object's collection holds that collection's rows)."""
    if not re.fullmatch(r"\w+", target):
        return False
    start, lines = function_around(facts, span)
    text = "\n".join(lines[: span.start - start])
    loop = re.search(rf"\bfor\s+{target}\s+in\s+([^\n]+):", text)
    name = re.match(r"\s*(\w+)\s*(?:\.|$)", loop.group(1)) if loop else None
    if loop and not re.search(rf"\b{model}\b", loop.group(1)):
        return name is not None and _assigned_mentions(lines, name.group(1), model)
    return _assigned_mentions(lines, target, model) or bool(re.search(rf"\b{target}\s*:\s*['\"]?{model}\b", text))


def _assigned_mentions(lines: list[str], name: str, model: str) -> bool:
    """An assignment to `name` (the whole statement, over the lines its brackets span) names `model`."""
    for i, line in enumerate(lines):
        if re.match(rf"\s*{name}\s*(?::[^=]*)?=(?!=)", line):
            statement, depth, j = line, 0, i
            depth = sum(line.count(o) - line.count(c) for o, c in ("()", "[]", "{}"))
            while depth > 0 and j + 1 < len(lines):
                j += 1
                statement += "\n" + lines[j]
                depth += sum(lines[j].count(o) - lines[j].count(c) for o, c in ("()", "[]", "{}"))
            if re.search(rf"\b{model}\b", statement):
                return True
    return False


def cleared_first(facts: Facts, path: str, lines: list[str]) -> str | None:
    """The source of the module's functions the lines call (to look for the rows they clear), or None when one of
    them, by its name, clears or deletes something dbreview cannot read."""
    out = []
    for name in dict.fromkeys(re.findall(r"\b([A-Za-z_]\w*)\s*\(", "\n".join(lines))):
        if _CLEARS.search(name) and name != "delete":  # `delete(Model)` names its model, `session.delete(x)` its object
            found = function_source(facts, path, name)
            if found is None:
                return None
            out.append(found[0])
    return "\n".join(out)


def _before_calls(facts: Facts, span: Span, function: str) -> list[str | None]:
    """What each call of the module-level `function` outside tests runs before it, in the calling function, with
    the source of the helpers it calls first (None for a caller whose helper, by its name, clears something
    dbreview cannot read); [] where no call is in sight."""
    modules = _modules(facts)
    home = modules.get(span.path)
    if home is None or function_around(facts, span)[1][0][:1].isspace():
        return []  # a method: the framework calls it (a resource's `delete`), or an object whose type is not followed
    out: list[str | None] = []
    call = re.compile(rf"(?<![\w.]){re.escape(function)}\s*\(|\b{re.escape(home.module.rpartition('.')[2])}\.{re.escape(function)}\s*\(")
    for site, text in mentions(facts, {function})[function]:
        other = modules.get(site.path)
        if is_test_path(site.path) or (other is not None and not _may_name(other, home.module, function)) \
                or not call.search(text.partition("#")[0]) or DEF.match(text):
            continue  # not a call of this function: a method, another module's function of that name
        start, lines = function_around(facts, site)
        if not lines or not DEF.match(lines[0]):
            return []  # called from module level or a class body: not weighed
        earlier = lines[1: site.start - start]
        helpers = cleared_first(facts, site.path, earlier)
        out.append(None if helpers is None else "\n".join(earlier) + "\n" + helpers)
    return out


_LOOP_OVER = re.compile(r"\bfor\s+[\w, ]+\s+in\s+([A-Za-z_]\w*)(?:\.(?:values|items|keys)\(\))?\s*:")


def _looped_collections(facts: Facts, text: str) -> list[str]:
    """The literals of the module-level collections a loop of `text` runs over (`for table in search_indexes.values():`
    with `search_indexes = {"string": SearchString, ...}` in one module of the application): the models it names."""
    out = []
    for name in dict.fromkeys(_LOOP_OVER.findall(text)):
        defined = re.compile(rf"^{re.escape(name)}\s*(?::[^=\n]+)?=\s*[\[{{(]", re.M)
        found = []
        for span, _ in mentions(facts, {name})[name]:
            if skipped(span.path):
                continue
            source = "\n".join(facts.lines(Span(span.path, span.start, span.start + 60)))
            if defined.match(source):
                found.append(source[: _closing(source)])
        if len(found) == 1:  # one definition: the collection the loop runs over
            out += found
    return out


def _closing(text: str) -> int:
    """Where the first bracket of `text` closes (its end when it does not)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch in ")]}":
            return i + 1
    return len(text)


def _go_with_cascaded(facts: Facts, parent: TableFact, child: TableFact) -> bool:
    """`result.task_id` ON DELETE CASCADE to `task`, whose rows are the parent's (task.project_id) and go before it
    by the parent model's delete cascade (`Project.tasks`, cascade="all, delete"): the child's rows go with them."""
    tables = facts.migration_tables if parent.name in facts.migration_tables else facts.tables
    for c in child.columns.values():
        for fk in c.foreign_keys:
            middle = tables.get(fk.table.rsplit(".", 1)[-1])
            if (fk.ondelete or "").upper() != "CASCADE" or middle is None or middle.name in (parent.name, child.name):
                continue
            own, _ = _relationships(facts, parent, _class_of(facts, middle.name))
            if any(refers(k, parent) for m in middle.columns.values() for k in m.foreign_keys) and len(own) == 1 \
                    and re.search(r"delete|all", own[0].cascade or "") and not own[0].narrowed and own[0].lazy not in UNLOADED:
                return True
    return False


def _refers_to(parent: TableFact, child: TableFact) -> bool:
    """The parent has a key of its own to the child: a relationship between them may be the many-to-one over it."""
    return any(refers(fk, child) for c in parent.columns.values() for fk in c.foreign_keys)


def skipped(path: str) -> bool:
    return is_test_path(path) or is_tooling_path(path)


def _referencing(facts: Facts, parent: TableFact):
    """(the table, its column, the key) of each single-column foreign key, with no ON DELETE written, to `parent`
    in the database's schema: as the migrations build it where they build the parent, else as the models declare it."""
    migrated = parent.name in facts.migration_tables
    tables = facts.migration_tables if migrated else facts.tables
    for child in tables.values():
        if child.name == parent.name or child.partition_of:
            continue
        unsettled = fks_unsettled(facts, child.name) if migrated else set()
        if unsettled is None:
            continue  # the replay may not know this table's keys as they are
        keys = [(c, fk) for c in child.columns.values() for fk in c.foreign_keys if refers(fk, parent)]
        for column, fk in keys:
            if column.primary_key or column.name in unsettled or column.from_library:
                continue
            if fk.ondelete is None and not fk.actions_unread:
                yield child, column, fk, len(keys)


def refers(fk: ForeignKeyRef, parent: TableFact) -> bool:
    ref = fk.table.rsplit(".", 1)[-1]
    return ref == parent.name or (parent.class_name is not None and ref == parent.class_name)


def _class_of(facts: Facts, table: str) -> str | None:
    model = facts.tables.get(table)
    return model.class_name if model is not None else None


def _relationships(facts: Facts, parent: TableFact, child_class: str | None):
    """The parent model's relationships to the child's class, and the child's to the parent's that give the parent
    one by `backref=` (whose cascade is not the one written on the child's side)."""
    model, child_model = facts.tables.get(parent.name), next(
        (t for t in facts.tables.values() if child_class and t.class_name == child_class), None)
    own = [r for r in (model.relationships if model else []) if not r.secondary and target_class(r) == child_class]
    back = [r for r in (child_model.relationships if child_model else [])
            if r.backref and not r.secondary and target_class(r) == parent.class_name]
    return own, back


def _associated(facts: Facts, parent: TableFact, child: TableFact) -> bool:
    """`child` is the `secondary=` of a relationship the parent has: its own, or one another model gives it by backref."""
    model = facts.tables.get(child.name)
    names = {child.name, table_variable(facts, model) if model is not None else None} - {None}
    for owner in facts.tables.values():
        for r in owner.relationships:
            if (r.secondary or "").strip("'\"").split(".")[-1] in names and (
                    owner.name == parent.name or (r.backref and target_class(r) == parent.class_name)):
                return True
    return False


def target_class(rel: RelationshipFact) -> str:
    return (rel.target or "").strip("'\"").split(".")[-1]


def passive(facts: Facts, rel: RelationshipFact) -> bool:
    return "passive_deletes" in "\n".join(facts.lines(rel.span))


def _blocked(child: TableFact, column, rel: RelationshipFact | None) -> str:
    said = f"{child.name}.{column.name} references it with no ON DELETE"
    return f"{said} (the ORM cascade of `{rel.attr}` does not run for a bulk delete)" if rel is not None else said


def _nulled(child: TableFact, column, rel: RelationshipFact, name: str) -> str:
    return (f"{name}.{rel.attr} has no delete cascade, so SQLAlchemy sets {child.name}.{column.name}, NOT NULL, to NULL "
            "on their rows")


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _listed(parts: list[str]) -> str:
    shown = "; ".join(parts[:3])
    return shown + (f"; and {len(parts) - 3} more" if len(parts) > 3 else "")
