"""Whether a table grows with use, as far as the code tells: where the application (not its migrations, tests,
scripts, seed or fixture loaders, command-line tools) adds rows to it, and whether the migrations seed it. A table
nothing of the application adds rows to holds what the migrations (or an operator) put there: a catalog, settings, a
handful of rows, which a scan reads as fast as an index would. Other rules may weigh a table's size by it too.

What counts as adding rows: the mapped class constructed (`Tag(...)`, `cls(...)` in its own methods: an object made
to be added; a subclass of it with no table of its own, `RpmBuild(...)`, or with one, `Folder(...)` of `class Folder(Node)`
with `__tablename__ = "folders"`, whose row is a row of nodes too; a local bound to what a call picks given the class,
`bcls = infer_class(Build, info)` then `bcls(...)`; an attribute a class holds it in, `frame_model = models.Frame` in its
body or `self.frame_model = Frame`, called in its methods, `self.frame_model(**kwargs)`), a Core insert (`insert(T)`, `t.insert()`, `T.__table__.insert()`, `bulk_insert_mappings(T, ...)`), SQL
`INSERT INTO t` sent by the application, and for an association table, a relationship through it (`secondary=`)
that the code appends to, extends or assigns.

A table named as configuration (`configuration_named`: its class's or its own name ends in Rule, Template, Settings...)
holds rows people write by hand: a few, as far as a name tells, which is all it goes by."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.model import Facts, Span, TableFact
from analyzers.facts.paths import is_test_path, tooling_kind
from analyzers.facts.core_tables import CORE
from analyzers.facts.names import all_statements, module_name
from analyzers.facts.walk import children
from analyzers.rules.code_use import mapped_names, subclass_tables
from analyzers.rules.outside_writes import bulk_insert_table, outside_inserts
from analyzers.rules.schema import python_paths
from analyzers.rules.source_trees import source_tree

# A function whose rows are set-up data, not use: `seed_roles`, `load_fixtures`, `create_default_settings`.
_SETUP_FUNCTION = re.compile(r"seed|fixture|populate|bootstrap|init_db|initial_data|defaults?_|_defaults?\b|sample|demo",
                             re.I)
_INSERT_CALLS = frozenset(("insert", "bulk_insert_mappings", "bulk_insert"))  # their first argument: the table
# Generic construction, `self.model(**data)` in a repository base class: rows of a class dbreview cannot tell.
_GENERIC = frozenset(("model", "model_class", "model_cls", "orm_model", "db_model", "entity", "table"))
_LINK_ADDS = frozenset(("append", "extend", "add", "insert", "update"))
# A class's own factories (`Invite.create(db, data=...)`, SQLModel's `Item.model_validate(data)`): a row made.
_FACTORIES = frozenset(("create", "create_or_update", "get_or_create", "bulk_create", "create_many", "new", "model_validate",
                        "from_orm", "parse_obj", "model_construct"))
# What a class handed over is made into rows by: a repository, a data access object, a save or create helper
# (`RepositoryGeneric(session, Item)`, `table_dict_save(data, Token)`, `SQLAlchemyUserDatabase(session, User, Account)`).
_MAKER = re.compile(r"Repositor|Repo\b|Repo[A-Z]|CRUD|Crud|DAO|Dao\b|Database|^save|_save|^create|_create|^insert|_insert")


# The last word of a name that makes it configuration: rules, templates, settings that people write by hand, a few.
# Not label or tag: rows of a link that labels or tags something (`book_labels`) grow with what they label.
_CONFIG_WORD = re.compile(r"(rule|template|config|configuration|setting|preference|polic(?:y|ie)|definition|categor(?:y|ie)"
                          r"|filter|webhook|snippet|preset|type)s?", re.I)
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def configuration_named(table: TableFact) -> tuple[str, str] | None:
    """(the name, its last word) where the class's or the table's name ends in a word of configuration
    (`ExtractionRule`, `search_settings`, `assoc_notification_filters`); None where a name says its rows are a
    user's own (`user_preferences`: they grow with the users). The name is all it goes by, and the finding says so."""
    words = [(name, _WORDS.findall(name)) for name in (table.class_name, table.name) if name]
    if any(w.lower() in ("user", "users") for _, ws in words for w in ws):
        return None
    return next(((name, ws[-1]) for name, ws in words if ws and _CONFIG_WORD.fullmatch(ws[-1])), None)


