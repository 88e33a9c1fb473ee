"""Section 8: Performance Considerations (indexes on foreign keys and JSONB)."""

from __future__ import annotations

import ast
import re

from analyzers.findings import Finding, Severity, identity_key
from analyzers.rules.base import Rule
from analyzers.facts.core_tables import CORE
from analyzers.rules.code_use import (
    app_queries, app_usage, function_around, mapped_names, soft_delete_column, soft_deleted_at, uses_async_sessions,
)
from analyzers.facts.usage import SOFT_DELETE_COLUMNS, _sessionish
from analyzers.rules.source_trees import source_tree
from analyzers.rules.examples_common import HEADER
from analyzers.facts.predicates import predicate_terms
from analyzers.rules.fk_reads import (
    GIVEN_BASE, NO_CALL, UNREAD_BASE, Read, asserted_with, built_apart, deletes, fk_reads, joined_with, pinned_with, query_values, string_literals,
    tested_with,
    uncalled_function, unresolved_delete, values_with,
)
from analyzers.facts.engines import engines
from analyzers.facts.guards import chain_finds
from analyzers.facts.json_context import followed
from analyzers.facts.paths import is_one_off_path, tooling_kind
from analyzers.facts.model import ColumnFact, Facts, Span, TableFact, Unread
from analyzers.rules.growth import configuration_named, growth, no_adds_said, stays_small
from analyzers.rules.indexes import Key, mysql_default, table_keys
from analyzers.rules.runs_on import runs_on
from analyzers.rules.sql_fk_reads import sql_compared, sql_reads
from analyzers.rules.mentions import mentions
from analyzers.rules.n_plus_one import DEFAULT_LAZY, declared_lazy, lazy_loop_reads, many_to_one
from analyzers.rules.schema import (
    all_indexes, app_calls, column_anchor, first_line, fk_columns, index_leads, is_test_path, is_tooling_path, key_lookup, made_for_mysql,
    migrated_column, migration_gaps, migration_sql, python_paths, table_sql, where_declared,
)


