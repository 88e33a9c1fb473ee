"""Per-module facts -> the whole target's schema: inheritance and mixins resolved across modules,
and the migrations replayed in revision order into the schema they build."""

from __future__ import annotations

import posixpath
import re
from dataclasses import fields, is_dataclass, replace
from typing import Callable, Iterable

from analyzers.facts.classes import ClassIndex, flask_table_name
from analyzers.facts.table_names import settle_name
from analyzers.facts.databases import engine_database, other_database, own_metadata, url_scheme
from analyzers.facts.effects import effects, unread_ops
from analyzers.facts.engines import FLASK_ENGINE
from analyzers.facts.library_tables import library_tables
from analyzers.facts.conventions import conventions_of, convention_names
from analyzers.facts.model import (
    CallFact, ClassFact, ConstraintFact, Facts, IndexFact, ModuleFacts, RevisionFact, Span, Squashed, TableFact, Unread,
)
from analyzers.facts.paths import is_test_path, tooling_kind
from analyzers.facts.python_module import FACTORY_CALLS, FLASK_OPTIONS, TEMPLATE_NAMES
from analyzers.facts.symbols import Symbols
from analyzers.facts.version_locations import parked


def link(
    facts: Facts,
    modules: list[ModuleFacts],
    unread: list[Unread] | None = None,
    paths: Iterable[str] = (),
    load: Callable[[str], ModuleFacts | None] | None = None,
) -> Facts:
    """The target's facts from its modules'; `unread`: files that could not be read at all. `paths` are
    all the target's Python files and `load` reads one of those not read yet, for names that lead
    through them (a package's __init__ that re-exports `db`)."""
    paths = list(paths)
    modules = _filled_templates(modules, Symbols(modules, paths, load)) if any(m.templates for m in modules) else modules
    facts.modules = modules
    symbols = facts.derived["symbols"] = Symbols(modules, paths, load)  # rules follow names too (schema.function_source)
    for m in modules:  # `__tablename__ = WORKFLOWS_TABLE` imported: named before ClassIndex decides what is mapped
        for cls in m.classes:
            if cls.tablename_from and cls.tablename is None:
                cls.tablename = symbols.string(cls.tablename_from, m.module)
    classes = facts.derived["classes"] = ClassIndex(modules, symbols)  # and which base a name is (alembic_env.py)
    found: list[TableFact] = []
    of_class: dict[int, TableFact] = {}
    tool_bases: set[str] = set()  # the tools that declare a base of their own: their Tables mirror another database too
    for cls in classes.all:
        if classes.is_mapped(cls) and not is_test_path(cls.path):
            base = classes.declarative(cls)
            if base is not None and base.site is not None and base.site.path == cls.path and _tool(cls.path):
                tool_bases.add(cls.path)
                continue  # a command-line tool's own base (a mirror of another database's table): not the app's schema
            table = of_class[id(cls)] = classes.table_of(cls)
            table.registry = classes.metadata_of(base)
            if table.view:
                facts.views.setdefault(table.name, table)
            else:
                found.append(table)
            if base is not None and base.site is not None and base.site not in facts.bases:
                facts.bases.append(base.site)
    for cls in classes.all:  # single-table inheritance: a subclass's columns are its parent's table's
        parent = classes.single_table_parent(cls)
        if parent is not None and id(parent) in of_class:
            for c in cls.columns:
                of_class[id(parent)].columns.setdefault(c.name, c)
    own_classes = {name.rsplit(".", 1)[-1] for name in classes.symbols.classes}  # what `db = MyAlchemy()` may be
    for m in modules:
        if m.revision is not None:
            facts.revisions.append(m.revision)
        if is_test_path(m.path):
            continue  # tests, scripts, examples: not evidence of what the application does
        for t in m.tables:
            t = _with_helper_columns(t, m, symbols) if t.helper_calls else t
            t = replace(t, columns={n: classes.typed(c, m.module) for n, c in t.columns.items()}, registry=_registry(classes, t, m))
            own = bool(t.metadata) and own_metadata(classes.symbols, t.metadata, m.module)
            if (own or m.path in tool_bases and _local_base(classes, t, m)) and _tool(m.path):
                continue  # a command-line tool's own MetaData (a mirror of another database's table): not the app's schema
            elsewhere = other_database(m) if own else None
            if elsewhere:  # a ClickHouse or SQLite table on a MetaData of its own: not the application's PostgreSQL
                facts.other_tables.setdefault(t.name, replace(t, database=elsewhere))
            else:
                found.append(t)
        facts.listeners.extend(m.listeners)
        facts.calls.extend(_followed_calls(m, classes.symbols, own_classes))
        facts.sql.extend(m.sql)
        facts.json_uses.extend(m.json_uses)
    facts.calls = _flask_options(facts.calls)
    modules_of = {m.path: m.module for m in modules}
    found = [settle_name(t, symbols, modules_of.get(t.path, "")) if t.named_by else t for t in found]
    found = [_settled_schema(t, symbols, facts.root) if t.schema_unsure and not t.schema else t for t in found]
    facts.tables = _by_name(found)
    for m in modules:  # registry.map_imperatively(User, user_table): the class of a Table(...)
        for cls, variable in m.imperative:
            table = _table_bound(m, variable, facts.tables)
            if table is not None and table.class_name is None:
                _take_class(table, cls)
    by_class = {t.class_name: t for t in facts.tables.values() if t.class_name}
    for m in modules:
        for owner, index in m.loose_indexes:
            table = by_class.get(owner) or _table_bound(m, owner, facts.tables)
            if table is not None:
                table.indexes.append(replace(index, table=table.name))
    facts.library_tables = library_tables(facts, classes, of_class)
    facts.revisions = _helpers_followed(facts.revisions, symbols, facts.root)
    hidden = parked(facts.revisions, {*paths, *(m.path for m in modules)}, facts.root)
    facts.revisions = [r for r in facts.revisions if r.path not in hidden]
    facts.squashed = squashed_trees(facts.revisions)
    gone = {id(r) for s in facts.squashed for r in s.revisions}
    facts.revisions = [r for r in ordered(facts.revisions) if id(r) not in gone]
    _type_migration_columns(facts.revisions, modules, classes)
    facts.migration_tables = replay(facts.revisions, conventions_of(facts))
    facts.tables.update(_named_by_migrations(facts, classes))
    facts.unread = [*(unread or ()), *_unread(modules, facts.revisions), *unsettled(facts.revisions)]
    # A table whose name is known only in part: what the migrations and their SQL say of it may be under its real name.
    facts.unread += [Unread("name", t.span, t.name_unsure, table=t.name) for t in facts.tables.values() if t.name_unsure]
    return facts