@dataclass(frozen=True, slots=True)
class Growth:
    adds: tuple[Span, ...]  # where the application adds rows
    seeds: tuple[Span, ...]  # the migrations' inserts into it
    generic: Span | None  # a construction of a class dbreview cannot tell (`self.model(**data)`), if any in the code


def growth(facts: Facts, table: TableFact) -> Growth:
    """What the code tells of how `table` gets its rows."""
    found = _found(facts)
    inserts = outside_inserts(facts).get(table.name.lower(), [])
    seeds = tuple(i.span for i in inserts if _migration(i.span.path) and not i.by_database)
    seeds += tuple(found["bulk"].get(table.name.lower(), []))  # type: ignore[union-attr]
    adds = [span for t in (table.name, *found["joined"].get(table.name, ())) for span in found["adds"].get(t, [])]  # type: ignore[union-attr]
    adds += [i.span for i in inserts if (not _migration(i.span.path) and _application(i.span.path)) or i.by_database]
    return Growth(tuple(adds), seeds, found["generic"])  # type: ignore[arg-type]


def _migration(path: str) -> bool:
    return (tooling_kind(path) or "").startswith("migration") and not is_test_path(path)


def _application(path: str) -> bool:
    """Not tests, scripts, migrations or commands; a connector's or an integration's code adds rows as any other."""
    return not is_test_path(path) and "connector" in (tooling_kind(path) or "connector")


def _found(facts: Facts) -> dict[str, object]:
    cached = facts.derived.get("growth")
    if cached is None:
        cached = facts.derived["growth"] = _scan(facts)
    return cached  # type: ignore[return-value]


