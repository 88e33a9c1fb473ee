"""Where a model and the table its migrations build disagree column by column: the SQL type, NULL or NOT NULL,
the indexes and unique constraints the model declares (MIG006 reports them). Only what both sides spell out
is compared: a type dbreview cannot resolve (a TypeDecorator that picks its type per dialect, a library's
type, an Enum that may be VARCHAR), a column made by SQL it only knows by name, or a table whose migrations
hold something it could not read gives no finding."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterator

from analyzers.facts.conventions import conventions_of
from analyzers.facts.link import replay, revision_trees, written_string
from analyzers.facts.model import ColumnFact, Facts, RevisionFact, Span, TableFact
from analyzers.rules.mentions import mentions
from analyzers.rules.runs_on import runs_on
from analyzers.rules.schema import is_test_path, migration_gaps, migration_sql, table_named, table_sql, views

# SQL types by family: within a family the difference is a length or a spelling (String vs Text, JSON vs
# JSONB, Integer vs BigInteger), which autogenerate and reviewers treat apart; across families the column
# holds another kind of value.
_FAMILIES = {
    "string": ("String", "VARCHAR", "Unicode", "NVARCHAR", "CHAR", "NCHAR", "Text", "TEXT", "UnicodeText", "AutoString",
               "CITEXT", "CIText"),
    "uuid": ("UUID", "Uuid"),
    "integer": ("Integer", "INTEGER", "INT", "BigInteger", "BIGINT", "SmallInteger", "SMALLINT"),
    "numeric": ("Numeric", "NUMERIC", "DECIMAL"),
    "float": ("Float", "FLOAT", "REAL", "DOUBLE", "DOUBLE_PRECISION", "Double"),
    "boolean": ("Boolean", "BOOLEAN"),
    "timestamp": ("DateTime", "TIMESTAMP", "DATETIME"),
    "date": ("Date", "DATE"),
    "time": ("Time", "TIME"),
    "interval": ("Interval", "INTERVAL"),
    "json": ("JSON", "JSONB"),
    "binary": ("LargeBinary", "BYTEA", "BLOB", "BINARY", "VARBINARY"),
    "inet": ("INET", "CIDR"),
    "array": ("ARRAY",),
}
_FAMILY = {name: family for family, names in _FAMILIES.items() for name in names}
_TYPE_WORDS = {"string": "text", "uuid": "UUID", "integer": "integer", "numeric": "NUMERIC", "float": "floating point",
               "boolean": "boolean", "timestamp": "timestamp", "date": "date", "time": "time", "interval": "interval",
               "json": "JSON", "binary": "binary", "inet": "INET", "array": "ARRAY"}


def family(c: ColumnFact, model: bool) -> str | None:
    """The family of a column's type, or None when it cannot be told for certain."""
    args = c.type_args
    if args.get("unresolved") or (model and c.type_ref and "impl" not in args):
        return None  # a library's type, an alias or a TypeDecorator dbreview could not follow (one it could: its impl)
    name = args.get("impl", c.type_name)
    if model and args.get("annotated") and c.py_type in ("list", "dict", "List", "Dict"):
        return None  # a collection annotation: the base's type_annotation_map usually decides (ARRAY, JSONB)
    return _FAMILY.get(name or "")


def type_drift(model: TableFact, col: ColumnFact, other: ColumnFact, facts: Facts) -> tuple[str, bool] | None:
    """What differs between the column's type in the model and in the migrations, and whether that is harmless
    on every database the application runs on (an info then): another family of type, or an integer the model
    lets grow past what the column holds."""
    mine, theirs = family(col, True), family(other, False)
    if mine is None or theirs is None or sql_touches(facts, model.name, col.name):
        return None
    if col.type_args.get("annotated") and (model.unknown_bases or col.foreign_keys):
        return None  # typed by its annotation only: a base's map, or the referenced column, may decide
    impl = col.type_args.get("impl")
    spelled = f"{col.type_name}, a TypeDecorator over {impl}" if impl and impl != col.type_name else col.type_name
    where = f"{other.typed_at.path}:{other.typed_at.start}"
    if mine == theirs:
        return _narrower(model, col, other, spelled, where, facts) if mine == "integer" else None
    said = (f"{model.name}.{col.name} is {_TYPE_WORDS[mine]} in the model ({spelled}) "
            f"but {_TYPE_WORDS[theirs]} in the migrations ({other.type_name}, {where}): ")
    if {mine, theirs} == {"boolean", "integer"}:
        return _boolean_integer(said, col.name, other, mine, facts)
    return (said + "the values the ORM binds are not those the column holds, and autogenerate will propose to alter "
            "the type", False)


