"""Section 7 (cascade deletes): a one-to-many relationship with no delete cascade, whose children's key to the
parent is NOT NULL: deleting the parent through the ORM sets that key to NULL, which the database refuses."""

from __future__ import annotations

import re

from analyzers.facts.model import ColumnFact, Facts, ForeignKeyRef, RelationshipFact, Span, TableFact
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.code_use import function_around
from analyzers.rules.drift import fks_unsettled
from analyzers.rules.examples_common import HEADER, orm_delete
from analyzers.rules.fk_reads import NO_CALL, uncalled_function
from analyzers.rules.s07_blocked_deletes import (
    DEF, HANDLED, UNLOADED, cleared_first, loaded_as, passive, refers, skipped, target_class,
)

# Loaders that never load the collection on a delete (noload) or refuse to (raise): not the nulling told here.
_NOT_LOADED = (*UNLOADED, "noload", "raise", "raise_on_sql")


class OrmNullsRequiredKey(Rule):
    """Deleting a parent through the ORM sets its children's NOT NULL foreign key to NULL.

    What it checks:
        A one-to-many relationship from a model to another (declared on the parent, or given to it by a `backref=`
        on the child) with no `delete`/`all` in its cascade and no `passive_deletes`, where the child's only foreign
        key to the parent is NOT NULL (in the schema the migrations build; the models' where there are none).
        SQLAlchemy's default for such a relationship, when the parent is deleted with `session.delete(parent)`, is to
        load the children and issue `UPDATE child SET parent_id = NULL`: the NOT NULL column refuses it with an
        IntegrityError, whatever the database's own ON DELETE says (the UPDATE runs before the parent's DELETE). Where
        the key is part of the child's primary key, SQLAlchemy refuses to blank it out with an AssertionError
        instead. Warning where application code deletes a parent with `session.delete(x)` of an object its function
        shows to be one (as REL005 reads it), and neither catches IntegrityError nor names the children (their
        model, table or the relationship) before the delete; info where that delete is in a function nothing
        calls. Nothing where no such delete is seen (an untyped object is no evidence). Not for `viewonly=True`, `secondary=` (SQLAlchemy deletes the link rows),
        `primaryjoin=`, dynamic, write-only, noload or raise collections, two keys between the tables, a nullable
        key, or a key with no ON DELETE on the parent's own relationship where REL005 already says it.
    Why it matters:
        The delete fails as soon as the parent has one child, in production, where tests with empty tables pass;
        and a foreign key written `ondelete="CASCADE"` reads as if the database handled it.
    Example:
        memberships = relationship("Membership")   # membership.group_id NOT NULL, ON DELETE CASCADE; session.delete(group)
    Instead:
        With ON DELETE CASCADE: `relationship(..., passive_deletes=True)` (the database deletes the children) or
        `cascade="all, delete-orphan"` (the ORM deletes them); with no ON DELETE: the cascade, or delete the
        children first in the same function.
    """

    ID = "REL006"
    ITEM = "7.6"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class Group(Base):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    memberships = relationship("Membership"{options})