def _helpers_followed(revisions: list[RevisionFact], symbols: Symbols, root: str) -> list[RevisionFact]:
    """The revisions that use names imported from the project, read again with their calls of the project's own
    functions followed into their modules (neutron's `dvr_init_opts.upgrade()`, a `create_table_if_not_exists(...)`
    helper): what those do is the revision's. Calls that lead to no function of the target stay in helper_calls."""
    import ast

    from analyzers import confine
    from analyzers.discover import decode
    from analyzers.facts.migrations import Helper, read_revision
    from analyzers.facts.names import Names, module_name
    from analyzers.facts.newer_syntax import parse_python
    from analyzers.facts.strings import constant_env

    def parsed(path: str, module: str) -> tuple[ast.Module, Names] | None:
        try:
            tree = parse_python(decode(confine.read_bytes(root, path)), path)
        except (OSError, SyntaxError, ValueError, RecursionError):
            return None
        return tree, Names(tree, module, path.endswith("__init__.py"))  # type: ignore[arg-type]

    helpers: dict[str, tuple[ast.Module, Names, dict[str, ast.FunctionDef]] | None] = {}  # each module read once

    def follow(qualname: str, near: str) -> Helper | None:
        found = symbols.function(qualname, near)
        if found is None or found[0].revision is not None:
            return None
        m, name = found
        if m.path not in helpers:
            read = parsed(m.path, m.module)
            helpers[m.path] = read and (*read, {n.name: n for n in read[0].body if isinstance(n, ast.FunctionDef)})
        if helpers[m.path] is None or name not in helpers[m.path][2]:  # type: ignore[index]
            return None
        tree, names, functions = helpers[m.path]  # type: ignore[misc]
        return Helper(functions[name], names, constant_env(tree.body), functions, tree, m.path)

    out = []
    for revision in revisions:
        read = parsed(revision.path, module_name(revision.path)[0]) if revision.imports else None
        if read is None:
            out.append(revision)
            continue
        tree, names = read
        out.append(read_revision(tree, names, revision.path, constant_env(tree.body), [], follow=follow))
    return out


def written_string(written: str | None) -> str | None:
    """A keyword argument as written (MigrationOp.options), when it is a string literal: `'staging'` -> staging."""
    import ast

    try:
        value = ast.literal_eval(written) if written else None
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _settled_schema(table: TableFact, symbols: Symbols, root: str) -> TableFact:
    """A schema named by a constant of the project (`{"schema": Schemas.LEGACY}`, an enum's member or a class's
    attribute, or `SCHEMA` of the module): the string it is assigned where it is declared. Else it stays unsure."""
    import ast

    from analyzers import confine
    from analyzers.facts.newer_syntax import parse_python

    near, _, expr = table.schema_unsure.partition(":")  # type: ignore[union-attr]
    owner, _, name = expr.rpartition(".")
    home = symbols.locate(near, near)[1]
    if owner:  # `Schemas.LEGACY`: the class where the module declares it, or where it imports it from
        imported = next((i.module for i in (home.imports.imports if home is not None and home.imports else ())
                         if owner in i.names), None)
        home = symbols.locate(imported, near)[1] if imported else home
    try:
        tree = parse_python(confine.read_text(root, home.path), home.path) if home is not None else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    body = tree.body if tree is not None else []
    if owner:
        body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == owner), [])
    for stmt in body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(stmt, "target", None)
        if isinstance(target, ast.Name) and target.id == name and isinstance(getattr(stmt, "value", None), ast.Constant) \
                and isinstance(stmt.value.value, str):  # type: ignore[union-attr]
            return replace(table, schema=stmt.value.value, schema_unsure=None)  # type: ignore[union-attr]
    return table


def _named_by_migrations(facts: Facts, classes: ClassIndex) -> dict[str, TableFact]:
    """The tables of classes whose library base names them (ClassIndex.named_by_library), which dbreview cannot read:
    the one table the migrations build under a name made from the class's (lower or snake case, plural or not)
    holding every column the class declares. None found, or more than one: the class stays unmapped (no guess)."""
    out: dict[str, TableFact] = {}
    for cls in classes.all:
        if is_test_path(cls.path) or not classes.named_by_library(cls):
            continue
        own = {c.name for c in cls.columns}
        matches = [n for n in _names_made_from(cls.name) if n in facts.migration_tables and n not in facts.tables
                   and n not in out and own <= set(facts.migration_tables[n].columns)]
        if len(matches) == 1:
            out[matches[0]] = replace(classes.table_of(cls), name=matches[0])
    return out