_PG_NAMES = {"SmallInteger": "smallint", "SMALLINT": "smallint", "BigInteger": "bigint", "BIGINT": "bigint"}


def _boolean_integer(said: str, column: str, other: ColumnFact, mine: str, facts: Facts) -> tuple[str, bool]:
    """PostgreSQL has no assignment cast between boolean and integer; MySQL's BOOL is TINYINT(1) and SQLite
    keeps either as an integer."""
    known = runs_on(facts)
    elsewhere = "MySQL's BOOL is TINYINT(1) and SQLite stores both as integers"
    if known.not_postgres:
        return (said + f"harmless on the databases it runs on, {known.not_postgres} ({elsewhere}), but autogenerate "
                "will propose to alter the type, and on PostgreSQL every write of it would fail", True)
    held = "boolean" if mine == "integer" else _PG_NAMES.get(other.type_name or "", "integer")
    return (said + f"on PostgreSQL every insert or update that writes it fails (column \"{column}\" is of type {held} "
            f"but expression is of type {'integer' if mine == 'integer' else 'boolean'}: there is no assignment cast "
            "between them)" + (f"; on {known.others} it is harmless ({elsewhere})" if known.also_others else "")
            + ", and autogenerate will propose to alter the type", False)


INT_BYTES = {"SmallInteger": 2, "SMALLINT": 2, "Integer": 4, "INTEGER": 4, "INT": 4, "BigInteger": 8, "BIGINT": 8}
INT_LARGEST = {2: "32,767", 4: "2,147,483,647"}


def _narrower(model: TableFact, col: ColumnFact, other: ColumnFact, spelled: str, where: str,
              facts: Facts) -> tuple[str, bool] | None:
    """An integer column the migrations make narrower than the model: values the model allows fail on insert,
    except on SQLite, whose INTEGER holds 8 bytes whatever the declared type."""
    mine = INT_BYTES.get(col.type_args.get("impl", col.type_name or ""))
    theirs = INT_BYTES.get(other.type_name or "")
    if mine is None or theirs is None or mine <= theirs:
        return None  # a column wider than the model: it holds all the model allows
    known = runs_on(facts)
    only_sqlite = bool(known.found) and set(known.found) == {"SQLite"}
    return (f"{model.name}.{col.name} is {spelled} in the model but {other.type_name} in the migrations ({where}): "
            + ("harmless on SQLite, the only database the application runs on (its INTEGER holds 8 bytes), but"
               if only_sqlite else f"values above {INT_LARGEST[theirs]} pass the model and fail on insert (integer out of "
               "range), and") + " autogenerate will propose to alter the type", only_sqlite)


BOUNDED = ("String", "VARCHAR", "Unicode", "NVARCHAR", "CHAR", "NCHAR")


def length(c: ColumnFact) -> int | None:
    """The length a character column spells out as a number (`String(255)`, `VARCHAR(64)`, `varchar(64)` in
    SQL), else None: no length, a name for one, or a TypeDecorator whose impl may set its own."""
    spelled = c.type_args.get("length", "")
    return int(spelled) if c.type_name in BOUNDED and "impl" not in c.type_args and spelled.isdigit() else None


def length_drift(model: TableFact, db: TableFact, facts: Facts) -> list[tuple[ColumnFact, ColumnFact, int, int]]:
    """(model column, migrated column, length in the model, length in the migrations) for each character
    column whose two sides spell out different lengths."""
    out = []
    for col in model.columns.values():
        other = db.columns.get(col.name)
        if other is None or col.from_library or family(col, True) != "string" or family(other, False) != "string":
            continue
        if col.type_args.get("annotated") and (model.unknown_bases or col.foreign_keys):
            continue  # typed by its annotation only: a base's map may decide
        mine, theirs = length(col), length(other)
        if mine is not None and theirs is not None and mine != theirs and (restated := _restated_on_mysql(facts, model.name, other)):
            theirs, other = restated[0], replace(other, type_span=restated[1])
        if mine is not None and theirs is not None and mine != theirs and not sql_touches(facts, model.name, col.name):
            out.append((col, other, mine, theirs))
    return out


