"""Section 7 (cascade deletes): ORM cascades that delete or load too much. A delete cascade over a many-to-many
deletes rows other parents share (REL007); a delete cascade the database's ON DELETE CASCADE already does, with no
`passive_deletes`, loads every child into memory to delete it row by row (REL008)."""

from __future__ import annotations

import ast
import re
import textwrap

from analyzers.facts.model import ColumnFact, Facts, ForeignKeyRef, RelationshipFact, TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.examples_common import HEADER
from analyzers.rules.fk_reads import _Classes, class_table, orm_deletes, secondary_table
from analyzers.rules.s07_blocked_deletes import refers
from analyzers.rules.s07_nulled_keys import database_key
from analyzers.rules.schema import fk_columns, unique_over

_DELETES = re.compile(r"(?<![-\w])(all|delete|delete-orphan)(?![\w-])")
# Loaders that never load the collection to delete it, or refuse to: not the loading REL008 tells of.
_NOT_LOADED = ("noload", "raise", "raise_on_sql", "write_only")
# Loaders that load the collection with the parent: its children are in memory before any delete, and the ORM deletes
# loaded children one by one whatever passive_deletes says (REL008's advice would change nothing).
_EAGER = ("joined", "subquery", "selectin", "immediate", "False", "false")
_LAZY_SKIP = (*_NOT_LOADED, *_EAGER)


def _deletes(cascade: str | None) -> bool:
    """Does a cascade string delete the related rows? ("all" and "delete" do; "-delete" takes it away again.)"""
    text = (cascade or "").lower()
    return bool(_DELETES.search(text)) and "-delete" not in text.replace("delete-orphan", "")


def _call_of(facts: Facts, rel: RelationshipFact) -> ast.Call | None:
    """The relationship(...) call as written, parsed from its lines (None where they do not parse alone)."""
    text = textwrap.dedent("\n".join(facts.lines(rel.span)))
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return next((n for n in ast.walk(tree) if isinstance(n, ast.Call) and any(k.arg in ("cascade", "backref", "secondary",
                 "passive_deletes", "sa_relationship_kwargs", "back_populates") for k in n.keywords)), None) or next(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call)), None)


def _options(call: ast.Call | None) -> dict[str, ast.expr]:
    if call is None:
        return {}
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    given = kw.get("sa_relationship_kwargs")  # SQLModel passes these on to relationship()
    if isinstance(given, ast.Dict):
        kw.update({k.value: v for k, v in zip(given.keys, given.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)})
    return kw


def _const(node: ast.expr | None):
    return node.value if isinstance(node, ast.Constant) else None


def _passive(options: dict[str, ast.expr]) -> bool:
    """passive_deletes=True or "all" (or anything but a literal False: what it is cannot be told)."""
    return "passive_deletes" in options and _const(options["passive_deletes"]) not in (False, None)


def backref_options(facts: Facts, rel: RelationshipFact) -> tuple[str, dict[str, ast.expr]] | None:
    """(name, keyword arguments) of the relationship a `backref=backref("name", cascade=...)` gives the target class;
    a bare `backref="name"` has none of its own."""
    options = _options(_call_of(facts, rel))
    node = options.get("backref")
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, {}
    if isinstance(node, ast.Call) and node.args and isinstance(name := _const(node.args[0]), str):
        return name, {k.arg: k.value for k in node.keywords if k.arg}
    return None


def _keys_to(table: TableFact, target: TableFact) -> list[str]:
    """The columns of `table` with a foreign key to `target`."""
    found = [c.name for c in table.columns.values() if any(refers(fk, target) for fk in c.foreign_keys)]
    found += [n for con in table.constraints if con.kind == "foreign_key"
              and (con.target or "").rsplit(".", 1)[0].split(".")[-1] in (target.name, target.class_name) for n in con.columns]
    return list(dict.fromkeys(found))


