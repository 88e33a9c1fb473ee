"""Section 5: Data Integrity: business-rule uniqueness the database does not hold (issue 8, recall family 1)."""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from dataclasses import dataclass

from analyzers.facts.model import ColumnFact, Facts, Span, TableFact
from analyzers.facts.usage import SOFT_DELETE_COLUMNS
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules import helper_inserts
from analyzers.rules.code_use import app_queries, function_around
from analyzers.rules.examples_common import HEADER
from analyzers.rules.insert_paths import Fate, fate, one_writer
from analyzers.rules.s05_lost_updates import _ROW_LOCKS
from analyzers.rules.source_trees import source_tree
from analyzers.rules.schema import _mentions, _unique_keys, all_indexes, fk_columns, key_reads, migration_gaps, pins_key, table_sql


@dataclass(frozen=True, slots=True)
class _Key:
    columns: tuple[str, ...]
    span: Span
    what: str  # "unique constraint", "unique index ix_x"


def _keys(facts: Facts, table: TableFact) -> list[_Key]:
    """The unique keys of `table` over several plain columns, full (not partial), from the model and from the
    schema the migrations build; one per column tuple, the model's first."""
    out: dict[frozenset[str], _Key] = {}
    for t in (table, facts.migration_tables.get(table.name)):
        if t is None:
            continue
        for con in t.constraints:
            if con.kind == "unique" and len(con.columns) > 1:
                out.setdefault(frozenset(con.columns), _Key(con.columns, con.span, f"unique constraint{_named(con.name)}"))
        for ix in t.indexes:
            if ix.unique and not ix.where and not ix.where_python and len(ix.columns) > 1:
                out.setdefault(frozenset(ix.columns), _Key(ix.columns, ix.span, f"unique index{_named(ix.name)}"))
    for st in table_sql(facts, table.name):
        cols = tuple(st.details.get("columns") or ())
        if st.kind == "create_index" and st.details.get("unique") and not st.details.get("where") and len(cols) > 1:
            out.setdefault(frozenset(cols), _Key(cols, st.span, f"unique index{_named(st.details.get('name'))}"))
    return [k for k in out.values() if all(c.isidentifier() for c in k.columns)]


def _named(name) -> str:
    return f" {name}" if name and name != "None" else ""


def nullable_column(facts: Facts, table: TableFact, name: str) -> tuple[bool, ColumnFact | None]:
    """Is `name` nullable in the database: as the migrations build it where they do (a column made by raw SQL,
    whose NULL-ness the replay does not know, and one a migration's SQL sets NOT NULL, are not), else as the
    model declares it. A primary key column is NOT NULL."""
    model = table.columns.get(name)
    migrated_table = facts.migration_tables.get(table.name)
    migrated = migrated_table.columns.get(name) if migrated_table else None
    known = migrated is not None and not (migrated.type_name is None and migrated.nullable is None)
    col = migrated if known else model
    if col is None or col.primary_key or (model is not None and model.primary_key):
        return False, col
    for st in table_sql(facts, table.name):
        text = st.text.upper()
        if name.upper() in text and "NOT NULL" in text and st.kind != "create_index":
            return False, col  # ALTER COLUMN ... SET NOT NULL, or CREATE TABLE with it NOT NULL: not replayed
    return col.is_nullable, col