def _names_made_from(class_name: str) -> list[str]:
    """`ExtraDhcpOpt` -> extradhcpopt, extradhcpopts, extra_dhcp_opt, extra_dhcp_opts ...: how bases name tables."""
    out: list[str] = []
    for stem in dict.fromkeys((class_name.lower(), flask_table_name(class_name))):
        plural = stem[:-1] + "ies" if stem.endswith("y") and not stem.endswith(("ay", "ey", "oy", "uy")) else \
            stem + "es" if stem.endswith(("s", "x", "ch", "sh")) else stem + "s"
        out += [stem, plural]
    return list(dict.fromkeys(out))


def _with_helper_columns(table: TableFact, m: ModuleFacts, symbols: Symbols) -> TableFact:
    """The columns a Table(...) gets from calls of the target's functions that return one Column(...)
    (`_user_id_column("fk_name")`, `column_modified_by_user(users_table=users)`), read as if written there
    with the call's arguments in place of the parameters. A call dbreview cannot follow to such a function
    leaves the table's columns incomplete: named in `unknown_bases`, as a base it cannot read is."""
    columns, unknown = dict(table.columns), list(table.unknown_bases)
    for callee, args, keywords, span in table.helper_calls:
        found = symbols.function(callee, m.module)
        helper = found[0].column_helpers.get(found[1]) if found is not None else None
        made = helper_column(helper, found[0], args, dict(keywords)) if helper is not None and found is not None else None
        if made is None:
            unknown.append(f"{callee.rsplit('.', 1)[-1]}()")
            continue
        made = replace(made, span=span, declared_in=table.name)
        columns.setdefault(made.name, made)
    return replace(table, columns=columns, unknown_bases=tuple(dict.fromkeys(unknown)))


def helper_column(helper, module: ModuleFacts, args: tuple[str, ...], keywords: dict[str, str], attr: str = ""):
    """The Column a helper returns for these arguments (as written at the call), set to the class attribute `attr`
    if any, or None when they cannot be matched to its parameters."""
    import ast

    from analyzers.facts.columns import read_column
    from analyzers.facts.names import Names

    params, returned = helper
    if "**" in keywords or any(a.startswith("*") for a in args) or len(args) > len(params):
        return None
    given = dict(zip((p for p, _ in params), args)) | keywords
    values = {p: given.get(p, default) for p, default in params}
    if None in values.values() or not set(keywords) <= set(values):
        return None
    try:
        bound = {p: ast.parse(v, mode="eval").body for p, v in values.items()}  # type: ignore[arg-type]
        call = ast.parse(returned, mode="eval").body
    except SyntaxError:
        return None

    class Put(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return bound.get(node.id, node)

        def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
            self.generic_visit(node)
            if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant):
                return ast.Constant(not node.operand.value)  # `nullable=not required`
            return node

    call = ast.fix_missing_locations(Put().visit(call))
    names = Names(ast.Module(body=[], type_ignores=[]), module.module, False)
    names.aliases = {k: r.name for k, r in module.bindings.items() if r.kind == "name" and r.name}
    column = read_column(call, attr, None, names, module.path, "")  # type: ignore[arg-type]
    column.attr = attr or column.name
    return column if column.name else None


def _filled_templates(modules: list[ModuleFacts], symbols: Symbols) -> list[ModuleFacts]:
    """The classes mixins build for each mapped class that inherits them (ModuleFacts.templates), filled in
    for that class (`ProjectEvent` on `project_events` for `Project`), added to the mixin's module."""
    templates: dict[str, list[ClassFact]] = {}
    for m in modules:
        for mixin, template in m.templates:
            templates.setdefault(f"{m.module}.{mixin}", []).append(template)
    classes = ClassIndex(modules, symbols)
    made: dict[str, list[ClassFact]] = {}
    for cls in classes.all:
        if is_test_path(cls.path) or not classes.is_mapped(cls):
            continue
        for a in classes.ancestors(cls):
            for template in templates.get(f"{a.module}.{a.name}" if isinstance(a, ClassFact) else a.name, ()):
                names = {TEMPLATE_NAMES["name"]: cls.name, TEMPLATE_NAMES["lower"]: cls.name.lower(),
                         TEMPLATE_NAMES["table"]: classes.table_name(cls)}
                made.setdefault(template.path, []).append(_filled(template, names))
    return [replace(m, classes=[*m.classes, *made[m.path]]) if m.path in made else m for m in modules]


def _filled(value, names: dict[str, str]):
    """`value` (a fact, or what a fact holds) with every string's TEMPLATE_NAMES replaced by `names`."""
    if isinstance(value, str):
        for placeholder, name in names.items():
            value = value.replace(placeholder, name)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_filled(v, names) for v in value)
    if isinstance(value, dict):
        return {_filled(k, names): _filled(v, names) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _filled(getattr(value, f.name), names) for f in fields(value) if f.init})
    return value


def _tool(path: str) -> bool:
    """A command-line tool or migration helper (tools/, bin/, cli/ ...), not a module at the top of the
    repository (a small project's models.py)."""
    return tooling_kind(path) == "migration or command-line tooling"