class ForeignKeyWithoutIndex(Rule):
    """A foreign key column has no index.

    What it checks:
        Columns with a foreign key that lead no index (from `index=True`, `__table_args__`, or the
        migrations as replayed, dropped indexes included), and are not the first column of the primary
        key or a unique constraint (one whose `index=`/`unique=` is an expression of its class, a mixin's
        `index=not cls.__email_unique__`, may be indexed: nothing is said); in a composite foreign key, an index led by another of its columns,
        or whose leading columns are its columns in any order, serves it; it is one key, reported once at
        its first column, naming its columns (an index led by them in order serves it). A warning when the
        application reads the table by the column: an ORM query or bulk `delete()`/`update()` looks rows
        up by it (`==`, `in_()`, `is_()`, `filter_by`; a many-to-one relationship or the backref another class's
        relationship gives the model, `filter_by(owner=user)` of `relationship("Note", backref="owner")`, compares
        its key column; a call of a class method that hands its keywords to its class's query, `Dog.get_or_create(owner=o)`
        where the method, the model's or a base class's, runs `cls.query.filter_by(**kwargs)`, filters by them; not `!=`, a
        bare attribute, or a test in a sort key only, an argument of `order_by()`
        or a name a function uses only there; a value a call of the
        project's gives is a value all the same; a model imported under another name, `import Bookmark as
        Marks`, is read through that name where no two imports give it to two models; SQLAlchemy Core
        statements on a Table's variable count as
        well: `sa.select(t).where(t.c.fk == x)`, `t.delete()`, `t.update()`, `Model.__table__.c.fk`, a join in
        `select_from(a.join(b, on))`; so does `t.c.fk == x` compared with a value anywhere in the code (a dynamic
        relationship's `self.rel.select().where(t.c.fk == x)`), and `a.fk == x` where `a = aliased(Model)`; raw SQL the application sends, read with pglast, where a condition and-ed at the top of
        a WHERE or a join's ON compares the column, by its table's name or alias or unqualified where one table of the
        FROM has it, with a value: `= :v`, `IN (...)`, `= ANY(:v)`), or its joins make it equal to a column the query compares
        with a value (`.join(Post.tags).filter(Tag.id == t)` finds link rows by tag_id), or a join goes
        into the table through it (the table joined to, by `.join(Table, condition)` or a relationship; not
        a table the join starts from, whose rows come first), a Row-Level Security policy's USING test
        compares it (every query of the table), or a relationship (one-to-many, reverse one-to-one,
        `secondary`, by keyword or as relationship()'s second argument, named by table or by the variable its
        `Table(...)` is assigned to, a backref; to a subclass with no table of its own, its parent's; SQLModel's `sa_relationship_kwargs` are its keywords) loads
        rows by it where the code reads that relationship (a loader option named by a string, on the
        query's entity; a field of its name in an API read model named after its class, a pydantic, SQLModel or
        marshmallow schema not itself mapped, `TeamRead.people` of `Team`, which serializing a response reads; a
        schema's field dbreview cannot tie to the class is said as such) or deletes rows of its class (which loads it; also through a base class's
        helper called on an object the code shows is of that class; `self.<name>` in a method of the class or of a base
        class of it, a mixin's, or of a class whose `class Meta: model = X` names it, a graphene-sqlalchemy object type's
        resolver, reads it), shown as related locations, the message saying where the code reads it. A
        relationship whose name the code reads only on objects dbreview cannot type (another class may have an attribute
        of that name), or only through code that walks every relationship of a mapper, has no read it can show: an info
        that names where the name is read (and the delete, if one loads it). A read
        (a join into the table too) that also compares with a value (itself or through its joins) the leading column of an index (or
        key) that holds the foreign key after it, or of another index (not a flag's), finds its rows
        through that index and is not counted; nor is a join that ties the foreign key only to tables it
        ties that index's leading column to as well (`and_(Step.plan_id == Run.plan, Step.org_id == Run.org_id)`
        with a key led by org_id, the whole key in any order or its leading columns), or that ties the leading column
        to a table the query narrows by a value (`ON t.user_id = u.id AND t.app_id = a.id ... WHERE u.email = :e`,
        where no value gives the foreign key itself): a plan that comes to
        the table through the foreign key looks it up through that key; otherwise a join to another table's
        column gives it no value (where
        the query narrows that table by another column, whether the plan finds its rows first dbreview
        cannot tell, and says so; so too of a join out of the table by the key to a table the query narrows by
        another column, `select(User).join(Group, Group.id == User.group_id).where(Group.banned)`: an info; and a subquery's
        test of the enclosing query's table, `.where(Group.id == User.group_id).scalar_subquery()`, reads Group, not
        User, whose row is found already, as does such a test anywhere in the code, in a subquery that reads Group
        (selects from it, `select_from()`, a join) and that `.scalar_subquery()`, `.exists()`, `.correlate()`,
        `.correlate_except()` or `.lateral()` ends; not `.subquery()`, which in a FROM reads User too); nor is a policy's test counted where every query of the table that
        dbreview follows compares such a column (or tests it by a range, `expires_at < now`, in a query that joins
        nothing; `session.get(Model, key)` compares the primary key); a read with a condition dbreview cannot read, on a table
        with such an index, is one it cannot tell about. Nor is a read that keeps to the predicate of a
        partial index that holds the column (its conditions, or the relationship's primaryjoin, assert
        each of the predicate's terms: `col IS NULL`, `col IS NOT NULL`, `col = <constant>`, and-ed; a
        test by `==` or `in_()` asserts `col IS NOT NULL`; any other predicate serves no read); nor a
        test under NOT (`not_()`, `~`; not a subquery's own filter under it), which no index on the column
        serves; nor a test in a CASE or in the values an UPDATE or INSERT sets (`.values(by=case((T.by.is_(None), x),
        else_=T.by))`), which computes a value for each row the statement finds otherwise and finds none; nor a relationship no code reads (a schema's field of a scalar type, `items: str`, holds
        none of its rows; a module named `relationships` walks no mapper), nor a read or delete in a module
        function nothing in the application calls (INT010's call facts). A scanning read that also
        compares columns no index leads names them (an index led by one of them serves it too); a test
        in an OR says that an index serves it only if every branch has one; one in an OR whose other branch tests
        another table's column, or a flag most rows share (`or_(T.fk == x, T.archived.is_(False))`), is no read an
        index on the key would serve, and is said as such. Conditions gathered in a list (`conds = [T.a == x]`,
        `conds.append(T.fk == y)`) that a filter and-s (`.where(*conds)`, `.where(and_(*conds))`) are weighed together:
        those the block binding the list adds are and-ed with every later one. A delete of an object whose class
        dbreview cannot tell (`session.delete(thing)`) is said, not counted as a load of the relationship (a variable
        named for a class that exists holds that class, `user_role` a UserRole, not a User; what a helper returns is
        not of the class of what it is given, `user_role = role_of(user)`); one of the
        object a many-to-one relationship holds (`session.delete(task.config)`) deletes a row of the class every
        relationship of that name loads; a call of a base class's deleting helper deletes only where the class the
        name last holds has no method of that name of its own (a soft delete). Info, saying
        what decides the cost, where every scanning read is the load of a relationship no code reads that deleting a
        parent row through the ORM makes (it comes with the parent's deletes, as the key check does), or where every
        scanning read is a query that also compares with a value a column no index leads, which another query of the
        table compares without the key, beside no indexed column and as the one column it narrows by (not a flag; one
        that narrows by several is served by an index led by any of them) (an index led by that column, which that query
        needs, serves them too: `Cost.trip_id == t, Cost.kind_id == k` beside `Cost.trip_id == t`). Info otherwise, naming what
        dbreview found (the index that serves the reads, every partial index led by the column, the
        relationship nothing reads, the code nothing calls, a read with a condition it could not read)
        and what it did not follow (queries of the class whose filters it could not read, SQL naming the
        table and the column that pglast cannot parse or that tests the column under OR or NOT or not by equality (SQL
        that tests only other tables' columns is no read and is not named; one that makes the column equal to a column
        of a table the same query level narrows by a value is a join whose plan dbreview cannot tell, said as such), the
        class and the column named in strings, as a filter built from names at
        run time has them, the column named in a string in a function that hands the class to a call (`fields =
        ["owner_id"]` beside `_add_filters(q, model=Dog, ...)`), the column looked up by name on a model handed in and
        compared, as a generic repository does, or compared on a Table it cannot tie to the models, `self.t.c.owner_id ==
        x` of a reflected table; where the column's own name is so named, the finding does not say that no query reads
        by it, only that the code may, in shapes it does not follow): the only scan of the table by the key it can show
        is the foreign key check on deleting a parent row
        (and, for a relationship that has neither passive_deletes= nor viewonly=True, the load of it that deleting a
        parent through the ORM makes), at a cost set by its size, which dbreview cannot know, and none where no code of
        the application deletes the parent (soft-deleted only, or never deleted; a delete through a helper counts: a
        query rebound to what a helper makes of it, `q = with_id(q, id)`, then `q.delete()`, or a helper that deletes
        rows of the class handed to it, `self._destroy(models.Goal, id)`). It says what it found, never that
        there is no other read: reads in shapes it does not follow (a model's own query helpers, a relationship it
        cannot tie to the key, a correlated subquery) it says it cannot rule out. No finding at all where nothing found scans the table by the key and the table it references is a lookup
        the application keeps as the migrations made it: they insert its rows, and no application code adds a row to
        it (growth, as below) or deletes one (statuses, key types): the key check never runs in the application, and a
        key to a handful of rows, most rows sharing each, is one an index serves few reads by.
        SQLModel's `Field(ForeignKey(...))` makes the ForeignKey the field's default (its one
        positional argument): the column has no foreign key; `Field(foreign_key=...)` declares one.
        A join from the table to its parent, or to an alias of it (`creator = aliased(User)`, `.outerjoin(creator,
        Note.created_by == creator.id)`, a self join too), uses the parent's primary key and is not counted (one to a parent the
        query narrows by another column is said, as above). Where the
        configuration defaults to MySQL/MariaDB, the migrations create tables with `mysql_engine=`, or the
        application names MySQL and no PostgreSQL (`scan --explain-layout`), InnoDB indexes foreign keys itself:
        one info lists what PostgreSQL deployments would lack.
        A scanning read is a warning only where the table grows with use, as the code shows: the application (not
        its migrations, tests, scripts, seed or fixture functions, command-line tools) adds rows to it, by
        constructing its class (`Appointment(...)`, `cls(...)` in its own methods, `self.model_attr(...)` where the
        class holds it in that attribute, a subclass of it, with a table of its own or not), a Core insert (`insert(T)`,
        `t.insert()`, `bulk_insert_mappings(T, ...)`), SQL `INSERT INTO t`, or, for an association table, appending
        to or assigning a relationship through it. The warning does not name where: that place is found by a class's
        or a relationship's name, which another table may share, so it is not shown as evidence. Where dbreview found none, it is an info
        that says so, and names the migration that seeds the table if one does (a catalog: a scan of a small table
        costs what an index lookup does); where the code makes rows of a class it cannot tell (`self.model(**data)`
        in a repository), the info says that how the table grows dbreview cannot tell. Nor is it a warning where the
        class's or the table's name ends in a word of configuration (`ExtractionRule`, `search_settings`,
        `assoc_notification_filters`: rule, template, config, setting, preference, policy, definition, category, filter,
        webhook, snippet, preset, type; not label or tag, which a link to a growing table may be named by), unless a
        word of the name says its rows are a user's own (`UserSetting`, which grows with the users): rules, templates and settings are written by hand and stay few, where a scan costs
        about what an index lookup does; an info that says the name is all dbreview goes by there.
    Why it matters:
        PostgreSQL does not index foreign keys by itself: every filter on the column, and every load of
        a parent's children, scans the table, and every DELETE or key UPDATE on the parent scans it to
        check references.
    Example:
        provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    Instead:
        `mapped_column(ForeignKey("providers.id"), index=True)`, or a composite index led by it.
    """

    ID = "PERF001"
    ITEM = "8.1"
    SEVERITY = Severity.WARNING
    VALID = (HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
''',)
    INVALID = ({"app/models.py": HEADER + '''
class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
''', "app/booking.py": '''
from sqlalchemy import select
from app.models import Appointment


def book(session, provider_id):
    session.add(Appointment(provider_id=provider_id))  # the table grows with use


def agenda(session, provider_id):
    return session.scalars(select(Appointment).where(Appointment.provider_id == provider_id)).all()  # a scan: a warning
''', "app/views.py": '''
from app.booking import agenda, book
PAGES = {"agenda": agenda, "book": book}
'''}, HEADER + '''
class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments: Mapped[list["Appointment"]] = relationship()  # loads appointments by provider_id


class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
''',)

    def check(self):
        mysql, why = mysql_default(self.facts, _config_modules(self.facts)), "the configuration defaults to MySQL/MariaDB"
        if mysql is None and (made := made_for_mysql(self.facts)) is not None:
            mysql, why = made, "the migrations create the tables for MySQL (mysql_engine=)"
        if mysql is None and runs_on(self.facts).not_postgres and "MySQL" in (known := runs_on(self.facts).found):
            mysql, why = known["MySQL"], "the application runs on MySQL/MariaDB, and names no PostgreSQL"
        seen: set[tuple[str, int]] = set()
        on_mysql: list[tuple[TableFact, ColumnFact]] = []
        self._idle: set[str] = set()  # anchors of keys no code reads by and whose parents no code deletes
        idle: list[tuple[TableFact, ColumnFact, Finding]] = []
        for table in self.facts.tables.values():
            keys = table_keys(table, self.facts)
            served = {k.columns[0] for k in keys if k.columns and k.serves(k.columns[0])}
            found_here: list[tuple[ColumnFact, Finding]] = []
            for col in fk_columns(table):
                key = (col.span.path, col.span.start)
                if col.name in served or key in seen:
                    continue
                model_only = _model_only_fk(self.facts, table, col)
                if _composite_served(self.facts, table, col, served) or _composite_later(self.facts, table, col):
                    continue
                seen.add(key)
                if mysql is not None and model_only is None:  # a foreign key only the model has is drift, not an index
                    on_mysql.append((table, col))
                    continue
                if model_only is not None:
                    found = self._unsure(table, col, *model_only)
                elif col.declared_in in table.mixins:
                    found = self._mixin_finding(table, col, keys)
                else:
                    found = self._finding(table, col, keys)
                if found is not None:
                    found_here.append((col, found))
            columns = {f.anchor: col for col, f in found_here}
            for f in self._per_table(table, found_here):  # a small table's keys stay one fact about that table
                if f.anchor in self._idle:
                    idle.append((table, columns[f.anchor], f))
                else:
                    yield f
        yield from self._idle_keys(idle)
        if on_mysql:
            yield self._on_mysql(mysql, why, on_mysql)  # type: ignore[arg-type]

    def _mixin_finding(self, table: TableFact, col: ColumnFact, keys: list[Key]):
        """One finding for a mixin's foreign key, which many tables carry: judged on the first table that carries it
        with no index led by it, each read of that table weighed against that table's own keys; where none of those
        reads scans, on the next such table whose reads do (its finding a warning), so that a key one table's reads
        reach through a composite index does not hide another table's scans."""
        first = self._finding(table, col, keys, True)
        if first is not None and first.severity is not Severity.INFO:
            return first
        for other in self.facts.tables.values():
            theirs = other.columns.get(col.name)
            if other is table or theirs is None or (theirs.span.path, theirs.span.start) != (col.span.path, col.span.start):
                continue
            other_keys = table_keys(other, self.facts)
            if not _reads(self.facts, other, theirs) \
                    or any(k.columns and k.columns[0] == col.name and k.serves(col.name) for k in other_keys) \
                    or _composite_served(self.facts, other, theirs, set()) or _composite_later(self.facts, other, theirs):
                continue  # no read of it by the key (only a read can make the finding a warning), or an index serves it
            found = self._finding(other, theirs, other_keys, True)
            if found is not None and found.severity is not Severity.INFO:
                return found
        return first

    def _per_table(self, table: TableFact, found: list[tuple[ColumnFact, Finding]]):
        """The table's findings; one instead where it has several keys, all infos, and stays small (no application
        code adds rows to it: a settings row with a key to each of a dozen groups): one fact about the table."""
        small = stays_small(self.facts, table.name) if len(found) >= 3 else None
        if small is None or any(f.severity is not Severity.INFO for _, f in found):
            yield from (f for _, f in found)
            return
        columns = ", ".join(c.name for c, _ in found)
        yield self.grouped(
            f"{table.name} has {len(found)} foreign keys with no index ({columns}); {small[0]}: a table that does not "
            "grow with use stays small, and a scan of it, by a read or by the foreign key check on deleting a row they "
            "point at, costs about what an index lookup does; index them if its rows come some other way",
            [(c.span, f.anchor, f"{table.name}.{c.name}") for c, f in found], f"table:{table.name}:fk-index:stays-small",
            severity=Severity.INFO, also=small[1],
        )

    def _idle_keys(self, idle: list[tuple[TableFact, ColumnFact, Finding]]):
        """Keys with no workload dbreview can show (no read by them, no delete of the rows they point at): one fact
        about the schema where there are several, not one finding a key that says each time that nothing uses it."""
        if len(idle) < _IDLE_GROUP:
            yield from (f for _, _, f in idle)
            return
        names = ", ".join(f"{t.name}.{c.name}" for t, c, _ in idle[:8]) + (", ..." if len(idle) > 8 else "")
        yield self.grouped(
            f"{len(idle)} foreign keys have no index ({names}), and for each dbreview found no query of the application "
            "that reads its table by it and no code that deletes a row it points at: an index on them would serve only "
            f"reads and deletes made outside the code dbreview read{UNRULED}; index those that such work reaches",
            [(c.span, f.anchor, f"{t.name}.{c.name}") for t, c, f in idle], "schema:fk-index:no-workload",
            severity=Severity.INFO,
        )

    def _finding(self, table: TableFact, col: ColumnFact, keys: list[Key], shared: bool = False):
        what = f"{where_declared(table, col)} is a foreign key with no index"
        if (composite := _composite_of(table, col)) is not None:
            what = (f"{where_declared(table, col)} leads the composite foreign key ({', '.join(composite)}), which no "
                    f"index is led by (one led by its columns in that order serves it)")
        # one index as the model and the migrations both spell it (`completed_at.isnot(None)`, `completed_at IS NOT NULL`)
        partial = list({(k.name or k.where, k.columns): k for k in reversed(keys)
                        if k.columns and k.columns[0] == col.name}.values())[::-1]
        inside = [k for k in keys if col.name in k.columns[1:]]
        if partial:
            what = f"{where_declared(table, col)} is a foreign key led only by {_partials(partial)}"
        elif inside:
            what = (f"{where_declared(table, col)} is a foreign key that leads no index: it comes after "
                    f"{inside[0].columns[0]} in {inside[0].label}{_where(inside[0])}, which serves lookups by "
                    f"{inside[0].columns[0]}, not by {col.name} alone")
        related = [(k.span, "the index") for k in (partial[:3] or inside[:1])]
        parent = _parent(table, col)
        check = f"the foreign key check on deleting (or changing the key of) a row of {parent}"
        scans: list[Read] = []
        served: list[tuple[Read, Key, frozenset[str]]] = []
        kept: list[tuple[Read, Key]] = []  # reads that keep to the predicate of a partial index led by the key
        unsure: list[tuple[Read, str, str]] = []  # (read, what dbreview cannot tell, unless what it would not scan)
        unused: list[Read] = []
        maybe: list[Read] = []
        ored: list[Read] = []  # a test in an OR whose other branch no index of the table serves
        tied: list[Read] = []  # a join by the key to another table the query narrows: a read if the plan starts there
        # The indexes that may serve reads testing more than the key (for a mixin's column too: the reads weighed are
        # this table's, and so are its keys). A partial one serves the reads that keep to its predicate.
        later = [k for k in keys if col.name in k.columns[1:] and (k.where is None or predicate_terms(k.where))]
        # Other indexes a read may find its rows through: led by another column it tests by equality (not a flag).
        others = [k for k in keys if k.where is None and k.columns and col.name not in k.columns
                                    and _may_narrow(table, k.columns[0])]
        readable = [k for k in partial if predicate_terms(k.where or "")]  # partial indexes led by the key
        covered: list[tuple[Read, Key, int]] = []  # a policy's test, where every query also compares an indexed column
        for r in _reads(self.facts, table, col):
            tested = tested_with(self.facts, r, table, col) if later else r.tested
            asserted = asserted_with(self.facts, r, table, col) if readable or any(k.where for k in later) else frozenset()
            key = _serving(later, col.name, tested, asserted)
            lead = next((k for k in readable if k.implied_by(asserted, col.name)), None)
            if key is None and lead is None and later and tested is not None and UNREAD_BASE not in tested and col.name not in tested:
                key, tested = _tied_lead(later, col.name, pinned_with(self.facts, r, table, col), tested,
                                         joined_with(self.facts, r, table, col))
            compared: frozenset[str] | None = frozenset()
            if key is None and lead is None and others and r.use == "read":  # another index, led by a column it compares with a value
                compared = values_with(self.facts, r, table, col)
                key = next((k for k in others if compared and k.columns[0] in compared), None)
                tested = compared if key is not None else tested
                if key is None and r.label == "the policy" and (every := _every_query_led(self.facts, table, others)):
                    covered.append((r, *every))
                    continue
            if r.use == "ored":
                ored.append(r)
            elif r.use == "tied":
                tied.append(r)
            elif r.use != "read":
                (maybe if r.use == "maybe" else unused).append(r)
            elif lead is not None:
                kept.append((r, lead))
            elif key is not None and tested:
                served.append((r, key, tested))
            elif (by := next((k for k in (*later, *others) if k.columns[0] in joined_with(self.facts, r, table, col)), None)) is not None:
                unsure.append((r, f"and whether it finds {table.name} rows through its join on {by.columns[0]} from a table it "
                                  f"narrows by another column, so that {by.label}{_where(by)} serves it",
                               f"its plan goes through that join"))
            elif asserted is None and readable:
                which = readable[0].label if len(readable) == 1 else "one of those partial indexes"
                unsure.append((r, f"{_UNREAD}whether it keeps to the predicate of {which}, so that it serves it",
                               "it keeps to that predicate"))
            elif (tested is None or UNREAD_BASE in tested) and later:
                unsure.append((r, f"{_UNREAD}whether it also tests {later[0].columns[0]}, so that {later[0].label}"
                                  f"{_where(later[0])} serves it", f"it tests {later[0].columns[0]}"))
            elif (compared is None or GIVEN_BASE in compared) and not built_apart(self.facts, r, table, col):  # another index may find its rows
                unsure.append((r, f"{_UNREAD}whether it also tests a column another index leads ({others[0].label}"
                                  f"{', or another' if len(others) > 1 else ''}), so that index finds its rows",
                               "it tests such a column"))
            elif r.unknown and not shared:  # compared beside the key: an index dbreview cannot see may lead it
                unknown = ", ".join(sorted(r.unknown))
                unsure.append((r, f"and it also compares {unknown} with a value, which dbreview found no column of in "
                                  f"{table.class_name or table.name} (a helper or a base class it could not read may declare "
                                  f"one): whether an index leads {'it' if len(r.unknown) == 1 else 'one of them'}",
                               f"an index leads {unknown}"))
            else:
                scans.append(r)
        dead = [r for r in [*scans, *unused] if r.use == "uncalled"]
        unused = [r for r in unused if r.use != "uncalled"]
        while scans and (function := uncalled_function(self.facts, scans[0].span)) is not None:  # until a live one
            dead.append(Read(scans[0].span, scans[0].said, scans[0].label, use="uncalled",
                             how=f"{scans[0].span.path}:{scans[0].span.start} is in {function}(), {NO_CALL}"))
            scans.pop(0)
        if scans and all(r.on_delete for r in scans):
            return self._on_delete_only(table, col, what, scans, related, parent)
        if scans and (beside := _served_beside(self.facts, scans, table, col, keys)):
            more = f" (and {len(scans) - 1} more)" if len(scans) > 1 else ""
            if len(beside) == 1:
                (other, alone), = beside.items()
                shared = (f"also compares {other} with a value, which no index leads either and which the query at "
                          f"{alone.path}:{alone.start} compares without {col.name}: an index led by {other}, which that "
                          f"query needs, serves these reads too")
            else:
                shared = (f"also compares with a value one of {', '.join(beside)}, which no index leads either and which "
                          f"other queries compare without {col.name} ("
                          + "; ".join(f"{c}: the query at {s.path}:{s.start}" for c, s in beside.items())
                          + "): an index led by each, which those queries need, serves these reads too")
            return self.finding(
                f"{what}: {scans[0].said}{more}, but each such read {shared}; what an index led by {col.name} alone adds "
                f"is {check}, whose cost depends on the table's size, which dbreview cannot know",
                col.span, column_anchor(table, col), severity=Severity.INFO,
                related=[*related, *((r.span, r.label) for r in scans[:2]),
                         *((s, f"the query by {c} alone") for c, s in beside.items())],
            )
        if scans:
            more = f" (and {len(scans) - 1} more)" if len(scans) > 1 else ""
            grows, how, where = _growth_said(self.facts, table)
            return self.finding(
                f"{what}: {scans[0].said}{_also_compared(self.facts, scans[0], table, col, keys)}{more}, so each such read "
                f"scans {table.name}, as does {check}{how}",
                col.span, column_anchor(table, col), severity=Severity.WARNING if grows else Severity.INFO,
                related=[*related, *((r.span, r.label) for r in scans[:3]), *where],
            )
        if (lookup := _lookup(self.facts, parent)) is not None and lookup.name != table.name:
            return None  # the key check never runs in the application, and no read of it scans: nothing to act on
        if table.holder and not (kept or served or covered or ored or tied or unsure or dead or unused or maybe):
            return self.finding(
                f"{what}; {table.name} is a Core table that class {table.holder} holds as an attribute, and dbreview does "
                f"not follow the queries made through its instances, so it cannot tell "
                f"which of them filter or join on {col.name}, nor whether rows of {parent} are deleted: without an "
                f"index each such read, and the foreign key check on deleting a row of {parent}, scans {table.name}",
                col.span, column_anchor(table, col), severity=Severity.INFO, related=related,
            )
        said: list[str] = []
        if kept:
            (first, key), more = kept[0], f" (and {len(kept) - 1} more)" if len(kept) > 1 else ""
            which = f"{key.label} WHERE {key.where}" if all(k is key for _, k in kept) else "one of those partial indexes"
            said.append(f"{first.said}{more}, keeping to the predicate of {which}, so it finds its rows through that "
                        f"index, not by a scan of {table.name}")
        if served:
            (first, key, tested), more = served[0], f" (and {len(served) - 1} more)" if len(served) > 1 else ""
            lead_by = [c for c in key.columns[:key.columns.index(col.name)] if c in tested] if col.name in key.columns else [key.columns[0]]
            said.append(f"every read of {table.name} by it that dbreview found also tests {', '.join(lead_by)}, which "
                        f"{key.label} is led by, so it finds their rows through that index, not by a scan of {table.name} "
                        f"({first.said}{more})")
        if covered:
            first, key, n = covered[0]
            which = f"the one query of {table.name}" if n == 1 else f"each of the {n} queries of {table.name}"
            said.append(f"{first.said}, but {which} that dbreview could follow also compares with a value a column an index "
                        f"leads ({key.columns[0]}, which {key.label} is led by, or another), so it finds its rows through "
                        f"that index, not by the policy's test")
        if ored:
            more = f" (and {len(ored) - 1} more such)" if len(ored) > 1 else ""
            said.append(f"{ored[0].said}{more}: {ored[0].how}")
        if tied:
            more = f" (and {len(tied) - 1} more such)" if len(tied) > 1 else ""
            said.append(f"{tied[0].said}{more}: a plan that finds {tied[0].how} rows first looks {table.name} rows up by "
                        f"{col.name}, which scans {table.name}; which way the plan goes, dbreview cannot tell")
        if unsure:
            first, whether, _ = unsure[0]
            said.append(f"{first.said}, {whether}, dbreview cannot tell")
        if dead:
            said += [f"{r.said}, but {r.how}" for r in dead[:2]]
        if unused:
            said.append(f"{unused[0].said}, but dbreview found no code that reads {unused[0].label} and no delete "
                        f"that loads it")
        if maybe:
            said.append(f"{maybe[0].said}, but dbreview found no code it can tell reads {maybe[0].label} ({maybe[0].how})")
        unfollowed, named = _unfollowed(self.facts, table, col)
        unread = False
        if not said and named:  # the column's own name where a read by it is built: no claim that nothing reads by it
            said.append(f"the code names {col.name} where it may filter {table.name} in shapes dbreview does not follow"
                        f"{unfollowed}: if it does, each such read scans {table.name} without an index")
        else:
            if not said:
                said.append(f"dbreview found no query of the application that filters or joins {table.name} on it, "
                            f"and no relationship that loads {table.name} rows by it")
                unread = True
            said[-1] += unfollowed
        cost = self._cost(parent)
        unlinked = next((r.label for r in [*unused, *maybe] if r.unlinks), None) if cost == _UNKNOWN_COST else None
        if unlinked is not None:  # deleting a parent through the ORM loads the relationship by the key, too
            check = (f"{check}, and the load of {unlinked} that deleting one through the ORM makes (SQLAlchemy loads it "
                     "to clear or delete its rows; it has no passive_deletes)")
        scans_it = "scan" if unlinked is not None else "scans"
        # dbreview does not follow every shape of read: what it shows is what it found, not that there is no other.
        shown = f"the only scan{'s' if unlinked else ''} of {table.name} by {col.name} that dbreview can show " \
                f"{'are' if unlinked else 'is'} {check}"
        scanned = (f"{check} {scans_it} {table.name}, as does that read unless {unsure[0][2]}" if unsure
                   else f"{check} {scans_it} {table.name}, as does that join where its plan goes that way" if tied
                   else f"of the reads an index on it would serve, {shown}" if ored else shown)
        target = _parent_table(self.facts, parent)
        if unread and unlinked is None and target is not None and deletes(self.facts, target) is None:
            self._idle.add(column_anchor(table, col))
        return self.finding(
            f"{what}; {'; '.join(said)}, so {scanned}{cost}{'' if unsure or tied else UNRULED}",
            col.span, column_anchor(table, col), severity=Severity.INFO,
            related=[*related, *((r.span, r.label) for r, _ in kept[:2]), *((r.span, r.label) for r, _, _ in served[:2]),
                     *((r.span, r.label) for r, _, _ in unsure[:1]), *((r.span, f"{r.label}, in an OR") for r in ored[:2]),
                     *((r.span, f"{r.label}, joined from {r.how}") for r in tied[:2]),
                     *((r.span, f"{r.label}, not read") for r in unused[:2]), *((r.span, r.label) for r in maybe[:1]),
                     *((r.span, f"{r.label}, in code dbreview found no call of") for r in dead[:2])],
        )

    def _on_delete_only(self, table: TableFact, col: ColumnFact, what: str, scans: list[Read], related: list, parent: str):
        """The only reads by the key are loads of a relationship that deleting a parent row through the ORM makes: they
        come with the parent's deletes, as the key check does, not with the application's reads."""
        first = scans[0]
        said = first.said if first.how in first.said else f"{first.said} ({first.how})"
        more = f" (and {len(scans) - 1} more such)" if len(scans) > 1 else ""
        unfollowed, _ = _unfollowed(self.facts, table, col)
        return self.finding(
            f"{what}: {said}{more}, and dbreview found no other code that reads {table.name} by it{unfollowed}, so as far "
            f"as dbreview can tell {table.name} is scanned by it only when a row of {parent} is deleted (that load, and the "
            f"foreign key check): what that costs depends on the table's size and on how often {parent} rows are deleted, "
            f"which dbreview cannot know{UNRULED}",
            col.span, column_anchor(table, col), severity=Severity.INFO,
            related=[*related, *((r.span, f"{r.label}, loaded on a delete") for r in scans[:3])],
        )

    def _cost(self, parent: str) -> str:
        """What the foreign key check costs, as far as the code tells: nothing where no code deletes the parent."""
        target = _parent_table(self.facts, parent)
        if target is None:
            return _UNKNOWN_COST
        flag = soft_delete_column(target)
        if deletes(self.facts, target) is None:
            if flag is not None:
                return (f": {target.name} is only soft-deleted in this code (it has {flag}; dbreview found no delete of "
                        "its rows), so that check runs only on a delete made outside the application")
            return (f": dbreview found no code of the application that deletes a row of {target.name}, so that check "
                    "runs only on a delete made outside it")
        soft = soft_deleted_at(self.facts, target, flag) if flag is not None else None
        unsure = unresolved_delete(self.facts, target) if soft is not None else None
        if soft is not None and unsure is not None:  # soft-deleted; the one delete may be of another class's object
            return (f": the code soft-deletes {target.name} rows ({soft[1]}), and the only delete dbreview found that may "
                    f"remove one is {unsure}, of an object whose class it cannot tell, so that check may never run in the "
                    "application; where it runs, what it costs depends on the table's size, which dbreview cannot know")
        return _UNKNOWN_COST

    def _unsure(self, table: TableFact, col: ColumnFact, migrated: ColumnFact, unread: list[Unread]):
        """The foreign key is the model's only: the migrations create the column without one."""
        made = f"the migrations create the column without one ({migrated.span.path}:{migrated.span.start})"
        related = [(migrated.span, "the column as the migrations create it")]
        if not unread:
            return self.finding(
                f"{where_declared(table, col)} is a foreign key in the model, but {made}: the database has no foreign "
                f"key to check, so there is nothing to index for it; the model and the schema disagree (autogenerate "
                f"will propose to add the constraint, and deleting a referenced row leaves {table.name} pointing at nothing)",
                col.span, column_anchor(table, col), severity=Severity.INFO, related=related,
            )
        return self.finding(
            f"{where_declared(table, col)} is a foreign key in the model, but {made}, and the migrations hold SQL "
            f"dbreview could not read ({unread[0].span.path}:{unread[0].span.start}). If the database has no foreign "
            f"key, the model and the schema disagree and there is nothing to index for it; if it has one, it has no "
            f"index: deleting a parent row scans {table.name} to check it",
            col.span, column_anchor(table, col), severity=Severity.INFO, related=[*related, (unread[0].span, "not read")],
        )

    def _on_mysql(self, default: Span, why: str, columns: list[tuple[TableFact, ColumnFact]]):
        listed = ", ".join(f"{t.name}.{c.name}" for t, c in columns[:12]) + (" ..." if len(columns) > 12 else "")
        return self.finding(
            f"{why} ({default.path}:{default.start}), where InnoDB creates an "
            f"index for every foreign key by itself; on PostgreSQL, which does not, {len(columns)} foreign key "
            f"column(s) would have no index: {listed}. Index them if the application is deployed on PostgreSQL",
            default, "fk-index:mysql-default", severity=Severity.INFO,
            covers=[identity_key(self.ID, column_anchor(t, c)) for t, c in columns],
            related=[(c.span, f"{t.name}.{c.name}") for t, c in columns[:20]],
        )


_UNREAD = "with a condition dbreview could not read: "
_IDLE_GROUP = 8  # keys with no workload shown, from this many on: one finding about the schema (fewer: each its own)
_UNKNOWN_COST = ": what that costs depends on the table's size, which dbreview cannot know"
# A finding that shows no read by the key says what dbreview found, not that there is none (issue 7: reads through a
# model's own helpers, a relationship named as a keyword, a secondary or self-referential relationship were missed).
UNRULED = ("; reads in shapes dbreview does not follow (a model's own query helpers, a relationship it cannot tie to the "
           "key, a correlated subquery) it cannot rule out")


def _growth_said(facts: Facts, table: TableFact) -> tuple[bool, str, list[tuple[Span, str]]]:
    """Whether the application adds rows to `table` (a scan of it costs more as it grows), in the finding's words, and
    the places that say so: a table only the migrations seed, or nothing adds to, stays as small as it starts."""
    found = growth(facts, table)
    if found.adds and (named := configuration_named(table)) is not None:  # rows made by hand: a few, as far as a name tells
        return False, (f"; but {named[0]} is named as configuration (its name ends in '{named[1]}', which is all dbreview "
                       "goes by here: it cannot see how many rows a table holds): rules, templates and settings are written "
                       "by hand and stay few, and a scan of a few rows costs about what an index lookup does; index it if "
                       "it holds many"), []
    if found.adds:  # not named in the finding: the place may be a guess by a relationship's or class's name
        return True, "", []
    seeded = (f", which only the migrations seed ({found.seeds[0].path}:{found.seeds[0].start})" if found.seeds else "")
    where = [(found.seeds[0], f"seeds {table.name}")] if found.seeds else []
    if found.generic is not None:
        return False, (f"; but dbreview found no application code that adds rows to {table.name} by its name{seeded}, and "
                       f"could not tell what class {found.generic.path}:{found.generic.start} makes rows of: how "
                       f"{table.name} grows, and so what a scan of it costs, dbreview cannot tell"), \
            [*where, (found.generic, "makes rows of a class dbreview cannot tell")]
    return False, (f"; but {no_adds_said(table)}"
                   f"{'' if table.class_name else ', no relationship through it added to'}){seeded}: a table that does not grow with use stays small, and a scan "
                   f"of a small table costs about what an index lookup does; index it if its rows come some other way"), where


def _serving(keys: list[Key], column: str, tested: frozenset[str] | None, asserted: frozenset[str] | None) -> Key | None:
    """The index, primary key or unique constraint that serves a read testing `tested` with `column`: it holds the
    column after others, the read tests its leading column (the index finds the rows, not a scan), and it keeps to
    the index's predicate, if any."""
    return next((k for k in keys if column in k.columns[1:] and k.columns[0] in tested and k.implied_by(asserted, column)),
                None) if tested else None


def _tied_lead(keys: list[Key], column: str, pinned: frozenset[tuple[str, str]], tested: frozenset[str],
               joined: frozenset[str]) -> tuple[Key | None, frozenset[str]]:
    """The key (not a partial one) that serves a read whose joins give `column` (no value does) and its leading column:
    they tie `column` only to tables they also tie the leading column to, or they tie the leading column to a table the
    read narrows by a value (`joined`: `ON t.user_id = u.id AND t.app_id = a.id ... WHERE u.email = :e`). A plan that
    comes to the table through `column` has the leading column too, or starts from that narrowed table, so it looks the
    rows up through that key, not by a scan; with the columns it then tests."""
    by: dict[str, set[str]] = {}
    for c, other in pinned:
        by.setdefault(c, set()).add(other)
    key = next((k for k in keys if k.where is None and by.get(column)
                and (by[column] <= by.get(k.columns[0], set()) or k.columns[0] in joined)), None)
    return (key, tested | {c for c, _ in pinned if key is not None and c in key.columns}) if key is not None else (None, tested)


def _also_compared(facts: Facts, read: Read, table: TableFact, col: ColumnFact, keys: list[Key]) -> str:
    """What a scanning read compares with a value besides the key that no index leads either (not a flag): an index
    led by one of those would keep it from scanning as well, which the reviewer weighs against one on the key."""
    compared = values_with(facts, read, table, col) if read.use == "read" else None
    leads = {k.columns[0] for k in keys if k.columns}
    others = sorted(c for c in compared or () if c != col.name and c not in leads and c in table.columns and _may_narrow(table, c))
    if not others:
        return ""
    return (f" (that read also compares {', '.join(others)} with a value, which no index leads either: an index led by "
            f"{'it' if len(others) == 1 else 'one of them'} would serve it too)")


def _served_beside(facts: Facts, reads: list[Read], table: TableFact, col: ColumnFact, keys: list[Key]) -> dict[str, Span]:
    """Where each of `reads` (queries that scan `table` by `col`) also compares with a value a column that no index
    leads (not a flag) and that another query of the table compares without `col` and beside no column an index leads:
    an index led by that column, which that query needs, serves them as well. Such a column of each read -> that
    query; empty where one read has none."""
    leads = {k.columns[0] for k in keys if k.columns}
    alone: dict[str, Span] = {}
    for q, t in app_queries(facts, writes=True):
        if t is table and not q.escapes and (tested := query_values(facts, q, table)) and col.name not in tested \
                and not tested & leads:  # no index finds its rows
            # it needs an index led by the one column it narrows by; one led by any of several serves it
            if len(narrowing := [c for c in tested if c in table.columns and _may_narrow(table, c)]) == 1:
                alone.setdefault(narrowing[0], q.span)
    found: dict[str, Span] = {}
    for r in reads:
        compared = values_with(facts, r, table, col) if r.use == "read" and (r.values_asked or r.condition or r.values) else None
        shared = sorted((c for c in compared or () if c != col.name and c not in leads and c in alone and c in table.columns
                         and _may_narrow(table, c)),
                        key=lambda c: (not table.columns[c].foreign_keys, c))  # a reference before a state column
        if not shared:
            return {}
        found.setdefault(shared[0], alone[shared[0]])
    return found


def _every_query_led(facts: Facts, table: TableFact, others: list[Key]) -> tuple[Key, int] | None:
    """Where every query of `table` that dbreview follows (its filters read, none built elsewhere; an integration's
    too, whose queries of the application's models the policy applies to as well) compares with a value (by
    equality, or a range: `expires_at < now`) a column that leads one of `others`, each `session.get(Model, key)` of
    its class the primary key: the first such index and how many queries; None if one does not, or none is found."""
    found: list[Key] = []
    for q, t in app_queries(facts, writes=True, connectors=True):
        if t is not table:
            continue
        tested = query_values(facts, q, table, ranges=True) if not q.escapes else None
        key = next((k for k in others if tested and k.columns[0] in tested), None)
        if key is None:
            return None
        found.append(key)
    primary = tuple(c.name for c in table.columns.values() if c.primary_key)
    if (pk := next((k for k in others if k.columns == primary), None)) is not None:
        found += [pk] * _key_gets(facts, table)
    return (found[0], len(found)) if found else None


def _key_gets(facts: Facts, table: TableFact) -> int:
    """How many `session.get(Model, key)` of the table's class the application (an integration's code too) runs: each
    finds its row by the primary key. None counted where another table's class has the same name."""
    cls = table.class_name
    if not cls or mapped_names(facts).get(cls) != [table]:
        return 0
    count = 0
    for path in python_paths(facts):
        if is_test_path(path) or "connector" not in (tooling_kind(path) or "connector"):
            continue
        text = "\n".join(facts.lines(Span(path, 1, 10**9)))
        if ".get(" not in text or cls not in text or (tree := source_tree(facts, path)) is None:
            continue
        count += sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                     and node.func.attr == "get" and len(node.args) >= 2 and _sessionish(node.func.value)
                     and isinstance(node.args[0], (ast.Name, ast.Attribute))
                     and (node.args[0].id if isinstance(node.args[0], ast.Name) else node.args[0].attr) == cls)
    return count


def _reads(facts: Facts, table: TableFact, col: ColumnFact) -> list[Read]:
    """The reads of `table` by `col`: the ORM's and the relationships' (fk_reads), then each SQL string's not on a
    line one of those is (a query level that finds its rows by it, else one that joins it on it)."""
    reads = fk_reads(facts).get((table.name, col.name), [])
    lines = {(r.span.path, r.span.start) for r in reads}
    found: dict[tuple[str, int], Read] = {}
    for r in sorted(sql_reads(facts).get((table.name, col.name), []), key=lambda r: bool(r.joined)):
        span = r.use.span
        if (span.path, span.start) in lines or (span.path, span.start) in found:
            continue
        where = f"{span.path}:{span.start}"
        found[(span.path, span.start)] = Read(
            span, f"the SQL at {where} joins {table.name} to {r.joined[0]} on it, and narrows {r.joined[0]} by another column",
            "the SQL", use="tied", how=r.joined[0]) if r.joined else Read(
            span, f"the SQL at {where} filters on it", "the SQL", r.values, r.values)
    return [*reads, *found.values()]


def _unfollowed(facts: Facts, table: TableFact, col: ColumnFact) -> tuple[str, bool]:
    """What dbreview did not follow that may read `table` by `col`, in the finding's words: the application's queries
    of its class whose filters it could not read (a helper's condition, filters built apart and handed in), and the
    SQL strings that name the table and the column (SQL is not weighed as a read); and whether any of it names the
    column itself where a read is built (a field list, a lookup by name, a reflected table's `.c.col`)."""
    opaque = [q.span for q, t in app_queries(facts, writes=True) if t is table and (q.unread_test or q.escapes)]
    named = re.compile(rf"\b{re.escape(table.name)}\b.*\b{re.escape(col.name)}\b|\b{re.escape(col.name)}\b.*\b{re.escape(table.name)}\b",
                       re.I | re.S)
    sql = [u.span for u in facts.sql if u.text and not is_test_path(u.span.path) and not is_tooling_path(u.span.path)
           and named.search(u.text) and sql_compared(facts, u, table.name, col.name) is not False]
    models = {t.path for t in facts.tables.values()}
    lines = [(span, line.partition("#")[0]) for span, line in mentions(facts, {col.name})[col.name] if span.path not in models]
    by_name = [span for span, code in lines  # {"model": "Tag", "field": "tag_type_id"}
               if {col.name, table.class_name or table.name} <= string_literals(code)]
    gives = re.compile(rf"[(,=]\s*(?:\w+\.)*{re.escape(table.class_name or table.name)}\s*[,)]")
    # `plain_fields = ["uuid", "goal_id"]` in a function that hands `models.Strategy` to a helper
    # an element of a list, not a dict's key or a keyword's value (`{"goal_id": v}`, `my_field="goal_id"`)
    listed = re.compile(rf"(?:^|[\[(,{{])\s*(['\"]){re.escape(col.name)}\1(?!\s*:)")
    handed = [span for span, code in lines if listed.search(code)
              and gives.search("\n".join(function_around(facts, span)[1]))] if not by_name else []
    lookup = _by_name_on_model(col.name)
    looked_up = [span for span, code in lines if _on_a_model(lookup.search(code)) and _filters_by(facts, span)
                 ] if not by_name and not handed else []
    untied = _untied_columns(facts, col, lines)
    out = []
    if opaque:
        out.append(f"{len(opaque)} quer{'y' if len(opaque) == 1 else 'ies'} of {table.class_name or table.name} with a filter "
                   f"it could not read or built elsewhere, the first at {opaque[0].path}:{opaque[0].start}")
    if by_name:
        out.append(f"'{table.class_name or table.name}' and '{col.name}' named in strings at {by_name[0].path}:{by_name[0].start} "
                   "(a filter built from names at run time may read it)")
    if handed:
        out.append(f"'{col.name}' named in a string in a function that hands {table.class_name or table.name} to a call at "
                   f"{handed[0].path}:{handed[0].start} (a helper that filters the class it is given by names may read it)")
    if looked_up:
        out.append(f"'{col.name}' looked up by name on an object whose class dbreview cannot tell at {looked_up[0].path}:"
                   f"{looked_up[0].start} (a generic helper that filters any model by it may read it)")
    if untied:
        out.append(f"'{col.name}' compared on a Table dbreview cannot tie to a table of the models (reflected, or held in an "
                   f"attribute) at {untied[0].path}:{untied[0].start}, which may be {table.name}")
    if sql:
        out.append(f"SQL naming {table.name} and {col.name} at {sql[0].path}:{sql[0].start}"
                   f"{f' (and {len(sql) - 1} more)' if len(sql) > 1 else ''}, which it could not parse or which tests "
                   f"{col.name} under OR or NOT or not by equality: it does not weigh that as a read")
    return (f" (not followed: {'; '.join(out)})" if out else ""), bool(by_name or handed or looked_up or untied)


def _untied_columns(facts: Facts, col: ColumnFact, lines: list[tuple[Span, str]]) -> list[Span]:
    """Where the code compares the column on a Table it holds under a name that is no Core table's variable of the
    models (`self.jobs_t.c.service_id == sid`, `self.jobs_t = Table(name, metadata, autoload_with=engine)`)."""
    known = {n.removeprefix(CORE) for n in mapped_names(facts) if n.startswith(CORE)}
    compared = re.compile(rf"([\w.]+)\.(?:c|columns)\.{re.escape(col.name)}\s*(?:==|\.in_\()")
    return [span for span, code in lines if not is_test_path(span.path) and not is_tooling_path(span.path)
            and (m := compared.search(code)) is not None and m[1].rpartition(".")[2] not in known | {"__table__"}]


def _by_name_on_model(name: str) -> re.Pattern[str]:
    """`getattr(self.model, "user_id")`, `get_sqla_attr(cast(M, model_type), "user_id")`: an attribute looked up by name
    on what the group `on` holds, the column's name its last argument but a default (setattr writes)."""
    return re.compile(rf"\b\w*attr\w*(?<!setattr)\((?P<on>(?:[^()'\"]|\([^()'\"]*\))+),\s*(['\"]){re.escape(name)}\2"
                      rf"\s*(?:,[^()'\"]*)?\)")


def _on_a_model(found: re.Match[str] | None) -> bool:
    """The object looked up on is a model handed in, its class unknown (`getattr(ctx, "user_id")` of a log record or a
    request names no model)."""
    return found is not None and re.search(r"model|cls|entity|klass", found.group("on"), re.I) is not None


def _filters_by(facts: Facts, span: Span) -> bool:
    """The looked-up attribute is tested there or on the next two lines: `filters.append(attr == value)`."""
    return re.search(r"==|\.in_\(|\bfilter|\bwhere\b", "\n".join(facts.lines(Span(span.path, span.start, span.start + 2)))) is not None


def _partials(keys: list[Key]) -> str:
    """The partial indexes that lead with a column, each with its predicate."""
    if len(keys) == 1:
        return f"the partial {keys[0].label[4:]} WHERE {keys[0].where}, which serves only the rows its predicate keeps"
    named = " and ".join(f"{k.label[4:].removeprefix('index ')} WHERE {k.where}" for k in keys)
    return f"the partial indexes {named}, each of which serves only the rows its predicate keeps"


def _where(key: Key) -> str:
    return f" WHERE {key.where}" if key.where else ""


def _may_narrow(table: TableFact, column: str) -> bool:
    """Whether an index led by `column` may find a read's rows: not a soft-delete column or a boolean flag, which
    most rows share."""
    col = table.columns.get(column)
    return column not in SOFT_DELETE_COLUMNS and (col is None or col.type_name not in ("Boolean", "BOOLEAN", "bool"))


def _composite_served(facts: Facts, table: TableFact, col: ColumnFact, served: set[str]) -> bool:
    """`col` is one column of a composite foreign key (the model's or the migrations') that an index led by
    one of its columns serves (its columns in any order at the head of an index are such an index)."""
    migrated = facts.migration_tables.get(table.name)
    return any(con.kind == "foreign_key" and len(con.columns) > 1 and col.name in con.columns and set(con.columns) & served
               for con in [*table.constraints, *(migrated.constraints if migrated is not None else ())])


def _composite_of(table: TableFact, col: ColumnFact) -> tuple[str, ...] | None:
    """The columns of the composite foreign key `col` leads, where it has no foreign key of its own."""
    if col.foreign_keys:
        return None
    return next((tuple(c.columns) for c in table.constraints
                 if c.kind == "foreign_key" and len(c.columns) > 1 and c.columns[0] == col.name), None)


def _composite_later(facts: Facts, table: TableFact, col: ColumnFact) -> bool:
    """`col` is a later column of a composite foreign key, and has none of its own: one key, reported once, at the
    column that leads it (whose finding names them all), unless the code reads the table by `col` where it does
    not by the leading column (a read by it alone, which an index led by the key would not serve)."""
    if col.foreign_keys or any(c.kind == "foreign_key" and c.columns and c.columns[0] == col.name for c in table.constraints):
        return False
    con = next((c for c in table.constraints if c.kind == "foreign_key" and col.name in c.columns[1:]), None)
    if con is None:
        return False
    led = {(r.span.path, r.span.start) for r in _reads(facts, table, table.columns[con.columns[0]])} \
        if con.columns[0] in table.columns else set()
    return all((r.span.path, r.span.start) in led for r in _reads(facts, table, col))


def _parent(table: TableFact, col: ColumnFact) -> str:
    """The table `col` references, as written."""
    if col.foreign_keys:
        return col.foreign_keys[0].table
    con = next((c for c in table.constraints if c.kind == "foreign_key" and col.name in c.columns and c.target), None)
    return con.target.rsplit(".", 1)[0] if con is not None and con.target else "the referenced table"


def _parent_table(facts: Facts, parent: str) -> TableFact | None:
    """The table a foreign key names (`roles`, `Role`, `auth.roles`: the schema is not in the tables' names)."""
    return facts.tables.get(parent) or facts.tables.get(parent.rpartition(".")[2]) or next(
        (t for t in facts.tables.values() if t.class_name == parent), None)


def _lookup(facts: Facts, parent: str) -> TableFact | None:
    """The referenced table, where it is a lookup the application keeps as the migrations made it: they insert its
    rows, and no code of the application adds a row to it or deletes one (statuses, key types). The foreign key check
    then never runs in the application; and a key to a handful of rows, most rows sharing each, is one an index
    serves few reads by. A table nothing of the application adds to but the migrations do not seed (users an
    identity provider makes) is no lookup."""
    target = _parent_table(facts, parent)
    if target is None or stays_small(facts, target.name) is None or not growth(facts, target).seeds \
            or deletes(facts, target, sure=True) is not None:
        return None
    return target


def _config_modules(facts: Facts) -> list[str]:
    """The modules that may name the database the application runs on: its configuration and settings
    modules, and those that make its engines."""
    paths = [m.path for m in facts.modules if not is_test_path(m.path) and not is_tooling_path(m.path)
             and re.search(r"(config|settings)[^/]*\.py$", m.path)]
    return list(dict.fromkeys([*paths, *(e.call.span.path for e in engines(facts) if e.serves)]))


def _model_only_fk(facts: Facts, table: TableFact, col: ColumnFact) -> tuple[ColumnFact, list[Unread]] | None:
    """The model declares the foreign key, but the migrations build the column without one: the column as
    they build it, and what they hold that dbreview could not read about the table (which may add it)."""
    migrated = migrated_column(facts, table, col.name)
    if migrated is None or migrated.foreign_keys:
        return None
    db = facts.migration_tables[table.name]
    if any(con.kind == "foreign_key" and col.name in con.columns for con in db.constraints) or any(
            re.search(r"FOREIGN\s+KEY|REFERENCES", st.text, re.I) and col.name in st.text
            for st in table_sql(facts, table.name)):
        return None
    return migrated, migration_sql(facts).unread_for(table.name)


class IndexRepeatsKey(Rule):
    """An index repeats the primary key or a unique constraint.

    What it checks:
        A plain index (not unique, no predicate, btree, on columns rather than expressions) on the same columns, in
        the same order, as the table's primary key, a unique constraint or a unique index, in the schema as the
        migrations build it (the model's, for a table no migration creates): `index=True` on a `primary_key=True`
        column is the common case. An index on fewer of a key's leading columns (`index=True` on the first column of
        a composite unique constraint) is smaller than the key's and is left to the reviewer. `unique=True, index=True` on one
        column makes one unique index, not two; a composite primary key only the model declares has an order
        dbreview does not follow, and is not weighed. An index declared once for several tables (a mixin's column)
        is one finding, naming them. Where the migrations hold a step dbreview could not read that may concern the
        table (a `DROP INDEX` built in a loop), the index may be gone by head: no finding; nor where the step that makes
        it runs only if an inspector check finds no index on its columns while the key is there already (on PostgreSQL
        `get_indexes` lists the key's index: the step never runs). A key of a model no migration creates that a
        migration drops (`op.drop_constraint`, `ALTER TABLE ... DROP CONSTRAINT` in SQL) and adds back nowhere is
        no key of the database: the model is stale, and the index may be the column's only one. The static twin of
        `verify`'s VER011, which compares the indexes of a real database.
    Why it matters:
        The key's own index already finds rows by those columns (a lookup by the leading columns of an index uses
        it): the second index is maintained on every insert, update of its columns and delete, and takes its own
        space, for lookups the first one serves.
    Example:
        id: Mapped[int] = mapped_column(primary_key=True, index=True)
    Instead:
        Drop the index: `index=True` off the column, or `op.drop_index(...)` in a migration.
    """

    ID = "PERF006"
    ITEM = "8.2"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("patient_id", "day"), Index("ix_visits_day", "day"), Index("ix_visits_patient", "patient_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True, index=True)  # one unique index
    patient_id: Mapped[int] = mapped_column()
    day: Mapped[int] = mapped_column()
''',)
    INVALID = (HEADER + '''
class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("patient_id", "day"), Index("ix_visits_patient_day", "patient_id", "day"))
    id: Mapped[int] = mapped_column(primary_key=True, index=True)
    patient_id: Mapped[int] = mapped_column()
    day: Mapped[int] = mapped_column()
''',)

    def check(self):
        found: dict[tuple[str, int], list[tuple[TableFact, Key, Key]]] = {}
        for table in self.facts.tables.values():
            schema = self.facts.migration_tables.get(table.name) or table
            keys = _unique_keys(schema, migrated=schema is not table)
            if schema is table:  # a model no migration creates: a migration may still drop one of its keys
                gone = _keys_dropped(self.facts, table.name)
                keys = [k for k in keys if k.name is None or k.name not in gone]
            for ix in _plain_indexes(schema):
                key = next((k for k in keys if k.columns == ix.columns), None)
                if key is None or _not_plain(self.facts, ix.span):
                    continue
                if schema is not table and (migration_gaps(self.facts, table.name) or _maybe_dropped(self.facts, table.name, ix)):
                    continue  # a step that could not be read (a DROP INDEX built in a loop) may have dropped it since
                if schema is not table and _never_built(self.facts, ix):
                    continue
                # one finding where the model declares it (`index=True` on a base class's key column, every table's)
                col = table.columns.get(ix.columns[0]) if len(ix.columns) == 1 else None
                made = col.span if col is not None and col.index and (col.primary_key or col.unique) else ix.span
                found.setdefault((made.path, made.start), []).append((table, ix, key))
        for repeats in found.values():
            table, ix, key = repeats[0]
            col = table.columns.get(ix.columns[0]) if len(ix.columns) == 1 else None
            at = col.span if col is not None and col.index and (col.primary_key or col.unique) else ix.span
            cols = ", ".join(ix.columns)
            others = [t.name for t, _, _ in repeats[1:]]
            also = f" (declared once for {len(others) + 1} tables: also {', '.join(others[:5])}{' ...' if len(others) > 5 else ''})" if others else ""
            yield self.finding(
                f"{ix.label} on {table.name} repeats {key.label}: it indexes the same columns ({cols}) in the same "
                f"order, by which the key's own index already finds rows; this one is maintained on every write to "
                f"{table.name} and takes its own space, for lookups the other serves{also}",
                at, f"table:{table.name}.{','.join(ix.columns)}:repeats-key" if len(repeats) == 1 or col is None
                else f"{column_anchor(table, col)}:repeats-key",
                related=[(key.span, key.label[4:]), *((i.span, f"{i.label[4:]} on {t.name}") for t, i, _ in repeats if i.span != at)][:12],
            )