class NullableUniqueKey(Rule):
    """A unique key over several columns, one of which may be NULL, where the code shows NULL is a real case.

    What it checks:
        Unique constraints and unique indexes over several columns (in the model or the schema the migrations
        build; nullability as the migrations leave it where they build the table) with a nullable column, where
        either the application looks rows up by the key with that column `IS NULL` (`vocabulary_id.is_(None)`),
        or the column is a soft-delete column (`deleted_at`): live rows have NULL there. A unique index that
        holds the NULL case (a partial one `WHERE col IS NULL` over the other columns, or over them and more, an expression over the
        column such as `coalesce(col, '')`, or `NULLS NOT DISTINCT` / `postgresql_nulls_not_distinct=True`)
        clears it.
    Why it matters:
        SQL compares NULL with nothing, so PostgreSQL (before 15 and without NULLS NOT DISTINCT), MySQL and
        SQLite never count two rows with NULL in a key column as duplicates: `unique(name, vocabulary_id)` lets
        any number of rows named `economy` with no vocabulary in, and `unique(email, deleted_at)` never stops two
        live users with one email. The rule the constraint was written for holds for every row but those.
    Example:
        UniqueConstraint("name", "vocabulary_id")   # vocabulary_id nullable; the code looks tags up with it NULL
    Instead:
        A partial unique index over the other columns `WHERE col IS NULL` beside it (and, for soft delete, one
        `WHERE deleted_at IS NULL` in place of it), or `postgresql_nulls_not_distinct=True` on PostgreSQL 15+.
    """

    ID = "INT012"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODEL = HEADER + '''
class Vocabulary(Base):
    __tablename__ = "vocabularies"
    id: Mapped[int] = mapped_column(primary_key=True)
class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = ({},)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    vocabulary_id: Mapped[int | None] = mapped_column(ForeignKey("vocabularies.id"))
'''
    _CODE = '''
from sqlalchemy import select
from models import Tag
def free_tag(session, name):
    return session.scalars(select(Tag).where(Tag.name == name, Tag.vocabulary_id.is_(None))).first()
'''
    VALID = ({"models.py": _MODEL.format(
        'UniqueConstraint("name", "vocabulary_id"), Index("uq_free_tag", "name", unique=True, '
        'postgresql_where=text("vocabulary_id IS NULL"))').replace("import uuid", "import uuid\nfrom sqlalchemy import text"),
        "app/tags.py": _CODE},)
    INVALID = ({"models.py": _MODEL.format('UniqueConstraint("name", "vocabulary_id")'), "app/tags.py": _CODE},)

    def check(self):
        lookups = _null_lookups(self.facts)
        for table in list(self.facts.tables.values()):
            if table.unknown_bases or table.database:
                continue
            keys = _keys(self.facts, table)
            for key in keys:
                if _nulls_not_distinct(self.facts, key):
                    continue
                for name in key.columns:
                    nullable, col = nullable_column(self.facts, table, name)
                    if not nullable or col is None:
                        continue
                    others = tuple(c for c in key.columns if c != name)
                    if _null_case_held(self.facts, table, name, others):
                        continue
                    listed = ", ".join(key.columns)
                    found = next((q for q in lookups.get(table.name, ()) if name in q[1] and set(others) <= q[2]), None)
                    if found is not None:
                        q = found[0]
                        message = (
                            f"The {key.what} on {table.name} ({listed}) does not hold for rows whose {name} is NULL: SQL "
                            f"counts no two NULLs equal, so any number of {table.name} rows with the same "
                            f"{', '.join(others)} and no {name} can be inserted; yet {q.function} looks a row up by "
                            f"{', '.join(others)} with {name} IS NULL ({q.span.path}:{q.span.start}), as if there were one"
                        )
                        related = [(q.span, f"{q.function}: looked up with {name} IS NULL")]
                    elif _deleted_at(col):
                        message = (
                            f"The {key.what} on {table.name} ({listed}) never compares two live rows: a live row's {name} "
                            f"is NULL and SQL counts no two NULLs equal, so any number of live {table.name} rows with the "
                            f"same {', '.join(others)} can be inserted; it only stops duplicates among rows deleted at "
                            f"the same moment"
                        )
                        related = []
                    else:
                        continue
                    message += (f". A partial unique index on ({', '.join(others)}) WHERE {name} IS NULL "
                                + ("beside it holds it" if found is not None else "in its place holds it"))
                    yield self.finding(
                        message, key.span, f"table:{table.name}:nulls-distinct:{','.join(key.columns)}",
                        related=[*related, *([(col.span, f"{name} is nullable")] if col.span != key.span else [])],
                        unsure=migration_gaps(self.facts, table.name),
                    )
                    break


def _deleted_at(col: ColumnFact) -> bool:
    """A soft-delete time (`deleted_at`): NULL on every live row, unless a default fills it."""
    return (col.name in SOFT_DELETE_COLUMNS and col.name.endswith(("_at", "_on", "_date")) or col.name == "date_deleted") and (
        col.default in (None, "None") and col.server_default in (None, "None"))


def _null_lookups(facts: Facts) -> dict[str, list[tuple]]:
    """Per table: the application's queries that test a column IS NULL, as (query, columns tested IS NULL,
    columns compared with `==`), column names."""
    out: dict[str, list[tuple]] = {}
    for q, table in app_queries(facts):
        if not q.nulls or q.opaque_filter:
            continue
        names = {c.attr or c.name: c.name for c in table.columns.values()}

        def cols(attrs):
            return {names[a.rsplit(".", 1)[-1]] for a in attrs if a.rsplit(".", 1)[-1] in names}

        out.setdefault(table.name, []).append((q, cols(q.nulls), cols(q.equals)))
    return out


def _nulls_not_distinct(facts: Facts, key: _Key) -> bool:
    text = " ".join(facts.lines(key.span)).lower()
    return "nulls_not_distinct" in text or "nulls not distinct" in text


def _null_case_held(facts: Facts, table: TableFact, name: str, others: tuple[str, ...]) -> bool:
    """Does another unique key keep the NULL case unique: one over some of the other columns alone (partial
    or not: `unique(name) WHERE vocabulary_id IS NULL`), or one with an expression over the column
    (`coalesce(vocabulary_id, '')`)?"""
    for key in _unique_keys(facts, table):
        if not key:
            continue
        if any(not entry.isidentifier() and _mentions(entry, {name}) for entry in key):
            return True
        if set(key) <= set(others):
            return True
    # a partial unique index WHERE the column IS NULL over the other columns and more (`(organization_id, user_id)
    # WHERE workspace_id IS NULL`): the NULL case is kept unique, scoped as the application chose
    null = re.compile(rf"\b{re.escape(name)}\b\s+IS\s+NULL\b", re.I)
    partial = [(ix.columns, ix.where) for ix in all_indexes(table, facts) if ix.unique and not ix.where_python] + [
        (tuple(st.details.get("columns") or ()), st.details.get("where")) for st in table_sql(facts, table.name)
        if st.kind == "create_index" and st.details.get("unique")]
    return any(where and null.search(str(where)) and set(others) <= set(columns) for columns, where in partial)