def _take_class(table: TableFact, cls: str) -> None:
    """A `Table(...)` a class maps: its columns are that class's attributes (as a declarative class's are)."""
    table.class_name = cls
    for name, c in table.columns.items():
        table.columns[name] = replace(c, declared_in=cls)


def _table_bound(m: ModuleFacts, name: str, tables: dict[str, TableFact]) -> TableFact | None:
    """The `Table(...)` a module-level name of `m` is bound to (`roles_users = Table("roles_users", ...)`)."""
    span = m.binding_spans.get(name)
    if span is None:
        return None
    return next((t for t in tables.values() if t.path == m.path and span.start <= t.span.start <= span.end), None)


def _local_base(classes: ClassIndex, table: TableFact, m: ModuleFacts) -> bool:
    """Is a `Table(...)` on `Base.metadata` of a base its own module makes (`OldBase = declarative_base()`)?"""
    if not table.metadata or not table.metadata.endswith(".metadata"):
        return False
    where = classes.symbols.resolve(table.metadata.removesuffix(".metadata"), m.module).module
    return where is None or where.path == m.path


def _registry(classes: ClassIndex, table: TableFact, m: ModuleFacts) -> str | None:
    """The MetaData a `Table(...)` is on, when it is a base's (`Base.metadata`, `db.metadata`)."""
    if not table.metadata or not table.metadata.endswith(".metadata"):
        return None
    return classes.metadata_of(classes.symbols.resolve(table.metadata.removesuffix(".metadata"), m.module))


def _unread(modules: list[ModuleFacts], revisions: list[RevisionFact]) -> list[Unread]:
    """What could not be read: files that do not parse, revision ids and parents that are not constants,
    and in the upgrades, operations and SQL that could not be followed."""
    out = [Unread("file", Span(m.path, line or 1, line or 1), message) for m in modules for line, message in m.errors]
    for rev in revisions:
        out.extend(rev.unread)
        out.extend(unread_ops(rev.upgrade))
    return out


def unsettled(revisions: list[RevisionFact]) -> list[Unread]:
    """What the replay cannot settle, table by table: a table that two trees each create (one tree per
    database dialect, a legacy chain that no squash continues: which of them builds the database is not
    known), and the tables that two revision files of one tree with the same id touch (Alembic keeps one
    of them). The replay takes one side; a finding about such a table's migrated schema says so, lowered."""
    out: list[Unread] = []
    creators: dict[str, dict[str, Span]] = {}
    for tree, revs in revision_trees(revisions).items():
        first: dict[str, RevisionFact] = {}
        for r in revs:
            for e in effects(r.upgrade):
                if e.kind == "create_table" and e.table:
                    creators.setdefault(e.table, {}).setdefault(tree, e.span)
            other = first.setdefault(r.revision, r) if r.revision else r
            if other is not r:
                touched = {e.table for x in (other, r) for e in effects(x.upgrade) if e.table}
                out += [Unread("revision", r.span, f"{other.path} has the same revision id {r.revision}: Alembic keeps one "
                               "of the two files, and which one builds the database is not settled", table=t) for t in sorted(touched)]
    for table, trees in creators.items():
        if len(trees) > 1:
            (one, _), (two, span) = list(trees.items())[:2]
            out.append(Unread("history", span, f"{one} and {two} both create {table}, and which of the two trees builds "
                              "the database is not settled", table=table))
    return out


def _followed_calls(m: ModuleFacts, symbols: Symbols, own_classes: set[str]) -> list[CallFact]:
    """A module's calls, with what an engine or session factory call really calls: SQLAlchemy's (kept, by
    its own name), the app's own factory (kept `via` it: the engine is made inside, where its settings
    are), Flask-SQLAlchemy's extension or a subclass of it (its engine), or a variable that holds a
    factory (`async_sessionmaker()` makes a session: dropped)."""
    out: list[CallFact] = []
    for call in m.calls:
        if call.scope is None:
            out.append(call)
            continue
        short = call.name.rsplit(".", 1)[-1]
        if short not in FACTORY_CALLS and not (short.endswith("SQLAlchemy") or short in own_classes or "engine" in short.lower()):
            continue  # `router = APIRouter()`: no class of the target's that could be Flask-SQLAlchemy's
        value = symbols.resolve(call.name, m.module)
        if value.kind == "function":  # the app's own factory: the engine is made inside, with what this call passes
            call = replace(call, via=f"{value.module.module}.{short}" if value.module else call.name)
        elif short in FACTORY_CALLS and value.kind == "external":
            call = replace(call, name=value.name)
        elif symbols.is_flask(value):  # `db = SQLAlchemy(...)`, `db = MyAlchemy(...)`: Flask-SQLAlchemy makes the engine
            hooks = [c.name for c in _class_chain(symbols, value) if c.engine_hook]
            call = replace(call, name=FLASK_ENGINE, kwargs={**call.kwargs, **({"**": f"{hooks[0]} sets them in code"} if hooks else {})})
        else:
            continue
        if call.function:
            call = replace(call, factory=f"{m.module}.{call.function}")
        database = engine_database(call)
        out.append(replace(call, database=database) if database else call)
    return out


def _class_chain(symbols: Symbols, value, depth: int = 0):
    """The target's own classes a class value is, and inherits from."""
    if value.kind == "class" and value.cls is not None and depth < 12:
        yield value.cls
        for base in symbols.bases_of(value):
            yield from _class_chain(symbols, base, depth + 1)