def _keys_dropped(facts: Facts, table: str) -> set[str]:
    """The names of the constraints the migrations drop from `table` (`op.drop_constraint`, `ALTER TABLE ... DROP
    CONSTRAINT` in SQL) and add back nowhere: the model may still declare one, but the database has it no more."""
    dropped, added = set(), set()
    for r in facts.revisions:
        for op in r.upgrade:
            if op.table == table and op.target and op.name == "drop_constraint":
                dropped.add(op.target)
            elif op.table == table:
                added.update(c.name for c in op.constraints if c.name)
    for st in table_sql(facts, table):
        if st.kind == "alter_table":
            dropped.update(st.details.get("dropped_constraints") or ())
            added.update(str(c["name"]) for c in st.details.get("added_constraints") or () if c.get("name"))
    return dropped - added


def _never_built(facts: Facts, ix: Key) -> bool:
    """Whether the migration step that makes `ix` runs only where an inspector check finds no index on its
    columns, and the key it repeats is there by then (an earlier revision or step made it): on PostgreSQL
    get_indexes also lists the key's index, so the check finds it and the index is never built."""
    return any(chain_finds(facts, r, op) is not None for r in facts.revisions for op in r.upgrade
               if op.name == "create_index" and op.guarded and op.span == ix.span)


def _maybe_dropped(facts: Facts, table: str, ix: Key) -> bool:
    """Whether a migration may have dropped `ix` though the replay keeps it: indexes dropped by names built at run
    time (`DROP INDEX {name}` in a loop), or, for an index the replay knows by its columns only (`index=True` in a
    create_table), a drop of the name SQLAlchemy gives it (`ix_<table>_<column>`), which the replay cannot tie to it."""
    default = f"ix_{table}_{'_'.join(ix.columns)}"
    for r in facts.revisions:
        for op in r.upgrade:
            names = [op.target] if op.name == "drop_index" else [
                str(n) for st in (op.sql.statements if op.sql else ()) if st.kind == "drop"
                and st.details.get("type") == "OBJECT_INDEX" for n in st.details.get("names", ())]
            if any(n and ("dbreview_dynamic" in n or (ix.name is None and n.split(".")[-1] == default)) for n in names):
                return True
    return False