_SPELLED_LENGTH = re.compile(r"\b(?:String|VARCHAR|Unicode|NVARCHAR|CHAR)\(\s*(?:length\s*=\s*)?(\d+)", re.I)


def _restated_on_mysql(facts: Facts, table: str, column: ColumnFact) -> tuple[int, Span] | None:
    """Where the application is known to run on MySQL and not PostgreSQL: the length the last `op.alter_column` of
    the column after the step that typed it gives through `existing_type=` with no `type_=` (a rename, a NULL-ness
    change), and where. MySQL's CHANGE/MODIFY COLUMN restate the whole column, so Alembic writes existing_type into
    them: the column takes that type, where PostgreSQL keeps its own."""
    known = runs_on(facts)
    if not known.not_postgres or "MySQL" not in known.found:
        return None
    typed, passed, found = column.typed_at, False, None
    for rev in facts.revisions:
        for op in rev.upgrade:
            passed = passed or (op.span.path == typed.path and op.span.start <= typed.start <= op.span.end)
            if not passed or op.name != "alter_column" or op.table != table or "type_" in op.options:
                continue
            renamed = op.columns[0].attr if op.columns else op.target
            spelled = _SPELLED_LENGTH.search(op.options.get("existing_type", ""))
            if column.name in (op.target, renamed) and spelled is not None:
                found = (int(spelled.group(1)), op.span)
    return found


def sql_touches(facts: Facts, table: str, column: str) -> bool:
    """Migration SQL naming the column that may change it in a way the replay does not follow: an ALTER
    TABLE with a command the replay does not know (analyzers/facts/sql.py), a statement it could not
    classify. After it the column's type and NULL-ness are unknown."""
    word = re.compile(rf"\b{re.escape(column)}\b")
    return any((st.kind in ("other", "unparsed") or st.kind == "alter_table" and not st.details.get("replayed"))
               and word.search(st.text) for st in table_sql(facts, table))


def nullability_drift(model: TableFact, db: TableFact, facts: Facts) -> Iterator[tuple[ColumnFact, ColumnFact, bool]]:
    """(model column, migrated column, NULL allowed in the model) for each column whose NULL-ness differs."""
    keyed = {c for con in model.constraints if con.kind == "primary_key" for c in con.columns}
    for col in model.columns.values():
        other = db.columns.get(col.name)
        if other is None or col.primary_key or other.primary_key or other.type_name is None or col.from_library:
            continue
        if col.name in keyed:
            continue  # in the model's PrimaryKeyConstraint: NOT NULL whatever the column says
        if col.nullable is None and (model.unknown_bases or col.type_args.get("unresolved")):
            continue  # what the model implies rests on a type or base dbreview could not read
        if any(x is not None for x in (col.default, col.server_default, other.default, other.server_default)):
            continue  # a default fills it: the difference shows only when NULL is written on purpose
        if col.is_nullable != other.is_nullable and not sql_touches(facts, model.name, col.name):
            yield col, other, col.is_nullable


def _identifiers(columns: tuple[str, ...]) -> bool:
    return bool(columns) and all(c.isidentifier() for c in columns)