def _flask_options(calls: list[CallFact]) -> list[CallFact]:
    """Flask-SQLAlchemy's engines with the options the app's configuration gives them (SQLALCHEMY_ENGINE_OPTIONS
    and the pool keys, wherever the application sets them; tests' configurations aside)."""
    given: dict[str, str] = {}
    urls: list[str] = []
    for c in calls:
        if c.name == FLASK_OPTIONS and not is_test_path(c.span.path):
            given.update((k, v) for k, v in c.kwargs.items() if k != "url")
            urls.extend(v for k, v in c.kwargs.items() if k == "url")
    if urls and all(url_scheme(u) == "sqlite" for u in urls):  # only SQLite configured: say so
        given["url"] = urls[0]
    return [replace(c, kwargs={**given, **c.kwargs}) if c.name == FLASK_ENGINE and given else c for c in calls]


def _by_name(tables: list[TableFact]) -> dict[str, TableFact]:
    """Tables by name; a name used in several PostgreSQL schemas (`events.settings`, `users.settings`) by
    schema and name, so that none hides another. Models that share a name and whose schema could not be
    read (set by a helper of the project's own) are told apart by class: `logs (EventLogEntry)`. Of one
    name written twice without a class (a `Table` defined in two places), the first is kept."""
    groups: dict[str, list[TableFact]] = {}
    for t in tables:
        groups.setdefault(t.name, []).append(t)
    out: dict[str, TableFact] = {}
    for name, group in groups.items():
        unknown = [t for t in group if t.schema is None and t.class_name]
        for t in group:
            if len(group) == 1:
                key = name
            elif t.schema is None and len(unknown) > 1 and t.class_name:
                key = f"{name} ({t.class_name})"
            else:
                key = t.qualified
            out.setdefault(key, t)
    return out


def revision_trees(revisions: list[RevisionFact]) -> dict[str, list[RevisionFact]]:
    """Revisions by Alembic tree. A versions folder is a tree, unless a revision names a parent that its
    folder lacks and exactly one other folder of the same environment defines (under the same
    `versions`: `version_locations` with a folder per release): then both are one tree. Trees of two
    environments, and trees that reuse revision ids, stay apart. A tree is named by the folder its
    folders share."""
    folders: dict[str, list[RevisionFact]] = {}
    for rev in sorted(revisions, key=lambda r: r.path):
        folders.setdefault(rev.path.rsplit("/", 1)[0], []).append(rev)
    defined: dict[str, set[str]] = {}
    for folder, revs in folders.items():
        for r in revs:
            if r.revision:
                defined.setdefault(r.revision, set()).add(folder)
    group = {folder: folder for folder in folders}

    def root(folder: str) -> str:
        while group[folder] != folder:
            group[folder] = group[group[folder]]
            folder = group[folder]
        return folder

    for folder, revs in folders.items():
        own = {r.revision for r in revs}
        for r in revs:
            for parent in (*r.down_revisions, *r.depends_on):
                elsewhere = defined.get(parent, set()) - {folder}
                if parent not in own and len(elsewhere) == 1 and _environment(folder) == _environment(next(iter(elsewhere))):
                    a, b = root(folder), root(next(iter(elsewhere)))
                    group[max(a, b)] = min(a, b)
    trees: dict[str, list[str]] = {}
    for folder in folders:
        trees.setdefault(root(folder), []).append(folder)
    out: dict[str, list[RevisionFact]] = {}
    for members in trees.values():
        name = members[0] if len(members) == 1 else posixpath.commonpath(members)
        out[name] = [r for folder in members for r in folders[folder]]
    return out


def squashed_trees(revisions: list[RevisionFact]) -> list[Squashed]:
    """Trees a squash replaced (model.Squashed): of two trees of one Alembic environment, one whose only
    head has the id of the other's first revision (which has no parent). A database stamped at that head
    is at the squash for Alembic, so the replaced tree is history and the other builds the schema. No
    other shape is settled here: two trees that share ids otherwise (one per database dialect, say) are
    both kept."""
    trees = revision_trees(revisions)
    out: list[Squashed] = []
    for name, revs in trees.items():
        ids = {r.revision for r in revs if r.revision}
        heads = ids - {p for r in revs for p in (*r.down_revisions, *r.depends_on)}
        if len(heads) != 1 or not any(r.down_revisions for r in revs):
            continue  # several heads, or a tree of roots alone (two one-file trees with one id: nothing settles it)
        env = {_environment(r.path.rsplit("/", 1)[0]) for r in revs}
        for other, theirs in trees.items():
            into = [r for r in theirs if r.revision in heads and not r.down_revisions]
            if other != name and len(into) == 1 and {_environment(r.path.rsplit("/", 1)[0]) for r in theirs} == env:
                out.append(Squashed(name, tuple(revs), into[0]))
                break
    replaced = {s.folder for s in out}
    return [s for s in out if _tree_of(trees, s.into) not in replaced]  # a squash replaced in turn: keep both


def _tree_of(trees: dict[str, list[RevisionFact]], rev: RevisionFact) -> str | None:
    return next((name for name, revs in trees.items() if any(r is rev for r in revs)), None)


def _environment(folder: str) -> str:
    """The Alembic environment a versions folder belongs to: what is above its `versions` (or itself)."""
    parts = folder.split("/")
    return "/".join(parts[: len(parts) - parts[::-1].index("versions") - 1]) if "versions" in parts else folder