_ONE_ROW = ("first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "scalar")
_STRICT = ("one", "one_or_none", "scalar_one", "scalar_one_or_none")  # they raise on a second row; first() picks one


class CheckThenInsert(Rule):
    """A function looks a row up and, when none is found, inserts one with the same values: with no unique key, or with one nothing meets.

    What it checks:
        In one function: a query of one model that fetches at most one row (`first()`, `one_or_none()`,
        `scalar()`...) by columns compared with `==` (or `filter_by`), and in the branch where nothing was found
        (`if not row:`, `if row is None:`, the `else` of `if row:`, or after `if row: return`) a constructor of
        the same model given the very same expressions for those columns (`Member(group_id=group.id, ...)` after
        `Member.group_id == group.id`), while no unique constraint, unique index or primary key is made of
        columns the lookup compares or the constructor sets (in the model or the migrations; a relationship it
        is given, `TaskUser(task=task)`, sets the foreign key columns to that relationship's table; a unique index's
        expression counts as made of the columns it reads, `COALESCE(parent_id, 0)` of one tested IS NULL too, as
        schema.pins_key says). A constructor inside
        a `try` that catches IntegrityError is left alone: the code meets the race itself; so is a lookup after the
        function takes a database lock (`with_for_update()` on a parent row, an advisory lock): the callers that take
        it check and insert one at a time. In a @classmethod of the
        model, its first parameter names the model (`cls.query.filter_by(name=name).first()`, then `cls(name=name)`).
        Where a unique key (or the primary key) is made of exactly the columns the lookup compares (nothing else
        tested, no join; not a surrogate `id`, which the caller may pass as None to mean a new row; not in test
        set-up or deploy/ scripts), the second insert fails with IntegrityError: reported (info, anchor `...:unguarded-insert`)
        unless the function meets that anywhere in it: an upsert (`on_conflict_do_nothing()`, ON CONFLICT),
        `merge()`, a savepoint (`begin_nested()`), SERIALIZABLE, a lock, or an except that catches IntegrityError,
        a DBAPI or SQLAlchemy error or any exception; or the row is saved by a helper it is handed to that meets it
        (`user.create_local_user()` with its own `except IntegrityError`); or every caller found calls the function
        inside a `try` whose handler names IntegrityError (where some do, the message names which do and which do
        not); or the application retries every request that fails on it (`pyramid_retry.mark_error_retryable(
        IntegrityError)`); or the function is a command of the command line (click, typer, Flask's cli) or is called
        only from the command-line tooling: one operator, no race. A function that runs only as the application
        starts (`init_db`, called from start-up hooks) is reported with that said: a race needs two processes
        starting together. A row built and returned that nothing saves (neither the function nor any caller found
        adds anything) is no insert: neither finding. A key over part of the lookup refuses the insert race or
        not: not this rule.
        The lookup and the insert may each sit in a module-level function of the project's (a repository layer),
        called one after the other by the same caller: `if repo.seat.is_taken(db, seat, show.id): raise ...` then
        `repo.seat.take(db, seat, show.id)`. Such a call is followed through the caller's imports, one level deep
        (`repo.seat.take` is `take` of repo/seat.py), to a lookup helper that runs the one-row query and returns its
        row or a test of it (`row is not None`, `bool(row)`, `not row`), its compared columns taken from its
        parameters, and to an insert helper that builds the same model once, outside a loop, and adds it, with
        those columns set from its parameters (keywords, `row.attr = param` after, or a parameter spread whole,
        `**seat.model_dump()`, which gives each field of that object). The parameters are mapped back to the
        caller's arguments (positional and keyword), and the caller must give both the same expressions for every
        looked-up column (the same object where one is spread) and change none of them in between. Everything
        above then holds of the caller: the branch, IntegrityError caught, locks, keys, command-line and start-up
        code. Where a helper cannot be resolved, or its parameters mapped, nothing is reported. Where the caller
        raises when the row is found (it refuses a second one), the race is a warning: the rule the code states
        does not hold.
    Why it matters:
        Two requests that run the function at once both find nothing and both insert: the check only holds
        for one caller at a time, and only a unique constraint holds for all. The next lookup then meets two
        rows: `one_or_none()` raises (a warning); `first()` picks one arbitrarily and the duplicate stays
        silently (info: the consequence on such code is a stray row, not a failure). With the key, the second
        caller gets an IntegrityError (a 500, a failed job) instead of the row the first one made.
    Example:
        member = session.query(Member).filter(Member.group_id == group.id, Member.user_id == user.id).first()
        if member is None:
            session.add(Member(group_id=group.id, user_id=user.id))    # no unique (group_id, user_id)
        # or UNIQUE (group_id, user_id) and nothing in the function catches the IntegrityError of the second insert
    Instead:
        A unique constraint over the looked-up columns, and an insert that meets it (`ON CONFLICT DO NOTHING`
        then a select, or a savepoint that catches IntegrityError and reads the row the other request made).
    """

    ID = "INT013"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODEL = HEADER + '''
class Member(Base):
    __tablename__ = "members"
    {}
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
'''
    _CODE = '''
from sqlalchemy import select
from models import Member
def join(session, group_id, user_id):
    member = session.scalars(select(Member).where(Member.group_id == group_id, Member.user_id == user_id)).first()
    if member is None:
        member = Member(group_id=group_id, user_id=user_id)
        session.add(member)
    return member
'''
    _KEYED = _MODEL.format('__table_args__ = (UniqueConstraint("group_id", "user_id"),)')
    _MET = _CODE.replace("        session.add(member)\n", """        try:
            with session.begin_nested():
                session.add(member)
        except IntegrityError:
            member = session.scalars(select(Member).filter_by(group_id=group_id, user_id=user_id)).one()
""").replace("from sqlalchemy import select", "from sqlalchemy import select\nfrom sqlalchemy.exc import IntegrityError")
    _REPO = '''
from sqlalchemy import select
from models import Member
def is_member(session, group_id, user_id):
    member = session.scalars(select(Member).filter_by(group_id=group_id, user_id=user_id)).first()
    return member is not None
def add_member(session, group_id, user_id):
    member = Member(group_id=group_id, user_id=user_id)
    session.add(member)
    return member
'''
    _ROUTE = '''
from app import repo
def join(session, group, user):
    if repo.is_member(session, group.id, user.id):
        raise ValueError("already a member")
    return repo.add_member(session, user_id=user.id, group_id=group.id)
'''
    VALID = ({"models.py": _KEYED, "app/members.py": _MET},
             {"models.py": _KEYED, "app/__init__.py": "", "app/repo.py": _REPO, "app/routes.py": _ROUTE.replace(
                 "    return repo.add_member(session, user_id=user.id, group_id=group.id)",
                 "    try:\n        return repo.add_member(session, user_id=user.id, group_id=group.id)\n"
                 "    except IntegrityError:\n        raise ValueError(\"already a member\")")})
    INVALID = ({"models.py": _MODEL.format(""), "app/members.py": _CODE}, {"models.py": _KEYED, "app/members.py": _CODE},
               {"models.py": _MODEL.format(""), "app/__init__.py": "", "app/repo.py": _REPO, "app/routes.py": _ROUTE})

    def check(self):
        seen: set[tuple[str, str, str]] = set()
        for q, table in app_queries(self.facts):
            if (q.statement != "select" or q.escapes or q.opaque_filter or q.columns_only or not q.equals
                    or not any(m in q.methods for m in _ONE_ROW) or table.unknown_bases or not q.function):
                continue
            names = {c.attr or c.name: c.name for c in table.columns.values()}
            attrs = {e.rsplit(".", 1)[-1] for e in q.equals}
            if any(a not in names for a in attrs):
                continue
            made = _insert_after(self.facts, q, attrs)
            if made is None or _locked_before(self.facts, q.span):
                continue
            line, keywords = made
            columns = tuple(sorted(names[a] for a in attrs))
            nulls = sorted({names[n.rsplit(".", 1)[-1]] for n in q.nulls if n.rsplit(".", 1)[-1] in names} - set(columns))
            given = set(columns) | _set_columns(self.facts, table, keywords)
            keys = [k for k in _unique_keys(self.facts, table) if pins_key(self.facts, table, k, given, nulls)]
            if keys:  # the database holds the duplicate out: the second insert fails, unless the function meets that
                exact = next((k for k in keys if pins_key(self.facts, table, k, set(columns), nulls)
                              and set(columns) <= key_reads(self.facts, table, k)), None)
                if exact and exact != ("id",) and not nulls and not q.joined \
                        and (q.span.path, q.function, table.name) not in seen and not _guarded(self.facts, q.span):
                    seen.add((q.span.path, q.function, table.name))
                    gone = fate(self.facts, q.span.path, q.function, line, functools.partial(_guarded, self.facts))
                    alone = one_writer(self.facts, q.span.path, q.span.start, q.function)
                    if (gone is None or not gone.met) and (alone is None or not alone[0]):
                        yield self._unguarded(q, table, exact, line, gone, alone[1] if alone else None)
                continue
            if (q.span.path, q.function, table.name) in seen:
                continue
            gone = fate(self.facts, q.span.path, q.function, line, functools.partial(_guarded, self.facts))
            if gone is not None and gone.kind == "unsaved":
                continue
            seen.add((q.span.path, q.function, table.name))
            listed = ", ".join(columns)
            made_at = Span(q.span.path, line, line)
            tested = f" (and {', '.join(f'{n} IS NULL' for n in nulls)})" if nulls else ""
            strict = next((m for m in q.methods if m in _STRICT), None)
            after = (f"and the next run of this lookup raises on the two rows (`{strict}()`)" if strict else
                     "and the table keeps both: this lookup's `first()` then returns one of them, which one is not "
                     "defined, and nothing fails")
            yield self.finding(
                f"{q.function} looks {table.class_name} up by {listed}{tested} and, when it finds none, creates one with the same "
                f"{listed} ({q.span.path}:{line}); no unique constraint or index of {table.name} covers ({listed}), so two "
                f"calls at once can both find nothing and both insert, {after}",
                q.span, f"function:{q.span.path}:{q.function}:{table.class_name}:check-then-insert",
                severity=Severity.WARNING if strict else Severity.INFO,
                related=[(made_at, "the insert with the same values")],
            )
        yield from self._through_helpers(seen)

    def _through_helpers(self, seen: set[tuple[str, str, str]]):
        """The same defect where the lookup and the insert each sit in a helper of the project's (a repository
        function), called one after the other by one function."""
        found = helper_inserts.lookups(self.facts, _ONE_ROW, _ROW_LOCKS)
        if not found:
            return
        names = {name for _, name in found}
        resolver = helper_inserts.Resolver(self.facts)
        inserts: dict[tuple[str, str, str], helper_inserts.Insert | None] = {}
        for path in helper_inserts.caller_paths(self.facts, names):
            tree = source_tree(self.facts, path)
            if tree is None:
                continue
            for caller in ast.walk(tree):
                if isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield from self._caller(path, tree, caller, found, inserts, resolver, seen)

    def _caller(self, path, tree, caller, found, inserts, resolver, seen):
        calls = sorted((n for n in helper_inserts._own_nodes(caller) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        resolved = {id(c): resolver.resolve(path, tree, c) for c in calls if isinstance(c.func, (ast.Name, ast.Attribute))}
        parents = {child: node for node in (caller, *helper_inserts._own_nodes(caller)) for child in ast.iter_child_nodes(node)}
        for look_call in calls:
            target = resolved.get(id(look_call))
            if target is None or (target[0], target[1].name) not in found:
                continue
            (look,) = found[(target[0], target[1].name)]
            look_args = helper_inserts.bind(look_call, look.func)
            if look_args is None or (path, caller.name, look.table.name) in seen:
                continue
            for ins_call in calls:
                other = resolved.get(id(ins_call))
                if other is None or ins_call.lineno <= (look_call.end_lineno or look_call.lineno) or other[1] is look.func:
                    continue
                key = (other[0], other[1].name, look.table.name)
                if key not in inserts:
                    inserts[key] = helper_inserts.insert_of(self.facts, other[0], other[1], look.table, _GUARDS)
                ins = inserts[key]
                if ins is None:
                    continue
                finding = self._helper_pair(path, caller, look, look_call, look_args, ins, ins_call, parents)
                if finding is not None:
                    seen.add((path, caller.name, look.table.name))
                    yield finding
                    break

    def _helper_pair(self, path, caller, look, look_call, look_args, ins, ins_call, parents):
        ins_args = helper_inserts.bind(ins_call, ins.func)
        if ins_args is None:
            return None
        for attr, spec in look.columns.items():
            want = helper_inserts.given(spec, look_args)
            if want is None:
                return None
            if attr in ins.sets:
                if helper_inserts.given(ins.sets[attr], ins_args) != want:
                    return None
            elif not (ins.spread and spec[0] == "pa" and ins.spread in ins_args
                      and ast.dump(ins_args[ins.spread]) == ast.dump(look_args[spec[1]])):
                return None
        # the caller's values stay the same between the two calls
        bases = {n.id for spec in look.columns.values() for n in ast.walk(look_args[spec[1]]) if isinstance(n, ast.Name)}
        start, end = look_call.end_lineno or look_call.lineno, ins_call.lineno
        for node in helper_inserts._own_nodes(caller):
            if not (start < getattr(node, "lineno", 0) < end):
                continue
            targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                       if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)) else [])
            for t in targets:
                for n in _assigned(t):
                    if isinstance(n, ast.Name) and n.id in bases:
                        return None  # `slot = other_slot`
                    if isinstance(n, ast.Attribute) and n.attr in look.columns:
                        return None  # `slot.start = ...`: another value looked up than inserted
        bound = set()
        holder = parents.get(look_call)
        if isinstance(holder, ast.Await):
            holder = parents.get(holder)
        if isinstance(holder, ast.Assign) and len(holder.targets) == 1 and isinstance(holder.targets[0], ast.Name):
            bound = {holder.targets[0].id}
        if _catches_integrity_error(ins_call, parents) or not _where_not_found(ins_call, parents, bound, look_call.lineno,
                                                                                 call=look_call, polarity=look.polarity):
            return None
        span = Span(path, look_call.lineno, look_call.lineno)
        if _locked_before(self.facts, span):
            return None
        table, q = look.table, look.q
        names = {c.attr or c.name: c.name for c in table.columns.values()}
        if any(a not in names for a in look.columns):
            return None
        columns = tuple(sorted(names[a] for a in look.columns))
        nulls = sorted({names[n.rsplit(".", 1)[-1]] for n in q.nulls if n.rsplit(".", 1)[-1] in names} - set(columns))
        given = set(columns) | _set_columns(self.facts, table, set(ins.sets))
        if ins.spread:
            # a schema spread whole may give any column but the primary key (a new row's, the database's to number)
            given |= {c.name for c in table.columns.values() if not c.primary_key}
        listed = ", ".join(columns)
        line = ins_call.lineno
        con = Span(ins.path, ins.line, ins.line)
        look_where = f"{look.func.name} ({q.span.path}:{q.span.start})"
        ins_where = f"{ins.func.name} ({ins.path}:{ins.line})"
        related = [(q.span, f"the lookup in {look.func.name}"), (con, f"the insert in {ins.func.name}"),
                   (Span(path, line, line), f"the call of {ins.func.name}")]
        keys = [k for k in _unique_keys(self.facts, table) if pins_key(self.facts, table, k, given, nulls)]
        if keys:
            exact = next((k for k in keys if pins_key(self.facts, table, k, set(columns), nulls)
                          and set(columns) <= key_reads(self.facts, table, k)), None)
            if not exact or exact == ("id",) or nulls or _guarded(self.facts, span):
                return None
            gone = fate(self.facts, path, caller.name, line, functools.partial(_guarded, self.facts))
            alone = one_writer(self.facts, path, look_call.lineno, caller.name)
            if (gone is not None and gone.met) or (alone is not None and alone[0]):
                return None
            listed = ", ".join(sorted(key_reads(self.facts, table, exact)))
            pk = tuple(c.name for c in table.columns.values() if c.primary_key)
            what = "primary key" if set(pk) == set(exact) else "unique key"
            said = f": {gone.text}" if gone is not None else ", unless a caller catches it"
            said += f"; but {alone[1]}" if alone else ""
            return self.finding(
                f"{caller.name} looks {table.class_name} up by {listed} through {look_where} and, when it finds none, "
                f"inserts one with the same {listed} through {ins_where}; the {what} ({', '.join(sorted(exact))}) of "
                f"{table.name} holds the duplicate out, but nothing in {caller.name} meets it (no ON CONFLICT, no lock, "
                "no savepoint, no `except IntegrityError`): when two calls run at once both find nothing and the "
                f"second's INSERT fails with IntegrityError, a failed request or job instead of the row the first one made{said}",
                span, f"function:{path}:{caller.name}:{table.class_name}:unguarded-insert", severity=Severity.INFO,
                related=[*related, *(gone.related if gone is not None else ())],
            )
        tested = f" (and {', '.join(f'{n} IS NULL' for n in nulls)})" if nulls else ""
        strict = next((m for m in q.methods if m in _STRICT), None)
        refused = _refused_when_found(look_call, parents, bound, look.polarity)
        if strict:
            after = f"and the next run of this lookup raises on the two rows (`{strict}()`)"
        elif refused:
            after = "though the caller raises when it finds one: the second row it refuses gets in all the same"
        else:
            after = ("and the table keeps both: this lookup's `first()` then returns one of them, which one is not "
                     "defined, and nothing fails")
        return self.finding(
            f"{caller.name} looks {table.class_name} up by {listed}{tested} through {look_where} and, when it finds none, "
            f"creates one with the same {listed} through {ins_where} ({path}:{line}); no unique constraint or index of "
            f"{table.name} covers ({listed}), so two calls at once can both find nothing and both insert, {after}",
            span, f"function:{path}:{caller.name}:{table.class_name}:check-then-insert",
            severity=Severity.WARNING if strict or refused else Severity.INFO, related=related,
        )

    def _unguarded(self, q, table: TableFact, key: tuple[str, ...], line: int, callers: Fate | None, starts: str | None):
        listed = ", ".join(sorted(key_reads(self.facts, table, key)))  # an expression's columns: the values looked up
        pk = tuple(c.name for c in table.columns.values() if c.primary_key)
        what = "primary key" if set(pk) == set(key) else "unique key"
        said = (f": {callers.text}", callers.related) if callers is not None else (", unless a caller catches it", ())
        said = (said[0] + (f"; but {starts}" if starts else ""), said[1])
        return self.finding(
            f"{q.function} looks {table.class_name} up by {listed} and, when it finds none, inserts one with the same "
            f"{listed} ({q.span.path}:{line}); the {what} ({', '.join(sorted(key))}) of {table.name} holds the duplicate out, but nothing "
            f"in {q.function} meets it (no ON CONFLICT, no lock, no savepoint, no `except IntegrityError`): when two calls "
            "run at once both find nothing and the second's INSERT fails with IntegrityError, a failed request or job "
            f"instead of the row the first one made{said[0]}",
            q.span, f"function:{q.span.path}:{q.function}:{table.class_name}:unguarded-insert",
            severity=Severity.INFO, related=[(Span(q.span.path, line, line), "the insert the unique key can refuse"), *said[1]],
        )


