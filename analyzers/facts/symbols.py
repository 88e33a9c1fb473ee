"""Names across modules: what `db.Model`, `Base` or `MetadataColumn` stand for in a target, followed
through imports, re-exports (a package's __init__, star imports) and assignments the way Python binds
them, without importing anything. A name that leads outside the target is external (a library's); a
name that cannot be followed is unknown, and says so rather than being guessed from how it is spelled."""

from __future__ import annotations

import builtins
import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from analyzers.facts.model import ClassFact, ColumnFact, ModuleFacts, Ref, Span
from analyzers.facts.names import module_name

_DEPTH = 40  # chains of re-exports are short; this only stops a cycle the memo has not seen yet


@dataclass(frozen=True, slots=True)
class Value:
    """What a name resolves to."""

    kind: str  # module | class | external | instance | base | function | annotated | unknown
    name: str = ""  # class, external, unknown: the qualified name (an external call ends in "()")
    cls: ClassFact | None = None  # class: its facts, when the target declares it at module level
    of: Value | None = None  # instance: its class
    ref: Ref | None = None  # instance, external call: the call; function: its Ref; local class: bases in keywords
    module: ModuleFacts | None = None  # module; function: where it is defined
    column: ColumnFact | None = None  # annotated: the mapped_column() of `Annotated[T, mapped_column(...)]`
    mixins: tuple[Value, ...] = ()  # base: classes every model of this base inherits (`cls=`, `model_class=`)
    site: Span | None = None  # base, instance: where it is made (`Base = declarative_base()`, `db = SQLAlchemy()`)


UNKNOWN = Value("unknown")

# What makes a declarative base: calling these, or subclassing these.
BASE_FACTORIES = ("declarative_base", "generate_base")
BASE_CLASSES = ("DeclarativeBase", "DeclarativeBaseNoMeta")


def _external_last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def is_flask_sqlalchemy(name: str) -> bool:
    """flask_sqlalchemy.SQLAlchemy (and its `extension` module's spelling)."""
    return name.split(".", 1)[0] == "flask_sqlalchemy" and _external_last(name) == "SQLAlchemy"


def external_is_base(name: str) -> bool:
    """An external value that is a declarative base, or a class whose subclasses are models."""
    head, _, tail = name.rpartition(".")
    if name.endswith("()"):
        return _external_last(name[:-2]) in BASE_FACTORIES
    if tail in BASE_CLASSES and head.startswith("sqlalchemy"):
        return True
    if name in ("sqlmodel.SQLModel", "sqlmodel.main.SQLModel"):
        return True
    if tail == "Model" and (head.endswith("SQLAlchemy()") and is_flask_sqlalchemy(head[:-2]) or head == "sqlalchemy"):
        return True  # db.Model of a Flask-SQLAlchemy `db` (or of one names.py already took for sqlalchemy)
    return False


# Library bases that bring no columns: a model may inherit them without anything unseen.
_PLAIN = ("sqlalchemy", "sqlmodel", "typing", "typing_extensions", "abc", "enum", "builtins", "collections",
          "dataclasses", "flask_sqlalchemy", "pydantic")


def brings_no_columns(name: str) -> bool:
    return name.split(".", 1)[0] in _PLAIN or name == "object"


STUBS = Path(__file__).parent / "stubs"
LIBRARY = "<library>/"  # the path of what a stub declares: no file of the target


@functools.cache
def library_stub(dotted: str) -> ModuleFacts | None:
    """What dbreview knows of a library module whose classes models inherit (analyzers/facts/stubs):
    read like the target's own code, never imported."""
    from analyzers.facts.python_module import extract_module

    rel = dotted.replace(".", "/")
    for candidate in (f"{rel}.pyi", f"{rel}/__init__.pyi"):
        path = STUBS / candidate
        if path.is_file():
            return extract_module(LIBRARY + candidate, path.read_text(encoding="utf-8"), module=dotted)
    return None