def _migrated_keys(facts: Facts, db: TableFact) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(every index and key the migrations build, the unique ones), as column tuples."""
    indexes: list[tuple[str, ...]] = []
    unique: list[tuple[str, ...]] = []
    for c in db.columns.values():
        if c.unique or c.primary_key:
            unique.append((c.name,))
        if c.index:
            indexes.append((c.name,))
    pk = tuple(c.name for c in db.columns.values() if c.primary_key)
    if pk:
        unique.append(pk)
    for con in db.constraints:
        if con.kind in ("unique", "primary_key"):
            unique.append(con.columns)
    for ix in db.indexes:
        (unique if ix.unique and not ix.where_python else indexes).append(ix.columns)
    for st in table_sql(facts, db.name):
        if st.kind == "create_index":
            cols = tuple(st.details.get("columns") or ())  # type: ignore[arg-type]
            (unique if st.details.get("unique") else indexes).append(cols)
    return indexes + unique, unique


def _names_in_migrations(facts: Facts) -> dict[str, set[str]]:
    """Every string quoted in a revision file, once: a name an index or constraint has there is built
    by some migration, even in a form the replay does not follow (a helper function, a loop over a
    dict). Per kind of quote, the pieces between consecutive ones: `"name"` occurs in the text exactly
    when `name` (holding no `"`) is one of them; sets, as hundreds of revisions are megabytes."""
    names = facts.derived.get("migration_names")
    if names is None:
        text = "\n".join(
            line for path in dict.fromkeys(r.path for r in facts.revisions) for line in facts.lines(Span(path, 1, 10**9)))
        names = facts.derived["migration_names"] = {q: set(text.split(q)[1:-1]) for q in "\"'"}
    return names  # type: ignore[return-value]


def quoted_in_migrations(facts: Facts, name: str | None) -> bool:
    return bool(name) and any(q not in name and name in quoted for q, quoted in _names_in_migrations(facts).items())


def _unique_keys(facts: Facts, db: TableFact) -> list[tuple[tuple[str, ...], Span]]:
    """The keys the migrations make unique over the whole table (no partial index), with where."""
    keys = [((c.name,), c.span) for c in db.columns.values() if c.unique]
    keys += [(con.columns, con.span) for con in db.constraints if con.kind in ("unique", "primary_key")]
    keys += [(ix.columns, ix.span) for ix in db.indexes if ix.unique and ix.where is None and not ix.where_python]
    keys += [(tuple(st.details.get("columns") or ()), st.span) for st in table_sql(facts, db.name)  # type: ignore[arg-type]
             if st.kind == "create_index" and st.details.get("unique") and not st.details.get("where")]
    return [(k, span) for k, span in keys if _identifiers(k)]


def _other_key(facts: Facts, db: TableFact, cols: tuple[str, ...], where: str | None) -> str | None:
    """For a unique key of the model that no migration builds: what the database enforces instead, when
    the migrations make a part of its columns unique (stricter) or a wider set of them (looser)."""
    wanted = set(cols)
    for key, span in _unique_keys(facts, db):
        extra = ", ".join(sorted(wanted ^ set(key)))
        at = f"({', '.join(key)}) unique ({span.path}:{span.start})"
        if set(key) < wanted:
            return (f"while the migrations make {at}: the database enforces stricter uniqueness, and rejects a second "
                    f"row with the same {', '.join(key)} even when its {extra} differs"
                    + (" or the index's WHERE leaves one of the rows out" if where else ""))
        if set(key) > wanted:
            return (f"while the migrations make {at}: the database accepts rows the model's key forbids (the same "
                    f"{', '.join(cols)} under another {extra}); one side is stale")
    return None


def missing_keys(model: TableFact, db: TableFact, facts: Facts) -> list[tuple[Span, str, str]]:
    """What the model declares indexed or unique that the migrations never build: (where, what, kind), kind
    "index", "unique", or for a unique key the database enforces differently, what it enforces instead."""
    every, unique = _migrated_keys(facts, db)
    leads = {k[0] for k in every if k}
    unique_sets = [set(k) for k in unique]
    out: list[tuple[Span, str, str]] = []

    def unique_missing(span: Span, what: str, cols: tuple[str, ...], where: str | None = None) -> None:
        out.append((span, what, _other_key(facts, db, cols, where) or "unique"))

    for col in model.columns.values():
        if col.primary_key or col.name not in db.columns or col.from_library:
            continue
        if quoted_in_migrations(facts, f"ix_{model.name}_{col.name}") or quoted_in_migrations(facts, f"uq_{model.name}_{col.name}"):
            continue
        if col.unique and {col.name} not in unique_sets:
            unique_missing(col.span, f"unique {col.name}", (col.name,))
        elif col.index and not col.unique and col.name not in leads:
            out.append((col.span, f"index on {col.name}", "index"))
    for ix in model.indexes:
        cols = ix.columns
        if not _identifiers(cols) or any(c not in db.columns for c in cols) or ix.where_python or quoted_in_migrations(facts, ix.name):
            continue
        if ix.unique and set(cols) not in unique_sets:
            unique_missing(ix.span, f"unique index {ix.name or ''} ({', '.join(cols)})".replace("  ", " ")
                           + (f" WHERE {ix.where}" if ix.where else ""), cols, ix.where)
        elif not ix.unique and not any(set(k) == set(cols) or k[: len(cols)] == cols for k in every):
            out.append((ix.span, f"index {ix.name or ''} ({', '.join(cols)})".replace("  ", " "), "index"))
    for con in model.constraints:
        cols = con.columns
        if con.kind == "unique" and not quoted_in_migrations(facts, con.name) and _identifiers(cols) and all(c in db.columns for c in cols) and set(cols) not in unique_sets:
            unique_missing(con.span, f"unique ({', '.join(cols)})", cols)
    return out


def dropped_by(facts: Facts, model: TableFact) -> tuple[RevisionFact, Span] | None:
    """The last upgrade that drops the model's table (op.drop_table, DROP TABLE), when the replay ends without it; not
    a table of that name in another PostgreSQL schema (`drop_table("tenants")` beside a model of shared.tenants)."""
    schema = _schema(model.schema)
    found = None
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "drop_table" and op.table == model.name and _schema(written_string(op.options.get("schema"))) == schema:
                found = (rev, op.span)
            for st in op.sql.statements if op.sql is not None else ():
                if st.kind == "drop" and st.details.get("type") == "OBJECT_TABLE" and any(
                        name == model.name and _schema(of) == schema
                        for name, of in zip(st.details.get("names") or (), st.details.get("schemas") or ())):
                    found = (rev, st.span)
    return found


def _schema(name: str | None) -> str | None:
    """A PostgreSQL schema as a name in it resolves: an unqualified name is public's (the default search_path)."""
    return None if name in (None, "public") else name


