"""Section 5: Data Integrity: a model built with a keyword it does not have (issue 8, the models and how the code
uses them). SQLAlchemy's default declarative constructor (Flask-SQLAlchemy's `db.Model` too) takes only names that
are attributes of the class (`hasattr(cls, key)`) and raises TypeError on any other: the write fails, every time.

Read from the syntax trees of the application's modules (not tests, scripts or migrations): a call of a name that
leads, through the module's own imports and nothing else, to a mapped class of the project whose whole ancestry
dbreview reads (the project's classes, ending at SQLAlchemy's or Flask-SQLAlchemy's declarative base), with no
`__init__`, `__getattr__`, class decorator, metaclass, custom `constructor=`, `__table__` or dataclass mapping
anywhere in it. What is not known is not reported."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from analyzers.facts.model import ClassFact, Facts, Span
from analyzers.facts.names import module_name
from analyzers.facts.paths import is_test_path
from analyzers.facts.walk import children, walk
from analyzers.findings import Severity
from analyzers.rules.base import Rule
from analyzers.rules.schema import is_tooling_path, python_paths
from analyzers.rules.source_trees import source_tree

# Attributes the declarative bases give every mapped class (sqlalchemy.orm.DeclarativeBase, declarative_base(),
# Flask-SQLAlchemy's Model): hasattr() is true of them, so the constructor takes them.
_BASE_ATTRS = frozenset({
    "metadata", "registry", "query", "query_class", "awaitable_attrs", "_sa_registry", "_sa_class_manager",
})
# The bases from a library whose attributes dbreview knows: SQLAlchemy's declarative bases, AsyncAttrs, object.
_KNOWN_EXTERNAL = re.compile(r"(^|\.)(DeclarativeBase|DeclarativeBaseNoMeta|AsyncAttrs)$|^builtins\.object$")
# Library mixins whose attributes are known and which define no __init__.
_KNOWN_MIXINS = {
    "flask_login.UserMixin": frozenset({"is_active", "is_authenticated", "is_anonymous", "get_id"}),
    "flask_login.mixins.UserMixin": frozenset({"is_active", "is_authenticated", "is_anonymous", "get_id"}),
}
# Methods that change how a class is built or what it has: with one, the constructor's keywords are not known.
# (__declare_last__ and the like are read by the facts: ClassFact.mapping_hook says when they add properties.)
_HOOKS = frozenset({"__init__", "__new__", "__getattr__", "__getattribute__", "__init_subclass__", "__call__",
                    "__table__", "__mapper_cls__"})
_DUMPS = ("dict", "model_dump")
_NARROWING = ("exclude_unset", "exclude_none", "exclude_defaults")


@dataclass(frozen=True, slots=True)
class _Model:
    name: str
    attrs: frozenset[str]


class ModelBuiltWithUnknownKeyword(Rule):
    """A mapped model is built with a keyword that is not one of its attributes: a certain TypeError.

    What it checks:
        Calls that build a mapped model of the project, `User(name=...)`, where the name leads through the module's
        own imports to the class (not shadowed, not a function that returns a class): a literal keyword, a key of a
        literal `**{...}`, or a field of a pydantic model of the project spread into it (`**payload.dict()`,
        `**payload.model_dump(exclude=...)`, `**dict(payload)` with `payload` a parameter typed with the schema, or
        built in the function) that is not an attribute of the class or of any of its bases: a column, relationship,
        synonym, property, hybrid, method or any class attribute, an attribute set on the class elsewhere
        (`User.x = ...`, `setattr(User, "x", ...)`) or a backref another model adds. `exclude=`/`include=` are
        honoured; with `exclude_unset` (`exclude_none`, `exclude_defaults`) the message says it fails when the field is
        given. Only where every base of the model is the project's own or SQLAlchemy's or Flask-SQLAlchemy's
        declarative base, and none defines `__init__`, `__getattr__`, a class decorator, a metaclass, a custom
        `constructor=`, a `__table__` or a dataclass mapping (SQLModel, MappedAsDataclass, `mapped_as_dataclass`):
        their constructors have rules of their own. Tests, scripts and migrations are not read.
    Why it matters:
        SQLAlchemy's default constructor sets only names the class has (`hasattr(cls, key)`) and raises
        `TypeError: 'x' is an invalid keyword argument for User` for any other. A request schema that still carries
        a field whose column a migration dropped from the model fails every request that sets it, with a 500.
    Example:
        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            email: Mapped[str]

        def create_user(session, email):
            session.add(User(email=email, nickname="new"))   # User has no nickname: TypeError
    Instead:
        Pass only what the model has: drop the keyword, add the column to the model (and a migration), or build the
        model from the schema's fields with `exclude={"nickname"}`; keep the request schema in step with the model.
    """

    ID = "INT020"
    ITEM = "5.6"
    SEVERITY = Severity.WARNING
    _MODELS = '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
class Base(DeclarativeBase):
    pass
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
'''
    INVALID = ({"models.py": _MODELS, "app/users.py": '''
from models import User
def create_user(session, email):
    session.add(User(email=email, nickname="new"))
'''},)
    VALID = ({"models.py": _MODELS, "app/users.py": '''
from models import User
def create_user(session, email):
    session.add(User(email=email))
'''},)

    def check(self):
        symbols = self.facts.derived.get("symbols")
        index = self.facts.derived.get("classes")
        if symbols is None or index is None:
            return
        # only modules that name a mapped class (a call or an import of one must), or may add attributes to one,
        # are parsed: on a large tree most modules do neither
        named = {t.class_name for t in self.facts.tables.values() if t.class_name}
        if not named:
            return
        classes = "|".join(map(re.escape, sorted(named)))
        hint = re.compile(rf"\b(?:{classes})\b|setattr|backref")
        texts = {p: text for p in python_paths(self.facts) if p.endswith(".py") and hint.search(text := _text(self.facts, p))}
        trees = {p: t for p in texts if (t := source_tree(self.facts, p)) is not None}
        # attributes added outside a class body need `Class.x = ...`, a setattr or a backref in the module's text
        adds = re.compile(rf"\b(?:{classes})\.\w+\s*(?::[^=\n]*)?[-+*/|&]?=(?!=)|setattr|backref")
        late, anywhere, opaque = _added_elsewhere({p: (t, bool(_MAPPING.search(texts[p]))) for p, t in trees.items()
                                                   if adds.search(texts[p])})
        if opaque:
            return  # a class gets attributes by names dbreview cannot read (setattr(cls, name, ...), a backref(name))
        flask = {p: t for p, t in trees.items() if "SQLAlchemy" in texts[p]}
        models: dict[int, _Model | None] = {"flask": _plain_flask(flask)}  # type: ignore[dict-item]
        for path, tree in trees.items():
            if is_test_path(path) or is_tooling_path(path):
                continue
            yield from _Calls(self, path, tree, symbols, index, models, late, anywhere).run()


def _added_elsewhere(trees: dict[str, tuple[ast.Module, bool]]) -> tuple[dict[str, set[str]], set[str], bool]:
    """Attributes given to classes outside their bodies: `User.x = ...` and `setattr(User, "x", ...)` by the class's
    name; backref names of relationships (to any class); whether some name cannot be read."""
    late: dict[str, set[str]] = {}
    anywhere: set[str] = set()
    opaque = False
    for tree, mapping in trees.values():
        for node in walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    for t in walk(target):
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id != "self":
                            late.setdefault(t.value.id, set()).add(t.attr)
            elif isinstance(node, ast.Call):
                name = _callee(node.func)
                if name == "setattr" and len(node.args) >= 2:
                    owner, key = node.args[0], node.args[1]
                    if isinstance(owner, ast.Name) and owner.id == "self":
                        continue
                    if len(node.args) >= 3 and _rewraps(owner, key, node.args[2]):
                        continue  # setattr(cls, attr, wrap(getattr(cls, attr))): an attribute it already has
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        if isinstance(owner, ast.Name):
                            late.setdefault(owner.id, set()).add(key.value)
                        else:
                            anywhere.add(key.value)
                    elif isinstance(owner, ast.Name) and owner.id[:1].isupper():
                        late.setdefault(owner.id, set()).add("*")  # setattr(User, name, ...): any attribute
                    elif (isinstance(owner, ast.Name) and owner.id in _CLASS_WORDS or not isinstance(owner, ast.Name)
                          and re.search(r"\bcls\b|class_|__class__|\btype\(", ast.unparse(owner))) and mapping:
                        listed = _listed_classes(tree, node, owner)
                        if listed is None:
                            opaque = True  # setattr(cls, name, ...) in a module about the mapping: any class, any name
                        for name in listed or ():
                            late.setdefault(name, set()).add("*")
                for kw in node.keywords:
                    if kw.arg == "backref" and name in ("relationship", "relation"):
                        value = kw.value
                        if isinstance(value, ast.Call) and _callee(value.func) == "backref" and value.args:
                            value = value.args[0]
                        if isinstance(value, ast.Constant) and isinstance(value.value, str):
                            anywhere.add(value.value)
                        elif not (isinstance(value, ast.Constant) and value.value is None):
                            opaque = True
    return late, anywhere, opaque


# A module that deals with the mapping itself: its `setattr(cls, name, ...)` may add attributes to models.
_MAPPING = re.compile(r"sqlalchemy|declared_attr|listens_for|\bmapper\b|\.Model\b|__init_subclass__")


def _text(facts: Facts, path: str) -> str:
    return "\n".join(facts.lines(Span(path, 1, 10**9)))


def _listed_classes(tree: ast.Module, call: ast.Call, owner: ast.AST) -> list[str] | None:
    """`for cls in [A, B]: setattr(cls, ...)`: the classes the loop names (by their last name); None otherwise."""
    if not isinstance(owner, ast.Name):
        return None
    for loop in walk(tree):
        if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == owner.id \
                and any(n is call for n in walk(loop)) and isinstance(loop.iter, (ast.List, ast.Tuple)):
            names = [e.id if isinstance(e, ast.Name) else e.attr if isinstance(e, ast.Attribute) else None
                     for e in loop.iter.elts]
            return names if all(names) else None  # type: ignore[return-value]
    return None


def _builds_otherwise(node: ast.ClassDef) -> bool:
    """A class body that names its own constructor (`registry(constructor=...)`), maps properties through
    `__mapper_args__ = {"properties": ...}`, or binds names through `locals()` / `vars()`."""
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue  # a method's code runs on instances, not as the class is made
        for n in walk(stmt):
            if isinstance(n, ast.keyword) and n.arg == "constructor":
                return True
            if isinstance(n, ast.Call) and _callee(n.func) in ("locals", "vars", "exec"):
                return True
            if isinstance(n, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "properties" for k in n.keys):
                return True
    return False


def _rewraps(owner: ast.AST, key: ast.AST, value: ast.AST) -> bool:
    wanted = (ast.dump(owner), ast.dump(key))
    return any(isinstance(n, ast.Call) and _callee(n.func) == "getattr" and len(n.args) >= 2
               and (ast.dump(n.args[0]), ast.dump(n.args[1])) == wanted for n in walk(value))


def _plain_flask(trees: dict[str, ast.Module]) -> bool:
    """Is every Flask-SQLAlchemy of the project made plainly: `SQLAlchemy(...)` without `model_class=` (whose class
    may bring its own constructor), and no subclass of the extension?"""
    made = False
    for tree in trees.values():
        for node in walk(tree):
            if isinstance(node, ast.Call) and _callee(node.func) == "SQLAlchemy":
                made = True
                if any(k.arg in ("model_class", None) for k in node.keywords):
                    return False
            elif isinstance(node, ast.ClassDef) and any(_callee(b) == "SQLAlchemy" for b in node.bases):
                return False
    return made


# Names a class is held by in hooks and listeners that add attributes to it (`setattr(cls, name, ...)`).
_CLASS_WORDS = frozenset({"cls", "klass", "class_", "kls", "model", "target", "mapped_class", "model_class", "mcs"})


def _callee(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _bound_names(node: ast.AST) -> set[str]:
    """The names a function binds locally (parameters, assignments, imports, loops, nested defs)."""
    out: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        out |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
    for n in walk(node):
        if n is node:
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out |= set(n.names)
    return out


def _top_bindings(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Module-level statements (in ifs and trys too) that bind each name."""
    out: dict[str, list[ast.AST]] = {}

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for a in stmt.names:
                    out.setdefault(a.asname or a.name.split(".")[0], []).append(stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                for n in walk(stmt):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        out.setdefault(n.id, []).append(stmt)
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(stmt, part, []) or [])
                for h in getattr(stmt, "handlers", []) or []:
                    visit(h.body)
            else:
                for n in walk(stmt):
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                        out.setdefault(n.id, []).append(stmt)
    visit(tree.body)
    return out