def library_convention(path: str) -> bool:
    """Whether the library stub at `path` (a declarative base's site) makes its MetaData with a
    naming_convention (Advanced Alchemy's registry does)."""
    dotted = path.removeprefix(LIBRARY).removesuffix(".pyi").removesuffix("/__init__").replace("/", ".")
    stub = library_stub(dotted) if path.startswith(LIBRARY) else None
    return stub is not None and any(c.name.endswith("MetaData") and "naming_convention" in c.kwargs for c in stub.calls)


class Symbols:
    """Resolves qualified names against every module of a target. `modules` are the facts read;
    `paths` every Python file of the target (read or not); `load` reads one of the others on demand
    (a package __init__ that only re-exports mentions no SQLAlchemy, so it was not read)."""

    def __init__(
        self,
        modules: Iterable[ModuleFacts],
        paths: Iterable[str] = (),
        load: Callable[[str], ModuleFacts | None] | None = None,
    ) -> None:
        self.modules: dict[str, ModuleFacts] = {}
        self.classes: dict[str, ClassFact] = {}
        for m in modules:
            self.modules.setdefault(m.module, m)
            self._register(m)
        self.unread: dict[str, str] = {}  # dotted name -> path, for files not read yet
        self.packages: set[str] = set()
        all_paths = set(paths) | {m.path for m in self.modules.values()}
        for path in sorted(all_paths):  # in order: of two files with one module's name, always the same is taken
            dotted, is_package = module_name(path)
            if is_package:
                self.packages.add(dotted)
            if dotted not in self.modules:
                self.unread.setdefault(dotted, path)
        self._load = load
        self._suffixes: dict[str, list[str]] = {}
        for dotted in [*self.modules, *self.unread]:
            parts = dotted.split(".")
            for i in range(1, len(parts)):
                # importable as its tail only from a source root: a folder that is not itself a package
                if ".".join(parts[:i]) not in self.packages:
                    self._suffixes.setdefault(".".join(parts[i:]), []).append(dotted)
        self._gone: set[str] = set()  # the target's modules whose file could not be read
        self._memo: dict[tuple[str, str], Value] = {}
        self._busy: set[tuple[str, str]] = set()

    # -- modules --------------------------------------------------------------------------------

    def module(self, dotted: str, near: str = "") -> tuple[ModuleFacts | None, bool]:
        """The module an import names, and whether it was found only as the tail of a longer path
        (`app.models` for backend/app/models.py). Of several, the one under the importer's own root."""
        name, by_tail = self._which(dotted, near)
        if name is None:
            return self._register(library_stub(dotted)), False
        return self._facts(name), by_tail

    def locate(self, dotted: str, near: str = "") -> tuple[str, ModuleFacts | None]:
        """Where an import leads, without a library's stub: ("found", its facts); ("absent", None) when no
        module of the target is called so; ("ambiguous", None) when several end so and none is under the
        importer's own root; ("unreadable", None) when its file could not be read."""
        name, _ = self._which(dotted, near)
        if name is None:
            return ("ambiguous" if len(self._suffixes.get(dotted, [])) > 1 else "absent"), None
        facts = self._facts(name)
        return ("found", facts) if facts is not None else ("unreadable", None)

    def function(self, qualname: str, near: str = "") -> tuple[ModuleFacts, str] | None:
        """The target's module that defines the function `qualname` leads to, and its name there, followed
        through imports and re-exports (`from .pg import identifier`). None: not a `def` of the target."""
        found = self._bound(qualname, near)
        return (found[0], found[1]) if found is not None and found[2].kind == "function" else None

    def string(self, qualname: str, near: str = "") -> str | None:
        """The string literal a module-level name of the target is assigned (`WORKFLOWS_TABLE = "workflows"`),
        followed through imports and re-exports. None: not a string literal of the target."""
        found = self._bound(qualname, near)
        return found[2].name if found is not None and found[2].kind == "string" else None

    def _bound(self, qualname: str, near: str) -> tuple[ModuleFacts, str, Ref] | None:
        """The module-level binding of the target's that `qualname` leads to through imports: (its module, its name
        there, what it is bound to)."""
        owner, _, name = qualname.rpartition(".")
        module = self.locate(owner, near)[1] if owner else self.modules.get(near)
        for _ in range(4):
            ref = module.bindings.get(name) if module is not None else None
            if ref is None:
                return None
            if ref.kind != "name" or "." not in ref.name:
                return module, name, ref  # type: ignore[return-value]
            owner, name = ref.name.rsplit(".", 1)
            module = self.locate(owner, module.module)[1]  # type: ignore[union-attr]
        return None

    def _which(self, dotted: str, near: str) -> tuple[str | None, bool]:
        """The target's module an import names, and whether only as the tail of a longer path."""
        if dotted in self.modules or dotted in self.unread or dotted in self._gone:
            return dotted, False
        candidates = self._suffixes.get(dotted, [])
        if len(candidates) > 1:
            same_root = [c for c in candidates if near.startswith(c[: len(c) - len(dotted)])]
            candidates = same_root if len(same_root) == 1 else []
        return (candidates[0], True) if len(candidates) == 1 else (None, False)

    def _facts(self, dotted: str) -> ModuleFacts | None:
        if dotted in self.modules:
            return self.modules[dotted]
        path = self.unread.pop(dotted, None)
        facts = self._load(path) if path is not None and self._load is not None else None
        if facts is None and path is not None:
            self._gone.add(dotted)  # a file of the target that could not be read: not a library's module
        if facts is not None:
            self.modules[dotted] = facts
            self._register(facts)
        return facts

    def _register(self, m: ModuleFacts | None) -> ModuleFacts | None:
        for c in m.classes if m is not None else ():
            self.classes.setdefault(f"{c.module}.{c.name}", c)
        return m

    # -- names ----------------------------------------------------------------------------------

    def resolve(self, qualname: str, near: str = "") -> Value:
        """What a qualified name (`app.models.db.Model`) stands for, seen from module `near`."""
        key = (qualname, near)
        if key in self._memo:
            return self._memo[key]
        if key in self._busy or len(self._busy) > _DEPTH:
            return UNKNOWN  # a cycle of re-exports
        self._busy.add(key)
        try:
            value = self._resolve(qualname, near)
        finally:
            self._busy.discard(key)
        self._memo[key] = value
        return value

    def _resolve(self, qualname: str, near: str) -> Value:
        parts = qualname.split(".")
        for i in range(len(parts), 0, -1):
            head = ".".join(parts[:i])
            mod, by_tail = self.module(head, near)
            if mod is not None:
                break
        else:
            return Value("external", qualname)
        value = self._rebound(parts[:i], near) or Value("module", head, module=mod)
        for n, attr in enumerate(parts[i:]):
            called = attr.endswith("()")  # a base written as a call: `class Thing(make_base())`
            value = self.attr(value, attr.removesuffix("()"))
            if called:
                value = self.call(value, Ref("call"), mod)
            if n == 0 and by_tail and value.kind == "unknown" and not mod.errors:
                return Value("external", qualname)  # a library that shares a folder's name (`sqlalchemy`)
        return value

    def _rebound(self, parts: list[str], near: str) -> Value | None:
        """What `pkg.sub` stands for when the package binds the name `sub` itself: `from .db import db` in
        pkg/__init__.py makes `pkg.db` that object, not the submodule pkg/db.py (Python sets the package's
        attribute to the submodule on import, then the package's own binding replaces it)."""
        if len(parts) < 2 or ".".join(parts[:-1]) not in self.packages:
            return None
        package, _ = self.module(".".join(parts[:-1]), near)
        ref = package.bindings.get(parts[-1]) if package is not None else None
        if ref is None or (ref.kind == "name" and ref.name == ".".join(parts)):
            return None  # not bound, or bound to the submodule itself (`from . import db`)
        value = self._member(package, parts[-1], set())
        return None if value.kind in ("unknown", "module") else value

    def attr(self, value: Value, name: str) -> Value:
        if value.kind == "module" and value.module is not None:
            return self._member(value.module, name, set())
        if value.kind == "external":
            return Value("external", f"{value.name}.{name}", ref=value.ref if name == "Model" else None)
        if value.kind == "instance" and value.of is not None:
            if name == "Model" and self.is_flask(value.of):
                return replace(self._base(value.ref, value.module, "Flask-SQLAlchemy"), site=value.site)
            if self.is_flask(value.of):
                return Value("external", f"sqlalchemy.{name}")  # db.Column, db.String: SQLAlchemy's own
            if value.of.kind == "external":
                return Value("external", f"{value.of.name}().{name}")
        return Value("unknown", f"{value.name}.{name}" if value.name else name)

    def _member(self, mod: ModuleFacts, name: str, seen: set[str]) -> Value:
        ref = mod.bindings.get(name)
        if ref is not None:
            value = self.value(ref, mod)
            if value.kind in ("base", "instance") and value.site is None and name in mod.binding_spans:
                value = replace(value, site=mod.binding_spans[name])
            return value
        seen.add(mod.module)
        for star in mod.stars:
            other, _ = self.module(star, mod.module)
            if other is not None and other.module not in seen and not name.startswith("_"):
                found = self._member(other, name, seen)
                if found.kind != "unknown":
                    return found
        if hasattr(builtins, name):
            return Value("external", f"builtins.{name}")  # `class Thing(object)`: a name no module binds
        return Value("unknown", f"{mod.module}.{name}")

    def value(self, ref: Ref, mod: ModuleFacts) -> Value:
        """What a Ref, read in module `mod`, stands for."""
        kind = ref.kind
        if kind == "name":
            return self.resolve(ref.name, mod.module)
        if kind == "attr" and ref.of is not None:
            return self.attr(self.value(ref.of, mod), ref.name)
        if kind == "call" and ref.of is not None:
            return self.call(self.value(ref.of, mod), ref, mod)
        if kind == "class":
            return Value("class", ref.name, cls=self.classes.get(ref.name), ref=ref, module=mod)
        if kind == "function":
            return Value("function", ref=ref, module=mod)
        if kind == "annotated":
            return Value("annotated", column=ref.column)
        return UNKNOWN

    def call(self, callee: Value, ref: Ref, mod: ModuleFacts) -> Value:
        if callee.kind == "class":
            return Value("instance", callee.name, of=callee, ref=ref, module=mod)
        if callee.kind == "external":
            value = Value("external", f"{callee.name}()", ref=ref)
            if external_is_base(value.name):
                return self._base(ref, mod)
            if is_flask_sqlalchemy(callee.name):
                return Value("instance", callee.name, of=callee, ref=ref, module=mod)
            return value
        if callee.kind == "function" and callee.ref is not None and callee.ref.of is not None and callee.module is not None:
            return self.value(callee.ref.of, callee.module)  # the app's own factory: what it returns
        return UNKNOWN

    def _base(self, call: Ref | None, mod: ModuleFacts | None, kind: str = "declarative base") -> Value:
        """A declarative base; `declarative_base(cls=Mixin)` and `SQLAlchemy(model_class=...)` add to it."""
        mixins: list[Value] = []
        for key, kw in call.keywords if call is not None and mod is not None else ():
            if key in ("cls", "model_class"):
                given = self.value(kw, mod)  # type: ignore[arg-type]
                mixins.extend([*given.mixins] if given.kind == "base" else [given])
        return Value("base", kind, mixins=tuple(mixins))

    # -- what a value is ------------------------------------------------------------------------

    def bases_of(self, value: Value) -> list[Value]:
        """The direct bases of a class value."""
        if value.cls is not None:
            return [self.resolve(b, value.cls.module) for b in value.cls.bases]
        if value.ref is not None and value.module is not None:  # a class made inside a function
            return [self.value(r, value.module) for key, r in value.ref.keywords if key == "base"]
        return []

    def is_flask(self, value: Value, depth: int = 0) -> bool:
        """Is this Flask-SQLAlchemy's extension class, or a subclass of it?"""
        if value.kind == "external":
            return is_flask_sqlalchemy(value.name)
        if value.kind == "class" and depth < 12:
            return any(self.is_flask(b, depth + 1) for b in self.bases_of(value))
        return False

    def is_declarative(self, value: Value) -> bool:
        """A declarative base or a class from which models inherit the mapping."""
        return value.kind == "base" or (value.kind == "external" and external_is_base(value.name))