def stale_models(facts: Facts) -> list[TableFact]:
    """The model tables the migrations drop and never create again, where what the upgrades do to them was read
    whole: the database at head has no such table, so what the model says of it is no finding of the schema's."""
    cached = facts.derived.get("stale_models")
    if isinstance(cached, list):
        return cached
    out = []
    if facts.revisions and facts.migration_tables:
        made_views = views(facts)
        for t in facts.tables.values():
            schema = own_schema(facts, t)
            if t.name in (facts.migration_tables if schema is None else schema) or t.name in made_views:
                continue
            if not migration_gaps(facts, t.name) and dropped_by(facts, t) is not None:
                out.append(t)
    facts.derived["stale_models"] = out
    return out


def schema_built_apart(facts: Facts, model: TableFact) -> Span | None:
    """For a model in a PostgreSQL schema (`shared.tenants`) that no migration creates a table in, or whose table
    the migrations change there without creating it (`add_column("tenants", ..., schema="shared")`): a create_all
    of the application's own code (outside tests and revisions), which may build it apart from Alembic."""
    schema = _schema(model.schema)
    if schema is None:
        return None
    there = [op for rev in facts.revisions for op in rev.upgrade if _schema(written_string(op.options.get("schema"))) == schema]
    named = [op for op in there if op.table == model.name]
    if any(op.name == "create_table" for op in named) or (not named and any(op.name == "create_table" for op in there)):
        return None  # the migrations create it, or create that schema's tables and leave this one alone
    revisions = {r.path for r in facts.revisions}
    return next((span for span, _ in mentions(facts, {"create_all"})["create_all"]
                 if span.path not in revisions and not is_test_path(span.path)), None)


_CREATE_ALL = re.compile(r"([A-Za-z_][\w.]*)\.metadata\.create_all\s*\(")


def built_by_create_all(facts: Facts) -> dict[str, Span]:
    """The MetaData (keyed as ClassIndex.metadata_of keys them) that the application's own code builds with
    `Base.metadata.create_all(engine)`, outside tests and revisions: where none of its tables is in the
    migrations, a database of its own (an undo log beside the users' database) that no Alembic tree makes."""
    cached = facts.derived.get("built_by_create_all")
    if isinstance(cached, dict):
        return cached
    symbols, classes = facts.derived.get("symbols"), facts.derived.get("classes")
    revisions = {r.path for r in facts.revisions}
    modules = {m.path: m for m in facts.modules}
    out: dict[str, Span] = {}
    for span, line in mentions(facts, {"create_all"})["create_all"] if symbols and classes else ():
        found, module = _CREATE_ALL.search(line), modules.get(span.path)
        if span.path in revisions or is_test_path(span.path) or found is None or module is None:
            continue
        head, dot, rest = found.group(1).partition(".")  # `Base` as the module binds it: `app.undo.Base`
        bound = module.bindings.get(head)
        qualified = (bound.name if bound is not None else f"{module.module}.{head}") + dot + rest
        key = classes.metadata_of(symbols.resolve(qualified, module.module))  # type: ignore[union-attr]
        if key is not None:
            out.setdefault(key, span)
    facts.derived["built_by_create_all"] = out
    return out