def _not_plain(facts: Facts, span: Span) -> bool:
    """Whether the statement that makes an index gives it what its columns alone do not say (a collation, an operator
    class, an expression, another method), which the facts may not carry: not the key's twin, then."""
    text = "\n".join(facts.lines(span))
    return re.search(r"\bCOLLATE\b|_ops\b|postgresql_ops|postgresql_using|postgresql_include|\bINCLUDE\s*\(|\b(?:lower|upper|coalesce)\s*\(",
                     text, re.I) is not None


def _unique_keys(schema: TableFact, migrated: bool) -> list[Key]:
    """The primary key and the unique constraints and indexes of `schema` (no predicate): what finds rows by their
    leading columns whatever else is indexed. A composite primary key the model alone declares has no known order."""
    out = [Key(c.name, c.columns, None, c.span, "primary key" if c.kind == "primary_key" else "unique constraint")
           for c in schema.constraints if c.kind in ("primary_key", "unique") and c.columns]
    out += [Key(ix.name, ix.columns, None, ix.span, "unique index") for ix in schema.indexes
            if ix.unique and ix.where is None and ix.columns]
    out += [Key(None, (c.name,), None, c.span, "unique constraint") for c in schema.columns.values() if c.unique]
    pk = tuple(c.name for c in schema.columns.values() if c.primary_key)
    if pk and not any(k.kind == "primary key" for k in out) and (migrated or len(pk) == 1):
        out.append(Key(None, pk, None, next(c.span for c in schema.columns.values() if c.primary_key), "primary key"))
    return out