def ordered(revisions: list[RevisionFact]) -> list[RevisionFact]:
    """Revisions parents first (a topological order, depends_on included), one tree after another: two
    Alembic trees in one repository may reuse revision ids. Unknown parents and cycles don't stop it;
    the walk is iterative, so a history of any length is ordered."""
    out: list[RevisionFact] = []
    for tree in _creators_first(list(revision_trees(revisions).values())):
        by_id: dict[str, RevisionFact] = {}
        for r in tree:
            if r.revision:
                by_id.setdefault(r.revision, r)
        done: set[str] = set()
        for rev in tree:
            if rev.revision is None or by_id.get(rev.revision) is not rev:
                out.append(rev)  # no id, or a second file with the same id: kept, outside the graph
            elif rev.revision not in done:
                _visit(rev, by_id, done, out)
    return out


def _creators_first(trees: list[list[RevisionFact]]) -> list[list[RevisionFact]]:
    """Trees in an order where one that alters a table it does not create comes after the tree that
    creates it: a plugin's own tree adds columns to the table the application's tree made, and replayed
    first its changes would fall on no table. Otherwise (and in a cycle) the trees keep their order."""
    creates = [_tables_created(tree) for tree in trees]
    needs = [{j for j, made in enumerate(creates) if j != i and (_tables_altered(tree) - creates[i]) & made}
             for i, tree in enumerate(trees)]
    out: list[int] = []
    while len(out) < len(trees):
        ready = [i for i in range(len(trees)) if i not in out and needs[i] <= set(out)]
        out.append(ready[0] if ready else next(i for i in range(len(trees)) if i not in out))
    return [trees[i] for i in out]


def _tables_created(tree: list[RevisionFact]) -> set[str]:
    return {op.table for r in tree for op in r.upgrade if op.name == "create_table" and op.table} | {
        st.table for r in tree for op in r.upgrade if op.sql for st in op.sql.statements if st.kind == "create_table" and st.table}


def _tables_altered(tree: list[RevisionFact]) -> set[str]:
    return {op.table for r in tree for op in r.upgrade if op.table and op.name not in ("create_table", "execute")}


def _visit(start: RevisionFact, by_id: dict[str, RevisionFact], done: set[str], out: list[RevisionFact]) -> None:
    """Depth first from `start` through its parents, each revision after them."""
    path = {start.revision}
    stack = [(start, iter((*start.down_revisions, *start.depends_on)))]
    while stack:
        rev, parents = stack[-1]
        for parent_id in parents:
            parent = by_id.get(parent_id)
            if parent is not None and parent_id not in done and parent_id not in path:
                path.add(parent_id)
                stack.append((parent, iter((*parent.down_revisions, *parent.depends_on))))
                break
        else:
            stack.pop()
            path.discard(rev.revision)
            done.add(rev.revision or "")
            out.append(rev)


def _type_migration_columns(revisions: list[RevisionFact], modules, classes: ClassIndex) -> None:
    """A revision's column typed with the project's own type (`from app.db import types`, `types.Uuid`): typed by
    what that type is (a TypeDecorator by its impl), as a model's is; what cannot be followed is marked unresolved."""
    module_of = {m.path: m.module for m in modules}
    for rev in revisions:
        module = module_of.get(rev.path)
        for op in (*rev.upgrade, *rev.downgrade) if module else ():
            if any(c.type_ref for c in op.columns):
                op.columns = [classes.typed(c, module) for c in op.columns]


def replay(revisions: list[RevisionFact], conventions: tuple[dict[str, str], ...] = (), *,
           outside: bool = False) -> dict[str, TableFact]:
    """The schema the upgrades build, table by table (created, altered, indexed, dropped); `conventions`: the
    models' MetaData naming conventions, which name what the migrations create unnamed (conventions.py).
    outside=True: a table no revision creates (made before the migrations, or by create_all) is there from its
    first step, holding only the columns the revisions add to it, so what they add has a known type."""
    tables: dict[str, TableFact] = {}
    renamed: dict[str, str] = {}  # old name -> new: sibling branches may replay in either order
    tree_of = {r.path: name for name, revs in revision_trees(revisions).items() for r in revs}
    for rev in revisions:
        for op in rev.upgrade:
            if op.not_postgres:
                continue  # the schema under review is PostgreSQL's: a step only another database runs is not in it
            if op.sql is not None:
                for st in op.sql.statements:
                    _apply_sql(tables, st, conventions)
                continue
            t = tables.get(op.table or "")
            if t is None and op.name != "create_table":
                name, hops = op.table or "", 0
                while name in renamed and hops < 8:
                    name, hops = renamed[name], hops + 1
                t = tables.get(name)
            if t is None and op.name == "drop_index" and op.target:  # op.drop_index("ix") without table_name
                t = next((x for x in tables.values() if any(i.name == op.target for i in x.indexes)), None)
            if t is None and outside and op.table and op.name not in ("create_table", "drop_table"):
                t = tables[op.table] = TableFact(op.table, None, rev.path, op.span)
            if op.name == "create_table" and op.table and t is not None and tree_of.get(rev.path) != tree_of.get(t.path):
                for c in op.columns:  # a table two trees create (see unsettled): what either of them adds is there
                    t.columns.setdefault(c.name, c)
                t.constraints.extend(_named(t.name, op.constraints, conventions))
            elif op.name == "create_table" and op.table:
                t = tables[op.table] = TableFact(op.table, None, rev.path, op.span, schema=written_string(op.options.get("schema")))
                for c in op.columns:
                    t.columns[c.name] = c
                t.constraints.extend(_named(t.name, op.constraints, conventions))
                t.indexes.extend(op.made_indexes)
            elif t is None:
                continue
            elif op.name == "add_column":
                for c in op.columns:
                    t.columns[c.name] = c
            elif op.name == "drop_column" and op.target:
                t.columns.pop(op.target, None)
            elif op.name == "drop_table":
                _drop_table(tables, t.name)
            elif op.name == "create_index" and op.index:
                t.indexes.append(op.index)
            elif op.name == "drop_index" and op.target:
                t.indexes = [i for i in t.indexes if i.name != op.target]
            elif op.name == "drop_constraint" and op.target:
                _drop_constraint(t, op.target, conventions)
            elif op.name.startswith("create_") and op.constraints:
                t.constraints.extend(_named(t.name, op.constraints, conventions))
            elif op.name == "alter_column" and op.columns and op.target in t.columns:
                old, new = t.columns[op.target], op.columns[0]
                if new.attr and new.attr != op.target:  # new_column_name=
                    t.columns.pop(op.target)
                    old = replace(old, name=new.attr, attr=new.attr)
                    _rename_in_keys(t, op.target, new.attr)
                t.columns[old.name] = replace(
                    old,
                    nullable=new.nullable if new.nullable is not None else old.nullable,
                    type_name=new.type_name or old.type_name,
                    type_args=new.type_args if new.type_name else old.type_args,
                    server_default=old.server_default if new.server_default is None else (
                        None if new.server_default == "None" else new.server_default),
                    default_span=old.default_span if new.server_default is None else op.span,
                    type_span=op.span if new.type_name else old.type_span,
                )
            elif op.name == "rename_table" and op.target:
                tables.pop(t.name, None)
                renamed[t.name] = op.target
                tables[op.target] = replace(t, name=op.target)
    return tables