def _scan(facts: Facts) -> dict[str, object]:
    mapped = mapped_names(facts)
    by_name = {name: ts[0] for name, ts in mapped.items() if len(ts) == 1}
    shared = {name: ts for name, ts in mapped.items() if len(ts) > 1 and name.isidentifier()}
    by_name.update(subclass_tables(facts, by_name))
    classes = {name for name in by_name if name.isidentifier()}
    variables = {name.removeprefix(CORE): t for name, t in by_name.items() if name.startswith(CORE)}
    # A relationship's name -> the association tables it goes through: of each class that has one of that name, as
    # dbreview cannot tell the class of the object whose relationship the code adds to.
    links: dict[str, list[TableFact]] = {}
    for t in facts.tables.values():
        for rel in t.relationships:
            link = _link(facts, rel.secondary, {**variables, **by_name})
            if link is not None:
                for name in (rel.attr, rel.back_populates):
                    if name and link not in links.setdefault(name, []):
                        links[name].append(link)
    # A word that names a mapped class, or is a word of a table's name, is about the project's models: `samples.py`,
    # `create_samples()` where Sample is a model, `sample_summary_dao.py` beside a table sample_order_status, add
    # rows: they are no demo data
    own = {n.lower() for t in facts.tables.values()
           for n in (t.name, t.class_name or t.name, f"{t.class_name or t.name}s", *t.name.split("_"))}
    names = {*classes, *variables, *links, *shared}  # shared too: a file making `models_cdr.Ticket(...)` is read
    words = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
                       + r")\b") if classes or variables or links else None
    adds: dict[str, list[Span]] = {}
    generic: Span | None = None
    for path in python_paths(facts):
        if not _application(path) or words is None or _set_up(path.rsplit("/", 1)[-1], own):
            continue  # a seed or fixture module's rows are set-up data: nothing in it counts
        text = "\n".join(facts.lines(Span(path, 1, 10_000_000)))
        # Nothing it could add rows by; or, with no name of a class in it, only a `self.model(**data)` it could make
        # rows by: none to look for once one is found, nor without `**` (Python folds some other letters into ASCII
        # names: a file with them is read).
        if not words.search(text) and ("model" not in text and "cls(" not in text
                                       or text.isascii() and (generic is not None or "**" not in text)):
            continue
        tree = source_tree(facts, path)
        if tree is None:
            continue
        picked: dict[tuple[str | None, str], TableFact] = {}  # (function, local) -> the table of a class it was picked from
        # (class, attribute) -> the table of the mapped class it holds (`frame_model = models.Frame` in the class body,
        # `self.frame_model = Frame`), and the calls of such an attribute in the class's methods (`self.frame_model(...)`)
        held: dict[tuple[str | None, str], TableFact] = {}
        held_calls: list[tuple[str | None, str, Span]] = []
        named, known = _aliased(tree, by_name, classes)
        imported = _imported_names(tree) if shared else {}
        for node, owner, function in _calls_and_assigns(tree):
            if _set_up(function or "", own):
                continue
            span = Span(path, node.lineno, node.lineno)
            if (chosen := _picked_class(node, by_name, classes)) is not None:
                picked[(function, chosen[0])] = chosen[1]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (function, node.func.id) in picked:
                adds.setdefault(picked[(function, node.func.id)].name, []).append(span)  # `bcls(nvr=...)`
            elif owner and (attr := _held_attribute(node, function, named, known)) is not None:
                held[(owner, attr[0])] = attr[1]
            elif owner and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and _last(node.func.value) in ("self", "cls"):
                held_calls.append((owner, node.func.attr, span))
            for table in _adds(node, owner, named, known, variables, links):
                adds.setdefault(table.name, []).append(span)
            if isinstance(node, ast.Call) and (mine := _shared_class(node.func, shared, imported)) is not None:
                adds.setdefault(mine.name, []).append(span)  # `models_cdr.Ticket(...)` beside another module's Ticket
            if generic is None and isinstance(node, ast.Call) and _generic(node, owner not in classes):
                generic = span
        for owner, attr, span in held_calls:
            if (owner, attr) in held:
                adds.setdefault(held[(owner, attr)].name, []).append(span)
    return {"adds": adds, "generic": generic, "bulk": _bulk_inserts(facts), "joined": _joined_children(facts, by_name)}


def _set_up(name: str, own: set[str]) -> bool:
    """A module's or function's name says it makes set-up data (`seed_users`, `sample_data.py`), its words that name a
    model (`own`, lower case) left out."""
    return _SETUP_FUNCTION.search(re.sub(r"[^\W_]+", lambda w: "" if w[0].lower() in own else w[0], name)) is not None