def _plain_indexes(schema: TableFact) -> list[Key]:
    """The indexes of `schema` that are no key: not unique, no predicate, btree, each column a column of the table."""
    out = [Key(ix.name, ix.columns, None, ix.span) for ix in schema.indexes
           if not ix.unique and ix.where is None and (ix.using or "btree").lower() == "btree" and ix.columns
           and all(c in schema.columns for c in ix.columns)]
    out += [Key(None, (c.name,), None, c.span) for c in schema.columns.values() if c.index and not c.unique]
    return list({k.columns: k for k in reversed(out)}.values())


class JsonbWithoutGin(Rule):
    """A JSONB column the code queries into has no GIN index.

    What it checks:
        JSONB columns with no index using `gin` (in the model or the migrations) that the code
        queries: `Model.col.contains(...)`, `.has_key()`, `.op("@>")`, `@>`/`?` in SQL (warning), or
        `Model.col["key"]` key reads (info). Columns never queried into (arrays included: stored and
        read whole in Python, an index would only cost writes) are left to the drafted answer, and so
        are calls like `jsonb_path_exists()` that no index serves. So are tests an index on the column
        would not serve (analyzers/facts/json_context.py): negated (`~`, `not_()`, `!=`), one branch of
        an OR that also tests other columns, on a table joined into a query that tests another table's
        column (`.join(Org, ...).where(Order.status == s, ...)`: the JSON test filters the joined rows), or in a query that also compares an indexed column of the
        same table with a value known at run time (a key, an owner's id: that index finds the rows),
        filters gathered in a list first (`filters.append(...)`) taken as one query, or in a correlated
        subquery (`.correlate_except()`, `.scalar_subquery()`) that ties the table to another by a key
        (`Data.item_id == Item.id`: the outer row finds its rows). Key reads that are columns the query
        returns, sorts or groups by (`select(Model.col["k"].astext.label("k"))`, `.order_by(...)`) filter
        nothing. A test or key read a function builds and returns (`return Model.col.has_any(x)`) is judged
        where the modules that mention the function call it, with what each caller's query does around it;
        found nowhere, a returned containment test is info that says its query is elsewhere. Reads in
        migrations, command-line tooling and backfills (`*backfill*`: a data fix run once) are no queries the
        application serves.
    Why it matters:
        Containment and key-existence queries (`@>`, `?`) on JSONB without GIN scan every row; a GIN
        index costs writes, so it is wanted only where the column is queried that way.
    Example:
        settings: Mapped[dict] = mapped_column(JSONB)
    Instead:
        `Index("ix_org_settings", "settings", postgresql_using="gin")` if it is queried.
    """

    ID = "PERF002"
    ITEM = "8.3"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (Index("ix_settings", "settings", postgresql_using="gin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONB)
''', HEADER + '''
class Organization(Base):  # stored and read whole, never queried into: no index needed
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONB)
''')
    INVALID = ({"app/models.py": HEADER + '''
class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONB)
''', "queries.py": '''
from sqlalchemy import select
from models import Organization
def on_plan(plan):
    return select(Organization).where(Organization.settings.contains({"plan": plan}))