def _rename_in_keys(t: TableFact, old: str, new: str) -> None:
    """PostgreSQL renames a column in the table's constraints and indexes too: so does the replay."""
    def swap(cols: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if c == old else c for c in cols)

    t.constraints = [replace(c, columns=swap(c.columns)) if old in c.columns else c for c in t.constraints]
    t.indexes = [replace(i, columns=swap(i.columns)) if old in i.columns else i for i in t.indexes]


def _apply_sql(tables: dict[str, TableFact], st, conventions: tuple[dict[str, str], ...] = ()) -> None:
    """Schema changes written as SQL in op.execute: CREATE INDEX, DROP INDEX, ADD/DROP CONSTRAINT."""
    d = st.details
    if st.kind == "create_table" and st.table and st.table not in tables and not d.get("temporary"):
        from analyzers.facts.model import ColumnFact

        t = tables[st.table] = TableFact(st.table, None, st.span.path, st.span, from_sql=True, partition_of=d.get("partition_of"))
        defaults, not_null = d.get("defaults") or {}, set(d.get("not_null") or ())
        for name in d.get("columns", ()):
            t.columns[name] = ColumnFact(
                name=name, attr=name, type_name=None, type_args={}, nullable=False if name in not_null else None,
                implied_nullable=name not in not_null,
                primary_key=False, unique=False, index=False, default=None, server_default=defaults.get(name), onupdate=None,
                foreign_keys=[], span=st.span, declared_in=st.table,
            )
    elif st.kind == "create_index" and st.table in tables:
        tables[st.table].indexes.append(
            IndexFact(str(d.get("name")), st.table, tuple(d.get("columns") or ()), bool(d.get("unique")), d.get("where"), d.get("using"), st.span)  # type: ignore[arg-type]
        )
    elif st.kind == "drop" and d.get("type") == "OBJECT_TABLE":
        for name in d.get("names", ()):
            _drop_table(tables, name)
    elif st.kind == "drop" and d.get("type") == "OBJECT_INDEX":
        for name in d.get("names", ()):
            for t in tables.values():
                t.indexes = [i for i in t.indexes if i.name != name]
    elif st.kind == "rename_index":
        for t in tables.values():
            t.indexes = [replace(i, name=str(d["new"])) if i.name == d.get("old") else i for i in t.indexes]
    elif st.kind == "rename_column" and st.table in tables and d.get("old") in tables[st.table].columns:
        t = tables[st.table]
        t.columns[str(d["new"])] = replace(t.columns.pop(str(d["old"])), name=str(d["new"]))
        _rename_in_keys(t, str(d["old"]), str(d["new"]))
    elif st.kind == "rename_table" and st.table in tables and d.get("new"):
        tables[str(d["new"])] = replace(tables.pop(st.table), name=str(d["new"]))
    elif st.kind == "alter_table" and st.table in tables:
        t = tables[st.table]
        for name in d.get("dropped_columns", ()):
            t.columns.pop(name, None)
        defaults = {c["column"]: c["default"] for c in d.get("changes", ()) if c.get("what") == "add_column" and c.get("default")}
        for name in d.get("added_columns", ()):
            from analyzers.facts.model import ColumnFact

            t.columns.setdefault(name, ColumnFact(
                name=name, attr=name, type_name=None, type_args={}, nullable=None, implied_nullable=True,
                primary_key=False, unique=False, index=False, default=None, server_default=defaults.get(name), onupdate=None,
                foreign_keys=[], span=st.span, declared_in=st.table,
            ))
        for name in d.get("dropped_constraints", ()):
            _drop_constraint(t, name, conventions)
        for con in d.get("added_constraints", ()):
            t.constraints.append(ConstraintFact(con["kind"], con.get("name"), tuple(con.get("columns", ())), con.get("expression"), st.span,
                                                con.get("ondelete"), con.get("target"), con.get("onupdate")))
        for change in d.get("changes", ()):
            _apply_column_change(t, change, st.span)