def _held_attribute(node: ast.AST, function: str | None, named: dict[str, TableFact], known: set[str]
                    ) -> tuple[str, TableFact] | None:
    """`frame_model = models.Frame` in a class's body, `self.frame_model = Frame` in its methods: (the attribute, the
    table of the mapped class it holds, not a row of it)."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, (ast.Name, ast.Attribute))
            and _last(node.value) in known):
        return None
    target = node.targets[0]
    if isinstance(target, ast.Name) and function is None:
        return target.id, named[_last(node.value)]
    if isinstance(target, ast.Attribute) and _last(target.value) == "self":
        return target.attr, named[_last(node.value)]
    return None


def _joined_children(facts: Facts, by_name: dict[str, TableFact]) -> dict[str, list[str]]:
    """A mapped class's table -> the tables of its mapped subclasses with tables of their own (joined-table
    inheritance, `class Folder(Node)` with `__tablename__ = "folders"`): a row of one is a row of the parent's too."""
    index = facts.derived.get("classes")
    out: dict[str, list[str]] = {}
    for cls in getattr(index, "all", ()):
        mine = by_name.get(cls.name)
        if mine is None or not index.is_mapped(cls):  # type: ignore[union-attr]
            continue
        for a in index.ancestors(cls):  # type: ignore[union-attr]
            parent = by_name.get(getattr(a, "name", ""))
            if parent is not None and parent is not mine and index.is_mapped(a):  # type: ignore[union-attr, arg-type]
                out.setdefault(parent.name, []).append(mine.name)
    return out


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """The module's imported names -> what they name, qualified (`models_cdr` -> `app.modules.cdr.models_cdr`)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.update((a.asname or a.name, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            out.update((a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0]) for a in node.names)
    return out


def _shared_class(func: ast.expr, shared: dict[str, list[TableFact]], imported: dict[str, str]) -> TableFact | None:
    """The table a constructor call means where two modules map a class of that name: the one its import names."""
    name = _last(func)
    if name not in shared:
        return None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        qualified = f"{imported.get(func.value.id, func.value.id)}.{name}"
    else:
        qualified = imported.get(name, "")
    found = [t for t in shared[name] if qualified and (f"{module_name(t.path)[0]}.{name}".endswith(qualified)
                                                        or qualified.endswith(f"{module_name(t.path)[0]}.{name}"))]
    return found[0] if len(found) == 1 else None


def _picked_class(node: ast.AST, by_name: dict[str, TableFact], classes: set[str]) -> tuple[str, TableFact] | None:
    """`bcls = ContentType.infer_content_class(Build, info)`: a local bound to what a call picks given a mapped class
    (a subclass of it, or itself): (the local, that class's table). Calling the local makes a row of the table."""
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call) and _last(node.value.func) not in classes):
        return None
    given = [_last(a) for a in [*node.value.args, *(k.value for k in node.value.keywords)] if _last(a) in classes]
    return (node.targets[0].id, by_name[given[0]]) if len(given) == 1 else None


def _bulk_inserts(facts: Facts) -> dict[str, list[Span]]:
    """`op.bulk_insert(sa.table("t", ...), rows)`, or of a variable the revision binds to one: table -> where (those
    whose table the replay names are among outside_inserts already)."""
    out: dict[str, list[Span]] = {}
    for rev in facts.revisions:
        for op in rev.upgrade:
            if op.name == "bulk_insert" and not op.table and (table := bulk_insert_table(facts, op)) is not None:
                out.setdefault(table.lower(), []).append(op.span)
    return out