class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
'''
    _CODE, _ROUTE = orm_delete("Group", "group")
    INVALID = ({"models.py": _MODELS.format(options=""), "app/groups.py": _CODE, "app/routes.py": _ROUTE},)
    VALID = ({"models.py": _MODELS.format(options=", passive_deletes=True"), "app/groups.py": _CODE, "app/routes.py": _ROUTE},
             {"models.py": _MODELS.format(options=', cascade="all, delete-orphan"'), "app/groups.py": _CODE})

    def check(self):
        facts = self.facts
        for parent in facts.tables.values():
            if not parent.class_name:
                continue
            collections = list(_collections(facts, parent))
            # a child another of the parent's relationships deletes with it is not nulled (the unit of work skips it)
            deleted = {id(child) for rel, child, own in collections if own and _cascades(rel)}
            for rel, child, own in collections:
                found = _nulled_key(facts, parent, child)
                if found is None or _cascades(rel) or id(child) in deleted:
                    continue
                column, fk = found
                if fk.ondelete is None and own and not column.primary_key:
                    continue  # REL005 tells this one at the delete
                yield from self._relationship(parent, child, rel, own, column, fk)

    def _relationship(self, parent: TableFact, child: TableFact, rel: RelationshipFact, own: bool,
                      column: ColumnFact, fk: ForeignKeyRef):
        facts, name = self.facts, parent.class_name or parent.name
        attr = rel.attr if own else _backref_name(facts, rel)
        if attr is None:
            return
        deletes = _deletes(facts, name, child, attr)
        if not deletes:
            return  # no delete of a parent seen, or each one deals with the children itself: a guess, say nothing
        live = [c for c in deletes if uncalled_function(facts, c, methods=False) is None]
        action = (fk.ondelete or "").upper()
        key = f"{child.name}.{column.name}"
        what = (f"SQLAlchemy refuses to blank out {key}, part of {child.name}'s primary key, with an AssertionError"
                if column.primary_key else
                f"SQLAlchemy loads them and runs `UPDATE {child.name} SET {column.name} = NULL`, which the NOT NULL "
                f"{key} refuses with an IntegrityError")
        # named as the anchored line shows it: the attribute (of its class), or the backref's name on the child's line
        how = f"`{attr}` of {name}" if own else f"the backref `{attr}` that {child.class_name}.{rel.attr} gives {name}"
        message = (f"{how} is a one-to-many to {child.class_name} with no delete cascade and no passive_deletes: when "
                   f"a {name} row with {child.class_name} rows is deleted through the ORM, {what}. ")
        first = (live or deletes)[0]
        more = f" (and {len(deletes) - 1} more)" if len(deletes) > 1 else ""
        message += f"{first.path}:{first.start} deletes a {name} row that way{more}"
        if not live:
            message += f" (in a function {NO_CALL})"
        message += f". {_database_says(fk, key)}"
        yield self.finding(
            message, rel.span, f"orm-nulls:{name}.{attr}", severity=None if live else Severity.INFO,
            related=[(fk.span, f"{column.name} of {child.name}: NOT NULL, ON DELETE {action or 'not written'}"),
                     *((c, f"deletes a {name} row") for c in deletes[:5])],
        )


def _cascades(rel: RelationshipFact) -> bool:
    return bool(rel.cascade and re.search(r"delete|all", rel.cascade))


def _collections(facts: Facts, parent: TableFact):
    """(relationship, child table, declared on the parent) for each collection of the parent's the ORM loads to
    null on a delete: its own relationships, and the backrefs other models give it."""
    by_class = {t.class_name: t for t in facts.tables.values() if t.class_name}
    for owner in facts.tables.values():
        for rel in owner.relationships:
            own = owner is parent
            if rel.secondary or rel.join or rel.lazy in _NOT_LOADED or not (own or rel.backref):
                continue
            other = by_class.get(target_class(rel))
            child = other if own else owner
            if other is None or child is parent or (not own and other is not parent):
                continue
            text = "\n".join(facts.lines(rel.span))
            if re.search(r"viewonly\s*=\s*True", text) or passive(facts, rel):
                continue
            if not own and re.search(r"backref\s*\([^)]*(cascade|lazy\s*=\s*['\"](dynamic|noload|raise))", text):
                continue  # the backref's own options decide
            yield rel, child, own


def _backref_name(facts: Facts, rel: RelationshipFact) -> str | None:
    m = re.search(r"backref\s*=\s*(?:\w+\.)?(?:backref\s*\(\s*)?['\"](\w+)['\"]", "\n".join(facts.lines(rel.span)))
    return m.group(1) if m else None


def _nulled_key(facts: Facts, parent: TableFact, child: TableFact) -> tuple[ColumnFact, ForeignKeyRef] | None:
    """The child's one foreign key to the parent, where NOT NULL, as the database has it (the migrations' schema
    where they build the child; the model's otherwise); None for a nullable key, two keys, a key the parent also
    has the other way (the relationship may be its many-to-one), or one the replay may not know."""
    found = database_key(facts, parent, child)
    if found is None or found[0].is_nullable:
        return None
    return found


def database_key(facts: Facts, parent: TableFact, child: TableFact) -> tuple[ColumnFact, ForeignKeyRef] | None:
    """The child's one foreign key to the parent as the database has it (the migrations' schema where they build
    both tables; the models' otherwise), its ON DELETE read; None for two keys, a key the parent also has the other
    way (the relationship may be its many-to-one), or one the replay may not know."""
    if any(refers(fk, child) for c in parent.columns.values() for fk in c.foreign_keys):
        return None
    migrated = child.name in facts.migration_tables and parent.name in facts.migration_tables
    table = facts.migration_tables[child.name] if migrated else child
    unsettled = fks_unsettled(facts, child.name) if migrated else set()
    keys = [(c, fk) for c in table.columns.values() for fk in c.foreign_keys if refers(fk, parent)]
    if unsettled is None or len(keys) != 1:
        return None
    column, fk = keys[0]
    if column.name in unsettled or column.from_library or fk.actions_unread:
        return None
    return column, fk


def _deletes(facts: Facts, model: str, child: TableFact, attr: str) -> list[Span]:
    """The application's `session.delete(x)` of an object its function shows to be a `model`, and that deals with
    none of the children first (an object dbreview cannot type is no evidence)."""
    return [call.span for call in facts.calls
            if call.name == "session.delete" and not skipped(call.span.path) and call.target
            and call.kwargs.get("model") == model and loaded_as(facts, call.span, call.target, model)
            and not _children_handled(facts, call.span, child, attr)]


def _children_handled(facts: Facts, span: Span, child: TableFact, attr: str) -> bool:
    """The function catches IntegrityError, or names the children before the delete (itself or in a helper it calls
    first whose name says it clears something), or calls such a helper dbreview cannot read."""
    start, lines = function_around(facts, span)
    if not lines or not DEF.match(lines[0]) or HANDLED.search("\n".join(lines)):
        return True
    cleared = cleared_first(facts, span.path, lines[1: span.start - start])
    if cleared is None:
        return True
    before = "\n".join(lines[: span.start - start]) + "\n" + cleared
    names = [w for w in (child.name, child.class_name) if w]
    return any(re.search(rf"\b{re.escape(w)}\b", before) for w in names) or bool(re.search(rf"\.{re.escape(attr)}\b", before))


def _database_says(fk: ForeignKeyRef, key: str) -> str:
    action = (fk.ondelete or "").upper()
    if action == "CASCADE":
        return (f"The database's key says ON DELETE CASCADE, but the ORM's UPDATE runs before the parent's DELETE: "
                "`passive_deletes=True` lets the database delete the children, `cascade=\"all, delete-orphan\"` has the ORM do it")
    if action == "SET NULL":
        return (f"The database's key says ON DELETE SET NULL on a NOT NULL column, which fails the same way: decide "
                f"whether the children go with the parent (a delete cascade) or {key} may be NULL")
    said = f"ON DELETE {action}" if action else "no ON DELETE"
    return (f"The database's key has {said}: give the relationship `cascade=\"all, delete-orphan\"`, or delete the "
            "children first in the same function")