# What in a function meets a refused insert: an upsert, a merge, a savepoint, a serializable transaction, a lock, or an
# except that catches the error (by name, or any exception).
_GUARDS = re.compile(r"IntegrityError|UniqueViolation|on_conflict|ON\s+CONFLICT|\.merge\(|begin_nested|SERIALIZABLE"
                     r"|except\s*:|except\s*\(?\s*(Exception|BaseException|\w*SQLAlchemyError|\w*DBAPIError|\w*DatabaseError)\b")


def _guarded(facts: Facts, span: Span) -> bool:
    """Does the function around `span` meet a second insert the unique key refuses, anywhere in it?"""
    _, lines = function_around(facts, span)
    return any(_GUARDS.search(line.partition("#")[0]) or _ROW_LOCKS.search(line.partition("#")[0]) for line in lines)


def _locked_before(facts: Facts, span: Span) -> bool:
    """The function takes a database lock before its lookup (`select(Org).filter_by(id=org_id).with_for_update()`,
    an advisory lock): callers that take the same lock run the check and the insert one after the other."""
    first, lines = function_around(facts, span)
    return any(_ROW_LOCKS.search(line.partition("#")[0]) for line in lines[:span.start - first])


def _set_columns(facts: Facts, table: TableFact, keywords: set[str]) -> set[str]:
    """The columns a constructor's keywords set: a column's attribute, or a relationship's (`human_task=task`
    sets human_task_id, the foreign key to the table it loads)."""
    names = {c.attr or c.name: c.name for c in table.columns.values()}
    out = {names[k] for k in keywords if k in names}
    for rel in table.relationships:
        if rel.attr not in keywords or rel.secondary:
            continue
        target = next(({t.name, t.class_name} for t in facts.tables.values() if rel.target in (t.class_name, t.name)), set())
        out |= {c.name for c in table.columns.values() if any(fk.table in target for fk in c.foreign_keys)}  # "HumanTask.id" too
        out |= {n for con in table.constraints if con.kind == "foreign_key" and (con.target or "").rsplit(".", 1)[0] in target
                for n in con.columns}
    return out