def created_from_models(facts: Facts) -> dict[str, Span]:
    """The MetaData (keyed as ClassIndex.metadata_of keys them) whose create_all an upgrade runs on a MetaData it
    imports (`from app.db import Base; Base.metadata.create_all(bind=op.get_bind())`): that revision creates the
    models' tables of it as the models are when it runs."""
    cached = facts.derived.get("created_from_models")
    if isinstance(cached, dict):
        return cached
    symbols, classes = facts.derived.get("symbols"), facts.derived.get("classes")
    out: dict[str, Span] = {}
    for rev in facts.revisions if symbols and classes else ():
        imported = {local: qualified for local, qualified, _ in rev.imports}
        for op in rev.upgrade:
            found = _CREATE_ALL.search(f"{op.target}(") if op.name == "unread" and op.target else None
            head, dot, rest = found.group(1).partition(".") if found else ("", "", "")
            if head in imported:
                key = classes.metadata_of(symbols.resolve(imported[head] + dot + rest))  # type: ignore[union-attr]
                if key is not None:
                    out.setdefault(key, op.span)
    facts.derived["created_from_models"] = out
    return out


def named_outside(facts: Facts, model: TableFact) -> list[Span]:
    """Where the application's code names the model's class outside its own definition, comments aside."""
    if not model.class_name:
        return []
    word = re.compile(rf"(?<!\w){re.escape(model.class_name)}(?!\w)")
    return [span for span, line in mentions(facts, {model.class_name})[model.class_name]
            if word.search(line.split("#", 1)[0]) and not (span.path == model.span.path and model.span.start <= span.start <= model.span.end)]


# ON DELETE / ON UPDATE actions. RESTRICT and NO ACTION both reject the change while rows refer to the
# key (they differ only in when the check runs), so they are one for this comparison.
_ACTIONS = {"CASCADE": "CASCADE", "SET NULL": "SET NULL", "SET DEFAULT": "SET DEFAULT", "NO ACTION": "NO ACTION",
            "RESTRICT": "NO ACTION"}


@dataclass(frozen=True, slots=True)
class Fk:
    """One foreign key as a side declares it: its columns, the table it refers to, its two actions."""

    columns: tuple[str, ...]
    refers: str
    ondelete: str | None
    onupdate: str | None
    span: Span
    unread: bool  # an action written as a name or **options

    def action(self, which: str) -> str | None:
        """The action normalised (None when it is not one PostgreSQL knows)."""
        return _ACTIONS.get(" ".join((getattr(self, which) or "NO ACTION").upper().split()))


def _fks(table: TableFact) -> list[Fk]:
    out = [Fk((c.name,), fk.table, fk.ondelete, fk.onupdate, fk.span, fk.actions_unread)
           for c in table.columns.values() if not c.from_library for fk in c.foreign_keys]
    return out + [Fk(con.columns, (con.target or "").rsplit(".", 1)[0], con.ondelete, con.onupdate, con.span, con.actions_unread)
                  for con in table.constraints if con.kind == "foreign_key"]