'''},)

    def check(self):
        uses: dict[tuple[str, str], list] = {}
        for use in followed(self.facts):
            if not _one_off(use.span.path):
                uses.setdefault((use.owner, use.attr), []).append(use)
        raw = [u for u in self.facts.sql if u.text and not _one_off(u.span.path)]
        for table in self.facts.tables.values():
            gin = {c for ix in all_indexes(table, self.facts) if (ix.using or "").lower() == "gin" for c in ix.columns}
            gin |= {
                c for st in table_sql(self.facts, table.name)
                if st.kind == "create_index" and str(st.details.get("using", "")).lower() == "gin"
                for c in st.details.get("columns", ())
            }
            for col in table.columns.values():
                if col.type_name != "JSONB" or col.name in gin:
                    continue
                queried = [u for u in uses.get((table.class_name or "", col.attr or col.name), [])
                           if not u.operation.startswith(_JSON_WRITES) and _index_may_serve(u, table, self.facts)]
                in_sql = [u for u in raw if _queries_json(u.text or "", col.name, table.name)]
                if not (queried or in_sql):
                    continue  # a document stored and read whole: the drafted answer to q8.3 lists it
                containment = [u for u in queried if u.operation in _CONTAINMENT]
                containment += [u for u in in_sql if _queries_json(u.text or "", col.name, table.name, containment=True)]
                if containment and all(getattr(u, "returned", False) for u in containment):
                    site, what = containment[0].span, containment[0].operation
                    yield self.finding(
                        f"{table.qualified}.{col.name} is JSONB with no GIN index; the code builds a `{what}` test on it "
                        f"and returns it ({site.path}:{site.start}): the query that runs it is built elsewhere, which "
                        "dbreview did not follow. If that query finds its rows by this test (not through a key of "
                        "the row or a join), a GIN index serves it; check its plan",
                        col.span, f"table:{table.name}.{col.name}:gin", severity=Severity.INFO,
                        related=[(u.span, "test built here") for u in containment[:10]],
                    )
                    continue
                if containment:
                    site = containment[0].span
                    what = getattr(containment[0], "operation", "@>")
                    yield self.finding(
                        f"{table.qualified}.{col.name} is JSONB with no GIN index, and the code queries it with `{what}` "
                        f"({site.path}:{site.start}): containment and key-existence queries scan the table",
                        col.span, f"table:{table.name}.{col.name}:gin", severity=Severity.WARNING,
                        related=[(u.span, "queried here") for u in containment[:10]],
                    )
                    continue
                # Key reads an expression index can serve; jsonb_path_exists() and other functions use no index.
                queried = [u for u in queried if u.operation == "[]"]
                if not (queried or in_sql):
                    continue
                site = (queried or in_sql)[0].span
                yield self.finding(
                    f"{table.qualified}.{col.name} is JSONB and the code reads keys out of it ({site.path}:{site.start}); if "
                    "it filters on them, an expression index on (col->>'key') serves equality, a GIN index serves "
                    "containment (@>): check the query plans",
                    col.span, f"table:{table.name}.{col.name}:gin",
                    related=[(u.span, "read here") for u in (queried or in_sql)[:10]],
                )


def _one_off(path: str) -> bool:
    """Migrations, commands and backfills run once: an index is wanted for the queries the application serves."""
    return tooling_kind(path) == "migration or command-line tooling" or is_one_off_path(path)


def _index_may_serve(use, table: TableFact, facts: Facts) -> bool:
    """Whether an index on the JSON column could be how PostgreSQL finds the rows of this use: not when the
    test is negated (no index serves NOT, !=), one branch of an OR (served only if every branch has an index
    of its own, which dbreview does not follow), or when the query also compares an indexed column of the
    same table with `==` or `.in_()` (a key, a foreign key it is joined on): that index finds the rows and
    the JSON test only filters them."""
    if use.negated or use.in_or or use.joined or use.projected:
        return False
    by_attr = {c.attr or c.name: c.name for c in table.columns.values()}
    leads = index_leads(table, facts)
    return not any(owner == use.owner and by_attr.get(attr) in leads for owner, attr in use.narrowed_by)


# What a GIN index serves (containment, key existence, jsonpath operators); jsonb_path_exists() and
# other functions do not use it, and jsonb_set() writes rather than queries.
_CONTAINMENT = frozenset(("contains", "contained_by", "has_key", "has_any", "has_all")) | frozenset(
    f"op({o})" for o in ("@>", "<@", "?", "?|", "?&", "@?", "@@")
)
_JSON_WRITES = ("jsonb_set", "jsonb_insert", "jsonb_strip_nulls", "json_set", "jsonb_build", "json_build")


def _queries_json(sql: str, column: str, table: str, containment: bool = False) -> bool:
    """Does the SQL query into `table`.`column`: the column, qualified by the table or an alias the statement gives
    it (`FROM project p ... p.info->>'k'`), or bare in a statement that reads the table or in a fragment of no table
    (`text("(payload->>'k')::int")` inside an ORM query)? Another table's column of the same name is not this one."""
    if column not in sql:
        return False  # most SQL never names the column: skip the regular expression (columns x statements)
    ops = r"@>|<@|\?\||\?&|\?|@\?|@@" if containment else r"@>|<@|\?\||\?&|\?|->>|->|#>>|#>|@\?|@@"
    name = re.escape(table)
    names = {table} | {a for a in re.findall(rf'\b(?:FROM|JOIN|UPDATE)\s+"?(?:\w+\.)?{name}"?\s+(?:AS\s+)?(\w+)', sql, re.I)}
    reads = re.search(rf'\b(?:FROM|JOIN|UPDATE|INTO)\s+"?(?:\w+\.)?{name}"?(?!\w)', sql, re.I) or not re.search(
        r"\b(?:FROM|JOIN|UPDATE|INTO)\b", sql, re.I)  # a fragment a query of the ORM wraps: its table is the query's
    for m in re.finditer(rf'(?:"?(\w+)"?\.)?\b{re.escape(column)}\s*({ops})', sql):
        if (m.group(1) in names) if m.group(1) else reads:
            return True
    return False


class DynamicRelationship(Rule):
    """A relationship loads lazily in a way that invites N+1 queries.

    What it checks:
        Two shapes. A loop: a synchronous query of the application whose rows a `for` loop (in its body) or a
        comprehension runs over, reading on each row a relationship that loads lazily (no `lazy=`, `lazy=True` or
        `lazy="select"`), with no `selectinload`/`joinedload`/`subqueryload`/`raiseload` of it in the query's
        options. No finding where the options cannot be read (built elsewhere), where the class of the rows or of
        the attribute is not known (a column, a property or a hybrid is not a relationship), or for a many-to-one
        whose foreign key the query pins with `==` (all rows share one parent, which the session loads once), or for
        a relationship the loop assigns before it reads it (`row.parent = parents[row.parent_id]`). One
        finding a query, at the first read, naming every such relationship; the query, the loop, the reads and the
        relationships are cited. And a declaration: `lazy="dynamic"` or `lazy="select"` written out on a collection
        (a many-to-one, whose foreign key is on this side, is not a collection), in a project whose application
        code uses SQLAlchemy's asyncio API only (no synchronous engine or session); in synchronous code the
        declaration alone is a deliberate choice (a paginated query, one parent at a time), no finding.
    Why it matters:
        Each lazy read in the loop is one more query per row: a page of 100 rows makes 101 round trips. Under
        asyncio an implicit lazy load raises (MissingGreenlet) instead of querying, and a `dynamic`
        relationship is not supported by AsyncSession at all (`write_only` is its replacement).
    Example:
        appointments = relationship("Appointment", lazy="dynamic")
    Instead:
        For a loop, `.options(selectinload(Model.rel))` (or `joinedload` for a many-to-one) in the query it runs
        over; under asyncio, `lazy="selectin"` (or `raise` plus explicit `selectinload()` in the queries that need it).
    """

    ID = "PERF003"
    ITEM = "8.4"
    SEVERITY = Severity.INFO
    VALID = (HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", lazy="selectin")
''',)
    INVALID = ({"app/models.py": HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointments = relationship("Appointment", lazy="dynamic")
''', "db.py": "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(URL, pool_pre_ping=True)\n"},)
    VALID = VALID + (HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
class Award(Base):  # many-to-one: one row per award, not a collection
    __tablename__ = "awards"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user = relationship("User", foreign_keys="Award.user_id", lazy="select")
''',)

    _TEAMS = HEADER + '''
class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    team: Mapped[Team] = relationship()
'''
    INVALID = INVALID + ({"app/models.py": _TEAMS, "app/views.py": '''
from sqlalchemy.orm import Session
from app.models import Member
def roster(session):
    return [m.team.name for m in session.query(Member).all()]
'''},)
    VALID = VALID + ({"app/models.py": _TEAMS, "app/views.py": '''
from sqlalchemy.orm import selectinload
from app.models import Member
def roster(session):
    return [m.team.name for m in session.query(Member).options(selectinload(Member.team)).all()]
'''},)

    def check(self):
        async_api = app_calls(self.facts, "create_async_engine", "async_sessionmaker", "async_scoped_session")
        sync_api = [c for c in app_calls(self.facts, "create_engine", "sessionmaker", "scoped_session")
                    if c.name.rsplit(".", 1)[-1] in ("create_engine", "sessionmaker", "scoped_session")]
        yield from self._loops()
        if not async_api or sync_api:
            return  # synchronous sessions too: which one reaches a relationship is not followed here
        by_class = {t.class_name: t for t in self.facts.tables.values() if t.class_name}
        for table in self.facts.tables.values():
            for rel in table.relationships:
                if rel.lazy in ("dynamic", "select") and rel.uselist is not False and not many_to_one(table, rel, by_class):
                    yield self.finding(
                        f"{table.class_name}.{rel.attr} loads with lazy=\"{rel.lazy}\" while the application uses "
                        "SQLAlchemy's asyncio API: an access that is not eagerly loaded raises instead of querying",
                        rel.span, f"relationship:{table.class_name}.{rel.attr}:lazy",
                        related=[(first_line(async_api[0].span), "the asyncio engine or session factory")],
                    )


    def _loops(self):
        """N+1: relationships that load lazily read on each row a synchronous query's loop runs over; one finding a
        query, at the first read, naming every relationship it reads so."""
        seen: set[str] = set()
        for q, table, reads in lazy_loop_reads(self.facts):
            first = reads[0]
            anchor = f"function:{first.read.path}:{q.function}:{table.class_name}:n+1"
            if anchor in seen:
                continue  # a second query of the class in the function: the first one's finding says it
            seen.add(anchor)
            names = ", ".join(f"{table.class_name}.{r.rel.attr}" for r in reads)
            to_one = [f"{table.class_name}.{r.rel.attr}" for r in reads if r.many_to_one]
            yield self.finding(
                f"{q.function} loops over the {table.class_name} rows of the query at {q.span.path}:{q.span.start} "
                f"(loop at line {first.loop.start}) and reads {names} on each row; "
                f"{'they load' if len(reads) > 1 else 'it loads'} lazily ({declared_lazy(reads)}, no "
                f"selectinload/joinedload in the query), so each read is one more query per row (N+1)"
                + (f"; {', '.join(to_one)} {'is a many-to-one' if len(to_one) == 1 else 'are many-to-one'}: one query "
                   "per distinct parent the session does not hold yet" if to_one else ""),
                first.read, anchor,
                related=[(q.span, "the query"), (first_line(first.loop), "the loop over its rows"),
                         *((r.read, f"reads {r.rel.attr}") for r in reads[1:]),
                         *((r.rel.span, f"{table.class_name}.{r.rel.attr} loads lazily") for r in reads)],
            )


class CountByLoadingRows(Rule):
    """Rows are counted by loading them all.

    What it checks:
        `len(...)` of `.all()` (or `.fetchall()`) on a query: `len((await session.execute(stmt)).scalars().all())`,
        `len(Model.query.filter(...).all())`, in application code. A query with `.limit()` is left alone, and
        so are the rows a DELETE, UPDATE or INSERT ... RETURNING gives back (the write's own result). Info where
        the query compares every column of a unique key (the primary key, a unique column, constraint or index)
        with `==`: it loads one row at most, a test for existence; info too, saying so, in a module-level function
        that nothing in the application's code calls (INT010's call facts).
    Why it matters:
        Every matching row crosses the wire and becomes an ORM object (with its identity-map entry) just
        to be counted: the cost grows with the table, where `SELECT count(*)` costs one row.
    Example:
        total = len((await session.execute(select(Patient).where(Patient.org_id == org))).scalars().all())
    Instead:
        `await session.scalar(select(func.count()).select_from(Patient).where(...))`, or `query.count()`.
    """

    ID = "PERF004"
    ITEM = "8.4"
    SEVERITY = Severity.WARNING
    VALID = ({"models.py": HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
''', "app/services.py": '''
from sqlalchemy import func, select
from models import Patient
async def count_patients(session):
    return await session.scalar(select(func.count()).select_from(Patient))
async def first_two(session):
    return len((await session.execute(select(Patient).limit(2))).scalars().all())
'''},)
    INVALID = ({"app/models.py": HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
''', "app/services.py": '''
from sqlalchemy import select
from models import Patient
async def count_patients(session):
    result = await session.execute(select(Patient))
    return len(result.scalars().all())
''', "app/routes.py": '''
from app.services import count_patients

@router.get("/patients/count")
async def patient_count(session=Depends(get_session)):
    return await count_patients(session)
'''},)

    def check(self):
        for usage in app_usage(self.facts):
            for span, function in usage.len_all:
                message = (f"{function} counts rows with len(...all()): every matching row is loaded to be counted; "
                           "select(func.count()) returns the number alone")
                key = _pinned_key(self.facts, span, function)
                dead = uncalled_function(self.facts, span, methods=False)
                if key is not None:  # at most one row crosses the wire: nothing grows with the table
                    message = (f"{function} tests for a row with len(...all()), but its query compares the unique key "
                               f"of {key[0]} ({', '.join(key[1])}) with ==, so it loads one row at most: `.first() is not None` "
                               "says the same, and nothing grows with the table")
                elif dead is not None:
                    message += f" (it is in {dead}(), {NO_CALL}: nothing runs it yet)"
                yield self.finding(message, span, f"function:{span.path}:{function}:len-all",
                                   severity=Severity.INFO if key is not None or dead is not None else None)


def _pinned_key(facts: Facts, span: Span, function: str) -> tuple[str, tuple[str, ...]] | None:
    """The table and unique key (primary key, unique column, constraint or index) that the query counted at `span` (the
    last one its function builds at or before that line) compares with `==` on every column; None otherwise."""
    built = [(q, t) for q, t in app_queries(facts) if q.span.path == span.path and q.function == function
             and q.span.start <= span.start]
    if not built:
        return None
    q, table = max(built, key=lambda pair: pair[0].span.start)
    if q.opaque_filter or table.unknown_bases:
        return None
    found = key_lookup(facts, table, q.equals)
    return (table.name, found) if found else None


class LazyLoadUnderAsync(Rule):
    """A relationship that loads lazily is read on an object loaded under AsyncSession.

    What it checks:
        Where the project uses AsyncSession: an async function that loads objects with `await
        session.execute(select(Model)...)` (or `scalars`, `get`), then reads a relationship of them whose
        loading is SQLAlchemy's default (`lazy="select"`), with no `selectinload`/`joinedload` of it in the
        query's options and no `session.refresh(obj, [...])` in between.
    Why it matters:
        Reading an unloaded lazy relationship runs a query implicitly; under asyncio that cannot happen
        inside attribute access, and SQLAlchemy raises `MissingGreenlet` (greenlet_spawn has not been
        called): the endpoint fails the first time the path runs with data.
    Example:
        patient = (await session.execute(select(Patient).where(Patient.id == pid))).scalar_one()
        return patient.visits          # Patient.visits has no lazy= and the query has no selectinload
    Instead:
        `.options(selectinload(Patient.visits))` in the query, `lazy="selectin"` (or `"raise"`) on the
        relationship (SQLModel: `Relationship(sa_relationship_kwargs={"lazy": "selectin"})`, which dbreview reads
        as relationship()'s own keywords), or `await patient.awaitable_attrs.visits`.
    """

    ID = "PERF005"
    ITEM = "8.4"
    SEVERITY = Severity.WARNING
    _MODELS = HEADER + '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    visits: Mapped[list["Visit"]] = relationship(back_populates="patient")
class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    patient: Mapped["Patient"] = relationship(back_populates="visits")
'''
    _DB = '''
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
'''
    VALID = ({"models.py": _MODELS, "app/db.py": _DB, "app/services.py": '''
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from models import Patient
async def visits_of(session, pid):
    stmt = select(Patient).where(Patient.id == pid).options(selectinload(Patient.visits))
    patient = (await session.execute(stmt)).scalar_one()
    return patient.visits
'''},)
    INVALID = ({"models.py": _MODELS, "app/db.py": _DB, "app/services.py": '''
from sqlalchemy import select
from models import Patient
async def visits_of(session, pid):
    patient = (await session.execute(select(Patient).where(Patient.id == pid))).scalar_one()
    return patient.visits
'''},)

    def check(self):
        if not uses_async_sessions(self.facts):
            return
        seen: set[tuple[str, int, str]] = set()
        for q, table in app_queries(self.facts):
            if not q.is_async or q.opaque_options or q.columns_only or not q.reached:
                continue
            rels = {r.attr: r for r in table.relationships}
            for attr, span in q.reached:
                rel = rels.get(attr)
                if rel is None or attr in q.eager or rel.lazy not in DEFAULT_LAZY or (q.span.path, q.span.start, attr) in seen:
                    continue
                seen.add((q.span.path, q.span.start, attr))
                yield self.finding(
                    f"{q.function} reads {table.class_name}.{attr} on a {table.class_name} loaded by the query at "
                    f"{q.span.path}:{q.span.start} under AsyncSession, without selectinload/joinedload of it; the "
                    f"relationship loads lazily ({rel.span.path}:{rel.span.start}), so the read raises MissingGreenlet",
                    span, f"function:{span.path}:{q.function}:{table.class_name}.{attr}:lazy",
                    related=[(q.span, "the query"), (rel.span, "the relationship")],
                )