class _Calls:
    def __init__(self, rule: ModelBuiltWithUnknownKeyword, path: str, tree: ast.Module, symbols, index,
                 models: dict, late: dict[str, set[str]], anywhere: set[str]) -> None:
        self.rule, self.facts, self.path, self.tree = rule, rule.facts, path, tree
        self.symbols, self.index, self.models, self.late, self.anywhere = symbols, index, models, late, anywhere
        self.dotted, self.is_package = module_name(path)
        self.top = _top_bindings(tree)

    def run(self):
        for node in walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            scopes = self._scopes(node)
            cls = self._class_called(node.func, scopes)
            if cls is None:
                continue
            model = self._model(cls)
            if model is None:
                continue
            func = next((f for f in scopes if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))), self.tree)
            yield from self._keywords(node, cls, model, func, scopes)

    # -- where calls are, and what their names mean ---------------------------------------------------------

    def _parents(self) -> dict[ast.AST, ast.AST]:
        if not hasattr(self, "_parent_map"):
            self._parent_map = {c: n for n in walk(self.tree) for c in children(n)}
        return self._parent_map

    def _scopes(self, node: ast.AST) -> list[ast.AST]:
        """The functions, lambdas and comprehensions around a node, innermost first."""
        parents = self._parents()
        out, at = [], parents.get(node)
        while at is not None:
            if isinstance(at, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                               ast.DictComp, ast.GeneratorExp)):
                out.append(at)
            at = parents.get(at)
        return out

    def _shadowed(self, name: str, scopes: list[ast.AST]) -> bool:
        for scope in scopes:
            key = id(scope)
            cache = self.__dict__.setdefault("_bound", {})
            if key not in cache:
                cache[key] = _bound_names(scope)
            if name in cache[key]:
                return True
        # comprehension variables and lambdas bind too
        return False

    def _qualified(self, name: str) -> str | None:
        """What a module-level name is bound to, as a qualified name: one binding only, an import or a class."""
        stmts = self.top.get(name, [])
        if len(stmts) != 1:
            return None
        stmt = stmts[0]
        if isinstance(stmt, ast.ClassDef):
            return f"{self.dotted}.{name}"
        if isinstance(stmt, ast.ImportFrom):
            alias = next(a for a in stmt.names if (a.asname or a.name) == name)
            if stmt.level:
                parts = self.dotted.split(".")
                keep = len(parts) - stmt.level + (1 if self.is_package else 0)
                if keep < 0:
                    return None
                base = ".".join(parts[:keep] + ([stmt.module] if stmt.module else []))
            else:
                base = stmt.module or ""
            return f"{base}.{alias.name}" if base else alias.name
        if isinstance(stmt, ast.Import):
            alias = next(a for a in stmt.names if (a.asname or a.name.split(".")[0]) == name)
            return alias.name if alias.asname else name
        return None

    def _resolve(self, expr: ast.AST, scopes: list[ast.AST]):
        """The Value of a name or a dotted attribute of a module-level import, where nothing local shadows it."""
        parts: list[str] = []
        while isinstance(expr, ast.Attribute):
            parts.insert(0, expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name) or self._shadowed(expr.id, scopes):
            return None
        head = self._qualified(expr.id)
        if head is None:
            return None
        return self.symbols.resolve(".".join([head, *parts]), self.dotted)

    def _class_called(self, func: ast.AST, scopes: list[ast.AST]) -> ClassFact | None:
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return None
        last = func.id if isinstance(func, ast.Name) else func.attr
        if not last[:1].isupper():
            return None
        value = self._resolve(func, scopes)
        if value is None or value.kind != "class" or value.cls is None:
            return None
        return value.cls

    # -- the model: every attribute it has, or None when that is not known ----------------------------------

    def _model(self, cls: ClassFact) -> _Model | None:
        key = id(cls)
        if key not in self.models:
            self.models[key] = self._read_model(cls)
        return self.models[key]

    def _read_model(self, cls: ClassFact) -> _Model | None:
        index = self.index
        if cls.sqlmodel_table or cls.abstract or cls.is_base or cls.mapped_by or not index.is_mapped(cls):
            return None
        attrs: set[str] = set(_BASE_ATTRS) | self.anywhere
        for a in [cls, *index.ancestors(cls)]:
            if isinstance(a, ClassFact):
                if a.sqlmodel_table or a.mapped_by or a.mapping_hook or a.view or a.versioned:  # Continuum adds `versions`
                    return None
                own = self._class_attrs(a)
                if own is None:
                    return None
                attrs |= own | {c.attr or c.name for c in a.columns} | {r.attr for r in a.relationships}
                added = self.late.get(a.name, set())
                if "*" in added:
                    return None  # setattr(User, name, ...) with a name dbreview cannot read
                attrs |= added
            elif a.kind == "base":
                if a.name not in ("declarative base", "Flask-SQLAlchemy") or self._custom_constructor(a.site):
                    return None
            elif a.kind == "external" and a.name == "sqlalchemy.Model":  # `db.Model` of a module's `db = SQLAlchemy()`
                if not self.models["flask"]:
                    return None
            elif a.kind == "external" and a.name in _KNOWN_MIXINS:
                attrs |= _KNOWN_MIXINS[a.name]
            elif not (a.kind == "external" and _KNOWN_EXTERNAL.search(a.name)):
                return None  # a library's class (a mixin, MappedAsDataclass, SQLModel) or a name not followed
        return _Model(cls.name, frozenset(attrs))

    def _custom_constructor(self, site: Span | None) -> bool:
        if site is None:
            return True  # where the base is made is not known: its constructor= neither
        text = "\n".join(self.facts.lines(Span(site.path, site.start, site.end + 5)))
        return "constructor" in text or "MappedAsDataclass" in text

    def _class_attrs(self, cls: ClassFact) -> set[str] | None:
        tree = source_tree(self.facts, cls.path)
        node = next((n for n in walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.name
                     and n.lineno <= cls.span.start <= (n.end_lineno or n.lineno)), None) if tree is not None else None
        if node is None or node.keywords or any(_callee(d) != "declarative_mixin" for d in node.decorator_list):
            return None  # a decorator (dataclass mapping, a registry) or a metaclass/keyword: not the default constructor
        if _builds_otherwise(node):
            return None
        out: set[str] = set()

        def visit(body: list[ast.stmt]) -> bool:
            for stmt in body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    out.add(stmt.name)
                elif isinstance(stmt, ast.Assign):
                    for t in stmt.targets:
                        for n in walk(t):
                            if isinstance(n, ast.Name):
                                out.add(n.id)
                elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
                    out.add(stmt.target.id)
                elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    out.update((a.asname or a.name).split(".")[0] for a in stmt.names)
                elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                    for n in walk(stmt):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                            out.add(n.id)
                    for part in ("body", "orelse", "finalbody"):
                        if not visit(getattr(stmt, part, []) or []):
                            return False
                    for h in getattr(stmt, "handlers", []) or []:
                        if not visit(h.body):
                            return False
            return True

        visit(node.body)
        if out & _HOOKS:
            return None
        return out

    # -- the keywords of one call ---------------------------------------------------------------------------

    def _keywords(self, call: ast.Call, cls: ClassFact, model: _Model, func: ast.AST, scopes: list[ast.AST]):
        where = func.name if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) else "<module>"
        span = Span(self.path, call.lineno, call.end_lineno or call.lineno)
        shown = _short(call)
        for kw in call.keywords:
            if kw.arg is not None:
                if kw.arg not in model.attrs:
                    yield self._finding(span, where, cls, kw.arg, f"`{shown}` passes `{kw.arg}=`", "")
                continue
            value = kw.value
            if isinstance(value, ast.Dict):
                for k in value.keys:
                    if isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value not in model.attrs:
                        yield self._finding(span, where, cls, k.value, f"`{shown}` passes the key \"{k.value}\"", "")
                continue
            spread = self._spread(value, func, scopes)
            if spread is None:
                continue
            schema, fields, narrowed, written = spread
            for field_name in fields:
                if field_name in model.attrs:
                    continue
                when = f" when `{field_name}` is given ({narrowed})" if narrowed else ""
                yield self._finding(
                    span, where, cls, field_name,
                    f"`{shown}` spreads the field `{field_name}` of the schema {schema}", when)

    def _finding(self, span: Span, where: str, cls: ClassFact, key: str, how: str, when: str):
        message = (f"{how} in {where + '()' if where != '<module>' else 'the module code'}, and {cls.name} has no attribute `{key}` (no column, "
                   f"relationship, property or class attribute of it or its bases, {cls.path}:{cls.span.start}): "
                   f"SQLAlchemy's default constructor raises TypeError ('{key}' is an invalid keyword argument for "
                   f"{cls.name}){when or ' on every call'}")
        return self.rule.finding(message, span, f"call:{span.path}:{where}:{cls.name}:{key}",
                                 related=[(cls.span, f"{cls.name} is declared here")])

    # -- pydantic schemas spread into the model -------------------------------------------------------------

    def _spread(self, value: ast.AST, func: ast.AST, scopes: list[ast.AST]):
        """`payload.dict(...)`, `payload.model_dump(...)`, `dict(payload)` with `payload` a pydantic model of the
        project: (its name, the fields the dump holds, the narrowing argument if any, the expression)."""
        if not isinstance(value, ast.Call):
            return None
        options: list[ast.keyword] = []
        if isinstance(value.func, ast.Attribute) and value.func.attr in _DUMPS and not value.args:
            holder, options = value.func.value, value.keywords
        elif isinstance(value.func, ast.Name) and value.func.id == "dict" and len(value.args) == 1 and not value.keywords \
                and not self._shadowed("dict", scopes) and "dict" not in self.top:
            holder = value.args[0]
        else:
            return None
        if not isinstance(holder, ast.Name) or not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        schema = self._schema_of(holder.id, func, scopes)
        if schema is None:
            return None
        name, fields = schema
        narrowed = ""
        exclude: set[str] = set()
        include: set[str] | None = None
        for kw in options:
            if kw.arg in _NARROWING:
                if not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    narrowed = f"{kw.arg}={ast.unparse(kw.value)}"
            elif kw.arg in ("exclude", "include"):
                keys = _literal_keys(kw.value)
                if keys is None:
                    return None
                if kw.arg == "exclude":
                    exclude |= keys
                else:
                    include = keys
            elif kw.arg in ("by_alias", "serialize_as_any", None) and not (
                    isinstance(kw.value, ast.Constant) and kw.value.value is False):
                return None  # keys named by aliases, or options dbreview does not read
        dumped = [f for f in fields if f not in exclude and (include is None or f in include)]
        return name, dumped, narrowed, ast.unparse(value)

    def _schema_of(self, name: str, func: ast.FunctionDef | ast.AsyncFunctionDef, scopes: list[ast.AST]):
        """The pydantic class a local name holds: a parameter annotated with it and never rebound, or a name
        assigned once in the function from `Schema(...)` / `Schema.model_validate(...)` / `Schema.parse_obj(...)`."""
        if self._shadowed(name, [s for s in scopes if s is not func]):
            return None  # bound in an enclosing function too: which one is meant is not followed
        params = {a.arg: a for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
        stores = [n for n in walk(func) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del))]
        if isinstance(func.args.vararg, ast.arg) and func.args.vararg.arg == name or \
                isinstance(func.args.kwarg, ast.arg) and func.args.kwarg.arg == name:
            return None
        if name in params:
            if stores or params[name].annotation is None:
                return None
            annotation = params[name].annotation
            if not isinstance(annotation, (ast.Name, ast.Attribute)):
                return None
            made = annotation
        else:
            if len(stores) != 1:
                return None
            assign = self._parents().get(stores[0])
            if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and assign.targets[0] is stores[0]
                    and isinstance(assign.value, ast.Call)):
                return None
            callee = assign.value.func
            if isinstance(callee, ast.Attribute) and callee.attr in ("model_validate", "parse_obj"):
                callee = callee.value
            if not isinstance(callee, (ast.Name, ast.Attribute)):
                return None
            made = callee
        value = self._resolve(made, scopes)
        if value is None or value.kind != "class" or value.module is None:
            return None
        fields = self._pydantic_fields(value, 0)
        return (value.name.rsplit(".", 1)[-1], fields) if fields is not None else None

    def _pydantic_fields(self, value, depth: int) -> list[str] | None:
        """The fields of a pydantic model of the project, its bases followed; None unless every base is read
        and the chain ends at pydantic's BaseModel."""
        if depth > 10 or value.module is None:
            return None
        tree = source_tree(self.facts, value.module.path)
        short = value.name.rsplit(".", 1)[-1]
        node = next((n for n in (tree.body if tree is not None else []) if isinstance(n, ast.ClassDef) and n.name == short), None)
        if node is None or node.decorator_list or node.keywords:
            return None
        fields: list[str] = []
        pydantic = False
        for base in node.bases:
            text = ast.unparse(base)
            resolved = self.symbols.resolve(_qualified_in(value.module, text, self.symbols) or "", value.module.module) \
                if _qualified_in(value.module, text, self.symbols) else None
            if resolved is None:
                return None
            if resolved.kind == "external" and re.fullmatch(r"pydantic(\.main)?\.BaseModel", resolved.name):
                pydantic = True
            elif resolved.kind == "class" and resolved.module is not None:
                inherited = self._pydantic_fields(resolved, depth + 1)
                if inherited is None:
                    return None
                pydantic = True
                fields += [f for f in inherited if f not in fields]
            else:
                return None
        if not pydantic:
            return None
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                field_name = stmt.target.id
                if field_name.startswith("_") or "ClassVar" in ast.unparse(stmt.annotation) or field_name == "model_config":
                    continue
                if isinstance(stmt.value, ast.Call) and any(
                        k.arg == "exclude" and not (isinstance(k.value, ast.Constant) and k.value.value in (False, None))
                        for k in stmt.value.keywords):
                    continue  # Field(exclude=True): not in the dump
                if field_name not in fields:
                    fields.append(field_name)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in ("dict", "model_dump", "__iter__"):
                return None  # the dump is the class's own
        return fields


def _qualified_in(module, text: str, symbols) -> str | None:
    """A base written in `module` (`BaseModel`, `schemas.UserBase`) as a qualified name, through its bindings."""
    head, _, rest = text.partition(".")
    ref = module.bindings.get(head)
    if ref is None:
        return None
    if ref.kind in ("name", "class"):
        return f"{ref.name}.{rest}" if rest else ref.name
    return None


def _literal_keys(node: ast.AST) -> set[str] | None:
    if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        keys = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return set(keys) if len(keys) == len(node.elts) else None
    if isinstance(node, ast.Dict):
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        return set(keys) if len(keys) == len(node.keys) else None
    return None


def _short(call: ast.Call) -> str:
    text = ast.unparse(call)
    return text if len(text) <= 80 else text[:77] + "..."