def fk_action_drift(model: TableFact, db: TableFact, facts: Facts) -> list[tuple[Fk, Fk, list[str]]]:
    """(the model's key, the migrated one, the actions that differ: "ondelete", "onupdate") for each foreign
    key both sides declare over the same columns to the same table. Nothing is said of a key whose
    constraints the replay may have lost track of (see fks_unsettled), of one declared twice on a side,
    nor of an action written as a name."""
    unsettled = fks_unsettled(facts, db.name)
    if unsettled is None:
        return []
    theirs: dict[tuple[str, ...], list[Fk]] = {}
    for fk in _fks(db):
        theirs.setdefault(fk.columns, []).append(fk)
    mine: dict[tuple[str, ...], list[Fk]] = {}
    for fk in _fks(model):
        mine.setdefault(fk.columns, []).append(fk)
    out = []
    for cols, keys in mine.items():
        other = theirs.get(cols, [])
        if len(keys) != 1 or not other or unsettled & set(cols) or any(k.unread for k in [*keys, *other]):
            continue
        m = keys[0]
        if len({(o.action("ondelete"), o.action("onupdate"), o.refers) for o in other}) != 1:
            continue  # two keys over these columns that differ: which one the database has is not known
        o = other[-1]
        refers = table_named(facts, m.refers)
        if refers is None or refers != o.refers.rsplit(".", 1)[-1]:
            continue  # another table, or one dbreview cannot name: not the same key
        differ = [w for w in ("ondelete", "onupdate")
                  if None not in (m.action(w), o.action(w)) and m.action(w) != o.action(w)]
        if differ:
            out.append((m, o, differ))
    return out


def fks_unsettled(facts: Facts, table: str) -> set[str] | None:
    """The columns of `table` whose foreign keys the replay may not know as they are (a column dropped,
    then maybe added again without its key), or None when none of its keys can be trusted: a constraint
    dropped by a name the migrations never give one of its constraints (a naming convention's name, a
    key made by SQL the replay could not follow), a key made or dropped under an inspector check, a table
    renamed into this name, or migration SQL about its constraints that the replay does not follow (steps
    only another database runs are not PostgreSQL's, and not looked at). Once per table and scan, the set shared (callers do not change it):
    REL005 asks it of every table for each table it may reference (fides: 1,377 passes over every step)."""
    known: dict[str, set[str] | None] = facts.derived.setdefault("fks_unsettled", {})  # type: ignore[assignment]
    if table not in known:
        known[table] = _replayed_fks(facts, table)
    return known[table]


def _replayed_fks(facts: Facts, table: str) -> set[str] | None:
    from analyzers.facts.link import _default_name

    known: set[str] = set()
    dropped: list[str | None] = []
    columns: set[str] = set()
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.not_postgres:
                continue  # not replayed either (link.replay): PostgreSQL's keys are those of the other steps
            if op.sql is not None:
                for st in op.sql.statements:
                    if st.kind == "rename_table" and st.details.get("new") == table:
                        return None
                    if st.table != table:
                        continue
                    if st.kind == "create_index":
                        known.add(str(st.details.get("name")))
                    for con in st.details.get("added_constraints", ()):  # type: ignore[union-attr]
                        known.add(con.get("name") or _default_name(table, con["kind"], tuple(con.get("columns", ()))))
                    dropped += st.details.get("dropped_constraints", ())  # type: ignore[arg-type]
                    columns.update(st.details.get("dropped_columns", ()))  # type: ignore[arg-type]
                continue
            if op.name == "rename_table" and op.target == table:
                return None
            if op.table != table:
                continue
            if op.guarded and (op.name in ("create_foreign_key", "drop_constraint", "create_table", "add_column")):
                return None
            if op.name == "drop_constraint":
                dropped.append(op.target)
            elif op.name == "drop_column" and op.target:
                columns.add(op.target)
            known |= {ix.name for ix in op.made_indexes if ix.name}
            for con in op.constraints:
                known.add(con.name or _default_name(table, con.kind, con.columns))
            for c in op.columns:
                known |= {_default_name(table, kind, (c.name,)) for kind, made in
                          (("unique", c.unique), ("foreign_key", c.foreign_keys), ("primary_key", c.primary_key)) if made}
    if any(name is None or name not in known for name in dropped) or _constraint_sql(facts, table):
        return None
    return columns


def _constraint_sql(facts: Facts, table: str) -> bool:
    """Migration SQL that names `table` and speaks of constraints or references in a form the replay does
    not follow (a DO block, an ALTER TABLE it does not replay, SQL it could not parse)."""
    risky = facts.derived.get("constraint_sql")
    if risky is None:
        risky = facts.derived["constraint_sql"] = [
            st.text for st in migration_sql(facts).statements
            if (st.kind in ("other", "unparsed", "dynamic_sql") or st.kind == "alter_table" and not st.details.get("replayed"))
            and re.search(r"constraint|foreign|references", st.text, re.I)]
    word = re.compile(rf"\b{re.escape(table)}\b")
    return any(word.search(text) for text in risky)  # type: ignore[union-attr]