def _apply_column_change(t: TableFact, change: dict, span: Span) -> None:
    """ALTER COLUMN ... TYPE, SET/DROP NOT NULL, SET/DROP DEFAULT written as SQL, as op.alter_column would;
    the column's span then points at the statement that last set its type or NULL-ness."""
    c = t.columns.get(str(change.get("column")))
    what = change.get("what")
    if c is None:
        return
    if what == "alter_type" and change.get("type"):
        type_name, type_args = sql_type(str(change["type"]))
        t.columns[c.name] = replace(c, type_name=type_name, type_args=type_args, span=span)
    elif what in ("set_not_null", "drop_not_null"):
        t.columns[c.name] = replace(c, nullable=what == "drop_not_null", span=span)
    elif what in ("set_default", "drop_default"):
        t.columns[c.name] = replace(c, server_default=change.get("default") if what == "set_default" else None,
                                    default_span=span)


# PostgreSQL's spellings of a type -> SQLAlchemy's generic names, as the migrations' own columns carry them.
_SQL_TYPES = {
    "text": "TEXT", "varchar": "VARCHAR", "character varying": "VARCHAR", "char": "CHAR", "character": "CHAR",
    "bpchar": "CHAR", "citext": "CITEXT", "integer": "INTEGER", "int": "INTEGER", "int4": "INTEGER",
    "bigint": "BIGINT", "int8": "BIGINT", "smallint": "SMALLINT", "int2": "SMALLINT", "numeric": "NUMERIC",
    "decimal": "NUMERIC", "real": "REAL", "float4": "REAL", "double precision": "FLOAT", "float8": "FLOAT",
    "float": "FLOAT", "boolean": "BOOLEAN", "bool": "BOOLEAN", "date": "DATE", "interval": "INTERVAL",
    "json": "JSON", "jsonb": "JSONB", "bytea": "BYTEA", "uuid": "UUID", "inet": "INET", "cidr": "CIDR",
}


def sql_type(spelled: str) -> tuple[str, dict[str, str]]:
    """(type name, type arguments) of a type as SQL spells it (`varchar(20)`, `timestamptz`, `text[]`); a type
    it does not know (a domain, an enum, a schema's type) is marked unresolved, so no rule compares it."""
    text = " ".join(spelled.lower().split())
    if text.endswith("]"):
        return "ARRAY", {}
    base = text.split("(", 1)[0].strip()
    first = base.split(" ", 1)[0]
    if first in ("timestamp", "timestamptz", "time", "timetz"):
        aware = first.endswith("tz") or text.endswith(" with time zone")
        return ("TIMESTAMP" if first.startswith("timestamp") else "TIME"), {"timezone": str(aware)}
    if base in _SQL_TYPES:
        length = re.fullmatch(r"[^(]*\(\s*(\d+)\s*\)", text) if _SQL_TYPES[base] in ("VARCHAR", "CHAR") else None
        return _SQL_TYPES[base], {"length": length.group(1)} if length else {}
    return spelled, {"unresolved": "True"}


def _drop_table(tables: dict[str, TableFact], name: str) -> None:
    """A table goes, and its partitions with it."""
    tables.pop(name, None)
    for partition in [t.name for t in tables.values() if t.partition_of == name]:
        tables.pop(partition)


def _drop_constraint(t: TableFact, name: str, conventions: tuple[dict[str, str], ...] = ()) -> None:
    """Forget a dropped constraint, named, known by PostgreSQL's default name (users_email_key) or by the one
    the models' naming convention gave it."""
    t.constraints = [
        c for c in t.constraints
        if c.name != name and c.born_as != name and name not in c.also_named
        and not (c.name is None and _default_name(t.name, c.kind, c.columns) == name)
    ]
    t.indexes = [i for i in t.indexes if i.name != name]
    for cname, c in list(t.columns.items()):
        if c.unique and name in (_default_name(t.name, "unique", (cname,)), *convention_names(conventions, t.name, "unique", (cname,))):
            t.columns[cname] = replace(c, unique=False)
        if c.foreign_keys and (name == _default_name(t.name, "foreign_key", (cname,)) or any(
                name in convention_names(conventions, t.name, "foreign_key", (cname,), (fk.target or "").split(".")[0] or None)
                for fk in c.foreign_keys)):
            t.columns[cname] = replace(c, foreign_keys=[])


def _named(table: str, constraints: list[ConstraintFact], conventions: tuple[dict[str, str], ...] = ()) -> list[ConstraintFact]:
    """The constraints a migration creates, each unnamed one with the name PostgreSQL gives it then (see born_as)
    and the names the models' naming convention gives it (also_named)."""
    return [c if c.name is not None else replace(
        c, born_as=_default_name(table, c.kind, c.columns),
        also_named=convention_names(conventions, table, c.kind, c.columns, (c.target or "").split(".")[0] or None),
    ) for c in constraints]


def _default_name(table: str, kind: str, columns: tuple[str, ...]) -> str:
    suffix = {"unique": "key", "foreign_key": "fkey", "primary_key": "pkey", "check": "check"}.get(kind, kind)
    if kind == "primary_key":
        return f"{table}_pkey"
    return f"{table}_{'_'.join(columns)}_{suffix}"