class ManyToManyDeleteCascade(Rule):
    """A many-to-many relationship deletes the rows on its other side.

    What it checks:
        A `relationship(..., secondary=...)` whose cascade deletes (`"all"`, `"delete"`, `"delete-orphan"`), or whose
        `backref=backref(..., cascade=...)` does. Not for `viewonly=True`. Info instead of a warning where the
        association table keeps the other side's key unique (each of those rows has one parent: a one-to-many in
        disguise), where `single_parent=True` says so without the database enforcing it, or where `secondary=` names
        a table dbreview cannot find (whether the rows are shared cannot be told).
    Why it matters:
        SQLAlchemy removes the association rows of a deleted parent without any cascade. A delete cascade goes one step
        further: `session.delete(post)` deletes every Tag the post links to, though other posts link the same tags.
        Their links go with them (ON DELETE CASCADE; else the delete fails on those association rows' foreign key): shared rows, and other
        parents' links to them, are lost. SQLAlchemy's documentation warns against exactly this.
    Example:
        tags = relationship("Tag", secondary=post_tags, cascade="all, delete")
    Instead:
        Leave the cascade at its default (`save-update, merge`): the association rows go with the parent anyway. Delete
        a Tag that no post links to any more apart, on purpose.
    """

    ID = "REL007"
    ITEM = "7.6"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
from sqlalchemy import Column, Table