def _aliased(tree: ast.Module, by_name: dict[str, TableFact], classes: set[str]) -> tuple[dict[str, TableFact], set[str]]:
    """The module's names for the mapped classes: theirs, and those it imports them under
    (`from app.models import UserPreference as PrefTable`: `PrefTable(...)` adds a row of user_preferences)."""
    aliases = {a.asname: by_name[a.name] for node in all_statements(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names if a.asname and a.name in classes and a.asname not in by_name}
    return ({**by_name, **aliases}, classes | set(aliases)) if aliases else (by_name, classes)


def _link(facts: Facts, secondary: str | None, variables: dict[str, TableFact]) -> TableFact | None:
    """The association table a `secondary=` names: by its name, its Table's variable, or its class's `__table__`."""
    name = (secondary or "").strip("'\" ").removesuffix(".__table__").split(".")[-1]
    return (facts.tables.get(name) or variables.get(name)) if name else None


def _calls_and_assigns(tree: ast.Module):
    """Each call and attribute assignment, with the class and the function it is in, in preorder. A stack and the
    node's exact class (ast.parse makes no subclasses), not nested generators and isinstance: the walk meets every
    node of most application files."""
    stack: list[tuple[ast.AST, str | None, str | None]] = [(child, None, None) for child in reversed(children(tree))]
    while stack:
        node, owner, function = stack.pop()
        cls = node.__class__
        if cls is ast.Call or cls is ast.Assign or cls is ast.AugAssign or cls is ast.Subscript:
            yield node, owner, function
        elif cls is ast.ClassDef:
            owner = node.name
        elif cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
            function = node.name
        kids = children(node)
        kids.reverse()
        stack.extend([(child, owner, function) for child in kids])


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Subscript):  # `Repository[User, UUID](session, User)`: the generic's own name
        node = node.value
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _adds(node: ast.AST, owner: str | None, by_name: dict[str, TableFact], classes: set[str],
          variables: dict[str, TableFact], links: dict[str, list[TableFact]]):
    if isinstance(node, ast.Subscript):  # `class ItemRepo(CRUDBase[Item, ItemIn])`: a repository of the class
        if _MAKER.search(_last(node.value)):
            for arg in _elements(node.slice):
                if _last(arg) in classes:
                    yield by_name[_last(arg)]
        return
    if isinstance(node, (ast.Assign, ast.AugAssign)):  # `post.tags = [...]`, `post.tags += [...]`: link rows
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Attribute) and target.attr in links and not isinstance(node.value, ast.Constant):
                yield from links[target.attr]
            elif isinstance(target, ast.Name) and target.id in _GENERIC and owner and _last(node.value) in classes:
                yield by_name[_last(node.value)]  # a repository's class
        return
    assert isinstance(node, ast.Call)
    func, name = node.func, _last(node.func)
    if name in classes and not (isinstance(func, ast.Attribute) and _last(func.value) in ("self", "cls")):
        yield by_name[name]
        for k in node.keywords:  # `Team(members=[...])`: link rows through a relationship
            if k.arg in links:
                yield from links[k.arg]
    elif name in _FACTORIES and isinstance(func, ast.Attribute) and _last(func.value) in classes:
        yield by_name[_last(func.value)]
    elif name == "cls" and isinstance(func, ast.Name) and owner in classes:
        yield by_name[owner]  # type: ignore[index]
    elif (name in _INSERT_CALLS or name.endswith("_insert")) and node.args and (table := _table_of(node.args[0], by_name, classes, variables)):
        yield table
    elif name == "insert" and isinstance(func, ast.Attribute) and (table := _table_of(func.value, by_name, classes, variables)):
        yield table
    elif name in _LINK_ADDS and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
            and func.value.attr in links and node.args:  # `post.tags.add(t)`; a local `tags.add(t)` is a set's
        yield from links[_last(func.value)]
    elif _MAKER.search(name) and (handed := [a for a in [*node.args, *(k.value for k in node.keywords)] if _last(a) in classes]):
        yield from (by_name[_last(a)] for a in handed)


def _elements(node: ast.AST) -> list[ast.AST]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _table_of(node: ast.AST, by_name: dict[str, TableFact], classes: set[str], variables: dict[str, TableFact]) -> TableFact | None:
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        node = node.value
    name = _last(node)
    return by_name[name] if name in classes else variables.get(name)


def _generic(call: ast.Call, unmapped: bool) -> bool:
    """`self.model(**data)`, `model(**kwargs)`: a repository's construction of whatever class it is given; `cls(**data)`
    in a base class that is not mapped itself (`Base.create`): of whichever subclass it is called on."""
    name = _last(call.func)
    return (name in _GENERIC or name == "cls" and unmapped) and any(k.arg is None for k in call.keywords)


def no_adds_said(table: TableFact) -> str:
    """What a scan found of a table nothing adds rows to, in a finding's words, its parenthesis left open for more."""
    made = f"no {table.class_name} constructed, " if table.class_name else ""
    return f"dbreview found no application code that adds rows to {table.name} ({made}no insert into it"


def stays_small(facts: Facts, name: str) -> tuple[str, list[tuple[Span, str]]] | None:
    """Why the table `name` holds no more rows than it starts with, in a finding's words, with the place that seeds
    it: no application code adds rows to its model. None where something does, where a construction of a class
    dbreview cannot tell (`self.model(**data)`) may, or where no model maps the table by a name of its own (a class
    name two tables share: which one the code constructs is not told)."""
    table = facts.tables.get(name)
    if table is None or not any(ts == [table] for ts in mapped_names(facts).values()):
        return None
    found = growth(facts, table)
    if found.adds or found.generic is not None:
        return None
    seeded = f", and only the migrations seed it ({found.seeds[0].path}:{found.seeds[0].start})" if found.seeds else ""
    return (f"{no_adds_said(table)}){seeded}",
            [(found.seeds[0], f"seeds {name}")] if found.seeds else [])