_ACTION_EFFECT = {
    ("ondelete", "CASCADE"): "deletes those rows", ("ondelete", "SET NULL"): "sets their {cols} to NULL",
    ("ondelete", "SET DEFAULT"): "sets their {cols} to its default", ("ondelete", "NO ACTION"): "rejects the delete",
    ("onupdate", "CASCADE"): "updates their {cols} with it", ("onupdate", "SET NULL"): "sets their {cols} to NULL",
    ("onupdate", "SET DEFAULT"): "sets their {cols} to its default", ("onupdate", "NO ACTION"): "rejects the change",
}


def fk_action_said(table: str, m: Fk, o: Fk, differ: list[str]) -> str:
    """What the database does on this key that the model does not say, for each action that differs."""
    cols, parent = ", ".join(m.columns), o.refers.rsplit(".", 1)[-1]
    parts = []
    for w in differ:
        event = "is deleted" if w == "ondelete" else "has its key changed"
        parts.append(
            f"{'ON DELETE' if w == 'ondelete' else 'ON UPDATE'} {_written(m, w)} in the model but {_written(o, w)} in the "
            f"migrations: when a {parent} row that {table} rows refer to {event}, the database "
            f"{_ACTION_EFFECT[w, o.action(w)].format(cols=cols)} where the model {_ACTION_EFFECT[w, m.action(w)].format(cols=cols)}")
    return f"{cols} -> {parent} ({o.span.path}:{o.span.start}): " + "; ".join(parts)


def _written(fk: Fk, which: str) -> str:
    value = getattr(fk, which)
    return " ".join(value.upper().split()) if value else "not set (NO ACTION)"


_REVISION_DIRS = ("alembic", "migrations", "migration")


def service_root(folder: str) -> str:
    """The folder of the service an Alembic tree belongs to: what comes before its `alembic` or `migrations`
    folder (`inference/server/` for inference/server/alembic/versions; '' at the repository's root)."""
    parts = folder.split("/")
    cut = next((i for i, part in enumerate(parts) if part in _REVISION_DIRS), len(parts))
    return "".join(f"{part}/" for part in parts[:cut])


def service_schemas(facts: Facts) -> dict[str, dict[str, TableFact]]:
    """The schema each service's Alembic trees build, by the service's folder (service_root), where the repository
    holds services whose trees sit apart and migrate databases of their own: trees of two of them create a table of the
    same name (backend/ and inference/server/ each create `message`), which one database could not hold. {} otherwise:
    services that share one database (a worker's tree beside the backend's) are compared as one schema."""
    found = facts.derived.get("service_schemas")
    if found is None:
        roots: dict[str, list[RevisionFact]] = {}
        for tree in revision_trees(facts.revisions).values():
            roots.setdefault(service_root(tree[0].path.rsplit("/", 1)[0]), []).extend(tree)
        found = {}
        if len(roots) > 1:
            ordered = {root: [r for r in facts.revisions if id(r) in {id(x) for x in revs}] for root, revs in roots.items()}
            found = {root: replay(revs, conventions_of(facts)) for root, revs in ordered.items()}
            names = [set(schema) for schema in found.values()]
            if not any(a & b for i, a in enumerate(names) for b in names[i + 1:]):
                found = {}
        facts.derived["service_schemas"] = found
    return found  # type: ignore[return-value]


def service_of(facts: Facts, path: str) -> str | None:
    """The folder of the service (service_schemas) that holds `path`, the nearest; None: none does, or there are none."""
    holding = [root for root in service_schemas(facts) if path.startswith(root)]
    return max(holding, key=len) if holding else None


def own_schema(facts: Facts, model: TableFact) -> dict[str, TableFact] | None:
    """The schema the trees of the model's own service build, where services migrate databases of their own
    (service_schemas); None where they do not, or no service's folder holds the model's module (every tree's
    schema, facts.migration_tables, is the one to compare with)."""
    root = service_of(facts, model.path)
    return None if root is None else service_schemas(facts)[root]