post_tags = Table("post_tags", Base.metadata,
    Column("post_id", ForeignKey("posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True))

class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags = relationship("Tag", secondary=post_tags{options})
'''
    INVALID = (_MODELS.format(options=', cascade="all, delete"'),)
    VALID = (_MODELS.format(options=""), _MODELS.format(options=', cascade="save-update, merge"'))

    def check(self):
        facts = self.facts
        for owner in facts.tables.values():
            for rel in owner.relationships:
                if not rel.secondary:
                    continue
                options = _options(_call_of(facts, rel))
                if _const(options.get("viewonly")) is True:
                    continue
                target = class_table(facts, rel.target)
                name = owner.class_name or owner.name
                if _deletes(rel.cascade):
                    yield self._finding(owner, rel, target, (rel.target or "").strip("'\"").split(".")[-1],
                                        f"{name}.{rel.attr}", f"`{rel.attr}` of {name}", rel.cascade or "",
                                        _const(options.get("single_parent")) is True, _passive(options))
                back = backref_options(facts, rel)
                cascade = _const(back[1].get("cascade")) if back else None
                if back and isinstance(cascade, str) and _deletes(cascade):
                    other = target.class_name if target is not None and target.class_name else \
                        (rel.target or "").strip("'\"").split(".")[-1]
                    yield self._finding(target, rel, owner, name, f"{other}.{back[0]}",
                                        f"the backref `{back[0]}` that {name}.{rel.attr} gives {other}", cascade,
                                        _const(back[1].get("single_parent")) is True, _passive(back[1]))

    def _linked_elsewhere(self, deleted: TableFact | None, link: TableFact):
        """(owner, relationship, association table) of another many-to-many to the same rows through another table."""
        if deleted is None:
            return None
        for owner in self.facts.tables.values():
            for rel in owner.relationships:
                if rel.secondary and owner is not deleted and class_table(self.facts, rel.target) is deleted:
                    other = secondary_table(self.facts, rel.secondary)
                    if other is not None and other is not link:
                        return owner, rel, other
        return None

    def _finding(self, parent: TableFact | None, rel: RelationshipFact, deleted: TableFact | None, deleted_name: str,
                 where: str, how: str, cascade: str, single: bool, passive: bool):
        """`parent`'s relationship (told as `how`) deletes `deleted`'s rows through the association table."""
        facts = self.facts
        parent_name = (parent.class_name or parent.name) if parent is not None else where.split(".")[0]
        rows = f"{deleted.name} rows" if deleted is not None else f"{deleted_name} rows"
        link = secondary_table(facts, rel.secondary or "")
        through = link.name if link is not None else rel.secondary
        message = (f"{how} is a many-to-many through {through} with cascade \"{cascade}\": deleting one "
                   f"{parent_name} deletes every {deleted_name} it links to ({rows}), not just its association rows, "
                   f"though other {parent_name} rows may link the same {deleted_name}")
        severity, related = None, []
        if link is None:
            message += (f"; dbreview could not find the table `secondary={rel.secondary}` names, so whether a "
                        f"{deleted_name} can have several {parent_name} rows is not known to it")
            severity = Severity.INFO
        else:
            key = database_key(facts, deleted, link) if deleted is not None and deleted is not parent else None
            links = (f"their {link.name} rows go with them (ON DELETE CASCADE)" if key is not None
                     and (key[1].ondelete or "").upper() == "CASCADE" else
                     f"or the delete fails on the foreign key of their {link.name} rows")
            message += f": those lose their links ({links}), and the shared {deleted_name} rows are gone"
            keys = _keys_to(link, deleted) if deleted is not None else []
            ours = set(_keys_to(link, parent)) if parent is not None else set()
            if deleted is parent:  # self-referential: which column is the other side is in secondaryjoin=, unread
                keys = [c.name for c in fk_columns(link)]
            elif not keys:
                keys = [c.name for c in fk_columns(link) if c.name not in ours]
            unique = next((k for k in keys if unique_over(facts, link, (k,))), None)
            elsewhere = self._linked_elsewhere(deleted, link) if unique is not None or single else None
            if unique is not None:
                message += (f". But {link.name}.{unique} is unique: each {deleted_name} has at most one {parent_name} "
                            "(a one-to-many in disguise), so the rows deleted are that parent's own: confirm that is meant")
                severity = Severity.INFO
            elif single:
                message += (f". single_parent=True declares each {deleted_name} has one {parent_name}, but SQLAlchemy "
                            f"checks that only for objects in memory and nothing in {link.name} makes it unique")
                severity = Severity.INFO
            if elsewhere is not None:  # rows shared across two relationships, unless the other parent goes too
                rel_owner, other_rel, other_link = elsewhere
                message += (f"; but {rel_owner.class_name or rel_owner.name}.{other_rel.attr} links {deleted_name} rows "
                            f"through {other_link.name} too: one that both link is deleted with this {parent_name}, "
                            f"whether or not its {rel_owner.class_name or rel_owner.name} goes with it")
            related = [(link.span, f"the association table {link.name}")]
        if passive:
            message += (f" (passive_deletes=True only spares the {deleted_name} rows the session has not loaded: which "
                        "rows go depends on what was loaded before the delete)")
        if deleted is not None:
            related.append((deleted.span, f"the {deleted_name} rows deleted"))
        return self.finding(message, rel.span, f"relationship:{where}:many-to-many-delete", severity=severity,
                            related=related)


class CascadeWithoutPassiveDeletes(Rule):
    """An ORM delete cascade loads children the database's ON DELETE CASCADE would delete.

    What it checks:
        A one-to-many relationship (declared on the parent, or given to it by `backref=backref(..., cascade=...)`)
        whose cascade deletes (`"all"`, `"delete"`) and has no `passive_deletes`, where the child's one foreign key to
        the parent says ON DELETE CASCADE in the database (the migrations' schema where they build both tables; the
        models' otherwise). Only where everything below the child goes the same way: each delete cascade further down
        is over an ON DELETE CASCADE key too (one finding names the chain), no other key onto those tables would
        stop the database (no ON DELETE), and no `before_delete`/`after_delete` listener watches them. Not for
        `secondary=`, `viewonly=`, `primaryjoin=`, scalar (uselist=False), noload, raise or write-only relationships,
        nor eager ones (joined, subquery, selectin): their children are loaded with the parent anyway, and the ORM
        deletes loaded children one by one whatever passive_deletes says. Only where the code deletes the
        parent through the ORM (`session.delete()` of an object of its class, or a cascade from one): a parent
        removed only by bulk or SQL deletes never loads its children this way.
    Why it matters:
        `session.delete(parent)` first SELECTs every child (and their children, recursively) into memory and deletes
        them one statement per row, where the database would do it in one. Correct, but slow and memory-hungry on
        big trees. Info; from four such relationships on, one finding lists them.
    Example:
        items = relationship("Item", cascade="all, delete-orphan")   # items.order_id ON DELETE CASCADE
    Instead:
        `relationship("Item", cascade="all, delete-orphan", passive_deletes=True)`: the ORM leaves unloaded children to
        the database.
    """

    ID = "REL008"
    ITEM = "7.6"
    SEVERITY = Severity.INFO
    _MODELS = HEADER + '''
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    items = relationship("Item", cascade="all, delete-orphan"{options})

class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))

def cancel(session, order: Order):
    session.delete(order)
'''
    INVALID = ({"app/models.py": _MODELS.format(options="")},)
    VALID = ({"app/models.py": _MODELS.format(options=", passive_deletes=True")},
             {"app/models.py": _MODELS.replace(', ondelete="CASCADE"', "")},
             {"app/models.py": _MODELS.format(options="").replace("session.delete(order)", "session.execute(...)")})

    def check(self):
        edges = list(self._edges())
        below: dict[int, list[tuple]] = {}
        for edge in edges:
            below.setdefault(id(edge[0]), []).append(edge)
        entered = {id(e[2]) for e in edges if e[2] is not e[0]}
        covered: set[int] = set()
        roots = [e for e in edges if id(e[0]) not in entered] + [e for e in edges if id(e[0]) in entered]
        chains = []
        classes = _Classes(self.facts)
        for edge in roots:
            if id(edge) in covered:
                continue
            chain = self._chain(edge, below)
            if chain is None:
                continue
            covered.update(id(e) for e in chain)
            # judged: a parent the code removes only with bulk or SQL deletes never loads its children this way
            deleted = orm_deletes(self.facts, classes, chain[0][0])
            if deleted is not None and deleted[1] != "unsure":  # a delete of an object of a class not told: no claim
                chains.append(chain)
        if len(chains) < _GROUPED:
            yield from (self._finding(chain) for chain in chains)
            return
        # one habit of the schema's, not a finding a relationship: said once, each relationship listed
        names = ", ".join(c[0][4] for c in chains[:6]) + (", ..." if len(chains) > 6 else "")
        yield self.grouped(
            f"{len(chains)} relationships delete their children through the ORM with no passive_deletes, though the "
            f"database already cascades those deletes (ON DELETE CASCADE): {names}. `session.delete()` of a parent first "
            "SELECTs its children (and theirs) and deletes them one by one, where the database would do it in one "
            "statement. Correct, but slow on big trees: passive_deletes=True leaves unloaded children to the database",
            [(c[0][1].span, f"relationship:{c[0][4]}:cascade-loads", c[0][4]) for c in chains], "schema:cascade-loads",
        )

    def _edges(self):
        """(parent, relationship, child, how it is named, anchor name, cascade, key column, key) for each delete
        cascade to children whose key is ON DELETE CASCADE, with no passive_deletes."""
        facts = self.facts
        for owner in facts.tables.values():
            for rel in owner.relationships:
                if rel.secondary or rel.join or rel.narrowed:
                    continue
                options = _options(_call_of(facts, rel))
                other = class_table(facts, rel.target)
                if other is None or (other is owner and rel.remote_side is not None):  # many-to-one to itself
                    continue
                name = owner.class_name or owner.name
                if _deletes(rel.cascade) and rel.uselist is not False and (rel.lazy or "").strip("'\"") not in _LAZY_SKIP \
                        and not _passive(options) and _const(options.get("uselist")) is not False:
                    key = self._key(owner, other)
                    if key is not None:
                        yield (owner, rel, other, f"`{rel.attr}` of {name}", f"{name}.{rel.attr}", rel.cascade, *key)
                back = backref_options(facts, rel) if other is not owner else None
                if back is None:
                    continue
                cascade = _const(back[1].get("cascade"))
                lazy = _const(back[1].get("lazy"))
                if isinstance(cascade, str) and _deletes(cascade) and not _passive(back[1]) and str(lazy) not in _LAZY_SKIP \
                        and _const(back[1].get("uselist")) is not False:
                    key = self._key(other, owner)
                    other_name = other.class_name or other.name
                    if key is not None:
                        yield (other, rel, owner, f"the backref `{back[0]}` that {name}.{rel.attr} gives {other_name}",
                               f"{other_name}.{back[0]}", cascade, *key)

    def _key(self, parent: TableFact, child: TableFact) -> tuple[ColumnFact, ForeignKeyRef] | None:
        found = database_key(self.facts, parent, child)
        if found is None or (found[1].ondelete or "").upper() != "CASCADE":
            return None
        return found

    def _chain(self, edge, below) -> list | None:
        """The edge and every delete cascade under its child, when the database would do all of it: None where a key
        onto a table below stops the database's cascade, or a delete listener watches one."""
        chain, seen, todo = [edge], {id(edge[0])}, [edge]
        while todo:
            parent, rel, child, *_ = todo.pop()
            if id(child) in seen:
                continue
            seen.add(id(child))
            if not self._database_would(child):
                return None
            for e in below.get(id(child), []):
                chain.append(e)
                todo.append(e)
        if edge[0] is edge[2] and not self._database_would(edge[0]):
            return None
        return chain

    def _database_would(self, table: TableFact) -> bool:
        """Every key onto `table` says what the database does on a delete (CASCADE, SET NULL, SET DEFAULT), and no
        ORM delete listener watches its class: deleting it in the database does what the ORM's loading would."""
        facts = self.facts
        name = table.class_name or ""
        if name and any(lst.event in ("before_delete", "after_delete") and re.search(rf"\b{re.escape(name)}\b", lst.target)
                        for lst in facts.listeners):
            return False
        for other in facts.tables.values():
            found = [c for c in other.columns.values() for fk in c.foreign_keys if refers(fk, table)]
            if not found:
                continue
            key = database_key(facts, table, other)
            if key is None or (key[1].ondelete or "").upper() not in ("CASCADE", "SET NULL", "SET DEFAULT"):
                return False
        return True

    def _finding(self, chain):
        parent, rel, child, how, where, cascade, column, fk = chain[0]
        parent_name, child_name = parent.class_name or parent.name, child.class_name or child.name
        message = (f"{how} deletes its {child_name} rows through the ORM (cascade \"{cascade}\") with no passive_deletes, "
                   f"though {_key_name(child, column)} is ON DELETE CASCADE in the database: `session.delete()` of one "
                   f"{parent_name} first SELECTs its {child_name} rows")
        if len(chain) > 1:
            rest = ", ".join(f"{e[4]} ({e[2].class_name or e[2].name})" for e in chain[1:])
            message += f", then theirs down the chain ({rest}),"
        message += (" and deletes them one by one, where the database would do it in one statement. Correct, but slow on "
                    "big trees: passive_deletes=True leaves unloaded children to the database")
        related = [(fk.span, f"{_key_name(child, column)}: ON DELETE CASCADE")]
        related += [(e[1].span, f"{e[4]}: cascade \"{e[5]}\" over {_key_name(e[2], e[6])} ON DELETE CASCADE") for e in chain[1:]]
        return self.finding(message, rel.span, f"relationship:{where}:cascade-loads", related=related)


_GROUPED = 4  # from this many relationships on, one finding for the schema


def _key_name(child: TableFact, column: ColumnFact) -> str:
    """The key as the model names it (`Item.order_id`): the class and attribute, which the code shows as written."""
    model = child.columns.get(column.name)
    return f"{child.class_name or child.name}.{(model.attr if model is not None else '') or column.name}"