def _insert_after(facts: Facts, q, attrs: set[str]) -> tuple[int, set[str]] | None:
    """Where the function of `q` builds its model in the branch where `q` found nothing, with the same expressions
    for every attribute in `attrs` that the lookup compares them with: (its line, the keywords it passes)."""
    first, lines = function_around(facts, q.span)
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError, RecursionError):
        return None
    at = q.span.start - first + 1  # the query's line in the parsed text
    model = {q.model, *_class_parameter(facts, q, first, tree)}
    compared: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            for side, value in ((node.left, node.comparators[0]), (node.comparators[0], node.left)):
                if isinstance(side, ast.Attribute) and _names_model(side.value, model):
                    compared.setdefault(side.attr, set()).add(ast.dump(value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "filter_by":
            for kw in node.keywords:
                if kw.arg:
                    compared.setdefault(kw.arg, set()).add(ast.dump(kw.value))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    bound = set(q.instances)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _names_model(node.func, model) and node.lineno > at):
            continue
        given = {kw.arg: ast.dump(kw.value) for kw in node.keywords if kw.arg}
        if not all(a in given and given[a] in compared.get(a, ()) for a in attrs):
            continue
        if _catches_integrity_error(node, parents) or not _where_not_found(node, parents, bound, at):
            continue
        return node.lineno + first - 1, set(given)
    return None


def _names_model(node, model: set[str]) -> bool:
    return (isinstance(node, ast.Name) and node.id in model) or (isinstance(node, ast.Attribute) and node.attr in model)


def _class_parameter(facts: Facts, q, first: int, tree: ast.Module) -> list[str]:
    """The first parameter of a @classmethod of the queried model's own class (`cls`): `cls.query.filter_by(...)`
    and `cls(name=name)` in `Tag.get_or_create` look Tag up and make one."""
    func = tree.body[0] if tree.body else None
    if not q.own_class or not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not func.args.args:
        return []
    above = first - 1
    while above >= 1 and (line := facts.lines(Span(q.span.path, above, above))[0].strip()).startswith("@"):
        if re.match(r"@(\w+\.)*classmethod\b", line):
            return [func.args.args[0].arg]
        above -= 1
    return []


def _absent_test(test, bound: set[str], at: int, call=None, polarity: str = "row") -> bool | None:
    """True when `test` holds where the lookup found nothing (`not row`, `row is None`), False where it found one
    (`row`, `row is not None`), None when it is no test of the lookup's result. With `call`, the result is that
    call's (a helper's), which gives the row (polarity "row"), True when found ("found") or True when none was
    found ("absent")."""
    def of_result(node) -> bool:
        if call is not None:
            return node is call or (isinstance(node, ast.Name) and node.id in bound)
        return (isinstance(node, ast.Name) and node.id in bound) or (
            isinstance(node, ast.Call) and getattr(node, "lineno", 0) <= at <= getattr(node, "end_lineno", 0))

    flip = polarity == "absent"
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and of_result(test.operand):
        return not flip
    if of_result(test):
        return flip
    if polarity != "row":
        return None
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and of_result(test.left)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
        if isinstance(test.ops[0], (ast.Is, ast.Eq)):
            return True
        if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
            return False
    return None


def _assigned(target):
    """The names and attributes an assignment's target writes (the elements of a tuple target)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _assigned(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned(target.value)
    else:
        yield target


def _refused_when_found(call, parents, bound: set[str], polarity: str) -> bool:
    """Does the caller raise where the helper's lookup found a row (`if repo.exists(...): raise Conflict`, or
    `found = repo.find(...)` then `if found: raise Conflict`)?"""
    up = parents.get(call)
    while up is not None and not isinstance(up, (ast.If, ast.FunctionDef, ast.AsyncFunctionDef)):
        up = parents.get(up)
    if not isinstance(up, ast.If):
        tests = sorted((n for n in parents.values() if isinstance(n, ast.If) and n.lineno > call.lineno
                        and _absent_test(n.test, bound, call.lineno, call=call, polarity=polarity) is not None),
                       key=lambda n: n.lineno) if bound else []
        if not tests:
            return False
        up = tests[0]
    absent = _absent_test(up.test, bound, call.lineno, call=call, polarity=polarity)
    branch = up.body if absent is False else up.orelse if absent is True else []
    return bool(branch) and isinstance(branch[-1], ast.Raise)


def _where_not_found(node, parents, bound: set[str], at: int, call=None, polarity: str = "row") -> bool:
    """Is `node` in the branch where the lookup found nothing: the body of `if not row:`, the else of `if row:`,
    or after an `if row: return ...` in the same block?"""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.If):
            absent = _absent_test(parent.test, bound, at, call, polarity)
            if absent is True and child in parent.body or absent is False and child in parent.orelse:
                return True
        for field in ("body", "orelse"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and child in block:
                for earlier in block[:block.index(child)]:
                    if (isinstance(earlier, ast.If) and _absent_test(earlier.test, bound, at, call, polarity) is False and earlier.body
                            and isinstance(earlier.body[-1], (ast.Return, ast.Raise)) and not earlier.orelse):
                        return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        child, parent = parent, parents.get(parent)
    return False


def _catches_integrity_error(node, parents) -> bool:
    parent = parents.get(node)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(parent, ast.Try) and any("IntegrityError" in ast.dump(h.type) for h in parent.handlers if h.type):
            return True
        parent = parents.get(parent)
    return False


class NoPrimaryKey(Rule):
    """A table has no primary key in the schema the migrations build (or, without migrations, its Core `Table`).

    What it checks:
        Tables as the migrations leave them (where the migrations build the table), else `Table(...)`
        definitions of the models that no class maps, with no primary key and no unique key: nothing keeps two
        rows apart. A mapped class without a key dbreview sees is left alone (the mapper needs one: it comes from
        something dbreview does not read). A table whose SQL the migrations hold with PRIMARY KEY, made by SQL dbreview reads by
        name only, or a partition, is left alone. The static twin of `dbreview verify`'s VER012, which reads the
        real catalogue.
    Why it matters:
        Two identical rows cannot be updated or deleted one at a time; a link table stores the same pair twice
        (a collection shows it twice, and removing it deletes both, or SQLAlchemy's StaleDataError); a model
        whose mapper names a key the table does not keep loads two rows with that key as one; and PostgreSQL's
        logical replication refuses UPDATE and DELETE on a published table without a replica identity.
    Example:
        op.create_table("tag_links", sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id")), sa.Column("tag_id", ...))
    Instead:
        A primary key (for a link table, over its two foreign keys), in the model and in a migration.
    """

    ID = "INT014"
    ITEM = "5.5"
    SEVERITY = Severity.WARNING
    _MODEL = HEADER + '''
from sqlalchemy import Column, Table
class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
tag_links = Table(
    "tag_links", Base.metadata,
    Column("post_id", ForeignKey("posts.id"){}),
    Column("tag_id", ForeignKey("tags.id"){}),
)
'''
    VALID = ({"models.py": _MODEL.format(", primary_key=True", ", primary_key=True")},)
    INVALID = ({"models.py": _MODEL.format("", "")},)

    def check(self):
        for name in sorted({*self.facts.tables, *self.facts.migration_tables}):
            model, migrated = self.facts.tables.get(name), self.facts.migration_tables.get(name)
            table = migrated if migrated is not None else model
            if table is None or table.from_sql or table.partition_of or not table.columns or _has_primary_key(table):
                continue
            if model is not None and (model.unknown_bases or model.database or (migrated is None and model.from_sql)):
                continue
            if migrated is None and (model.class_name or _migrations_touch(self.facts, name)):
                continue  # a mapped class has a key the mapper needs (from where dbreview cannot read); a table the
                # migrations change but do not build was built where dbreview cannot see
            if any("PRIMARY KEY" in st.text.upper() for st in table_sql(self.facts, name)):
                continue  # a key added by SQL the replay does not apply
            if any(key for key in _database_keys(self.facts, table)):
                continue  # a unique key keeps the rows apart (but those with NULL in it, INT012's concern)
            source = "as the migrations build it" if migrated is not None else "in its Table definition"
            mapped = [c.name for c in (model.columns.values() if model is not None and migrated is not None else ()) if c.primary_key]
            links = [c.name for c in fk_columns(table)]
            severity = None
            if mapped:
                consequence = (f"the model maps ({', '.join(mapped)}) as its key, which the database does not keep unique: "
                               f"two rows with the same {', '.join(mapped)} load as one object")
            elif len(links) >= 2:
                consequence = (f"the same ({', '.join(links[:2])}) can be stored twice, and one of two equal rows cannot be "
                               "deleted alone")
            else:
                consequence = ("nothing keeps two equal rows apart (one cannot be updated or deleted alone), and logical "
                               "replication refuses UPDATE and DELETE on it without a replica identity")
                severity = Severity.INFO
            yield self.finding(
                f"{name} has no primary key {source} and no unique key: {consequence}",
                (model.span if model is not None and migrated is None else table.span), f"table:{name}:no-primary-key",
                severity=severity,
                related=[(model.span, "the model")] if model is not None and migrated is not None else (),
                unsure=migration_gaps(self.facts, name) if migrated is not None else (),
            )


def _database_keys(facts: Facts, table: TableFact):
    """The unique keys of `table` itself (the replayed table, or a Table of the models), not partial, and those
    CREATE UNIQUE INDEX in migration SQL makes."""
    yield from ((c.name,) for c in table.columns.values() if c.unique)
    yield from (con.columns for con in table.constraints if con.kind == "unique")
    yield from (ix.columns for ix in table.indexes if ix.unique and not ix.where and not ix.where_python)
    for st in table_sql(facts, table.name):
        if st.kind == "create_index" and st.details.get("unique") and not st.details.get("where"):
            yield tuple(st.details.get("columns") or ())


def _migrations_touch(facts: Facts, name: str) -> bool:
    return bool(table_sql(facts, name)) or any(op.table == name for r in facts.revisions for op in r.upgrade)


def _has_primary_key(table: TableFact) -> bool:
    return any(c.primary_key for c in table.columns.values()) or any(c.kind == "primary_key" for c in table.constraints)
