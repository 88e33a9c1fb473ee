"""What running a module imports, read without running it, and how far that reaches in a target.

Every import statement counts wherever it sits (inside a function, a branch, a try) except under
`if TYPE_CHECKING:`, which never runs: a module imported only if a function is called is still taken
as imported, so that a claim that something is *not* imported rests on no import at all. An import by a
name computed at run time (importlib, a pkgutil walk over a package, `__import__`, werkzeug's
`import_string`, oslo's `try_import`) is recorded as such: what it loads cannot be known statically."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzers.facts.model import ModuleFacts, Span, Unread
from analyzers.facts.names import BODIES, absolute, const_str, last

if TYPE_CHECKING:
    from analyzers.facts.symbols import Symbols

# Calls that import modules by a name given at run time (a constant name is an ordinary import).
_DYNAMIC = ("import_module", "__import__", "import_string", "walk_packages", "iter_modules", "find_modules",
            "exec_module", "load_source", "load_module", "run_path", "run_module", "spec_from_file_location",
            "autodiscover_modules", "load_entry_point", "try_import",
            "entry_points", "iter_entry_points")  # the modules installed packages declare: which, only run time tells
# these take the module's name as first argument (oslo's `importutils.try_import` returns `default` where it is missing)
_NAMED = ("import_module", "__import__", "import_string", "try_import")
_MAY_BE_DYNAMIC = re.compile("|".join(_DYNAMIC))
_MAX_MODULES = 5000  # an import graph this large is followed no further: the rest is said to be unknown


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # absolute dotted name
    names: tuple[str, ...]  # `from module import a, b`: each may be a submodule; "*" for a star import
    line: int


@dataclass(slots=True)
class ImportFacts:
    imports: list[Import] = field(default_factory=list)
    dynamic: list[tuple[int, str]] = field(default_factory=list)  # (line, the call as written)
    all_names: tuple[str, ...] | None = None  # `__all__` when it is a literal list of strings
    all_computed: int = 0  # the line of an `__all__` built at run time (`[basename(f)[:-3] for f in glob(...)]`)


def read_imports(tree: ast.Module, module: str, is_package: bool, text: str) -> ImportFacts:
    out = ImportFacts()
    # `if TYPE_CHECKING:` needs the name in the text (or, for a name written in other letters that Python
    # folds to it, non-ASCII text): elsewhere no test is unparsed to look for it.
    type_checking = "TYPE_CHECKING" in text or not text.isascii()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            out.imports.extend(Import(a.name, (), node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.imports.append(Import(absolute(module, is_package, node), tuple(a.name for a in node.names), node.lineno))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)) and all(const_str(e) for e in node.value.elts):
                out.all_names = tuple(const_str(e) for e in node.value.elts)  # type: ignore[misc]
            else:
                out.all_computed = node.lineno
        if type_checking and isinstance(node, ast.If) and last(ast.unparse(node.test)) == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        for name in node._fields:
            if name in BODIES:
                todo.extend(getattr(node, name))
    if _MAY_BE_DYNAMIC.search(text):
        _dynamic(tree, out)
    out.imports.sort(key=lambda i: i.line)
    return out


def _dynamic(tree: ast.Module, out: ImportFacts) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
        if name not in _DYNAMIC:
            continue
        named = const_str(node.args[0]) if node.args and name in _NAMED else None
        if named and not named.startswith(".") and all(k.arg == "default" for k in node.keywords):
            out.imports.append(Import(named.split(":")[0], (), node.lineno))  # import_module("app.models"): a plain import
        else:
            out.dynamic.append((node.lineno, ast.unparse(node)[:120]))


@dataclass(slots=True)
class Reach:
    """What running one module imports within the target, directly or through what it imports."""

    paths: set[str] = field(default_factory=set)  # the target's files that run
    unresolved: list[Unread] = field(default_factory=list)  # imports that may lead into the target but could not be followed
    dynamic: list[Span] = field(default_factory=list)  # imports by a name computed at run time


def reach(symbols: Symbols, start: ModuleFacts) -> Reach:
    """Follow `start`'s imports through the target's modules (analyzers/facts/symbols.py finds them, as an
    import from a source root would: `app.models` for backend/app/models.py). Importing `a.b.c` runs the
    packages `a` and `a.b` first; `from a import b` imports the submodule `a.b` when there is one; a star
    import of a package imports the submodules its literal `__all__` names; one built at run time is dynamic."""
    found = Reach(paths={start.path})
    todo = [start]

    def run(module: ModuleFacts) -> None:
        for m in _with_packages(symbols, module):
            if m.path not in found.paths:
                found.paths.add(m.path)
                todo.append(m)

    while todo and len(found.paths) <= _MAX_MODULES:
        m = todo.pop()
        if m.errors and m is not start:
            line, why = m.errors[0]
            found.unresolved.append(Unread("file", Span(m.path, line or 1, line or 1), why))
        if m.imports is None:
            continue
        found.dynamic.extend(Span(m.path, line, line) for line, _ in m.imports.dynamic)
        for imp in m.imports.imports:
            for dotted, required in _candidates(imp):
                status, other = symbols.locate(dotted, m.module)
                if status == "found" and other is not None:
                    run(other)
                    for name in (other.imports.all_names or ()) if "*" in imp.names and other.imports else ():
                        status_, submodule = symbols.locate(f"{dotted}.{name}", m.module)
                        if status_ == "found" and submodule is not None:
                            run(submodule)
                    if "*" in imp.names and other.imports and other.imports.all_computed:  # its submodules, as globbed
                        found.dynamic.append(Span(other.path, other.imports.all_computed, other.imports.all_computed))
                elif status in ("ambiguous", "unreadable") and required:
                    why = (f"`{dotted}` may be one of several modules of the repository" if status == "ambiguous"
                           else f"`{dotted}` is a file of the repository that could not be read")
                    found.unresolved.append(Unread("file", Span(m.path, imp.line, imp.line), why))
    if todo:
        found.unresolved.append(Unread("file", Span(start.path, 1, 1), f"its imports were followed through {_MAX_MODULES} modules and no further"))
    return found


def _candidates(imp: Import) -> list[tuple[str, bool]]:
    """The modules an import may run: its module (required), and each name of a `from` import that may be
    a submodule (only if it is one)."""
    return [(imp.module, True), *((f"{imp.module}.{n}", False) for n in imp.names if n != "*")]


def _with_packages(symbols: Symbols, module: ModuleFacts) -> list[ModuleFacts]:
    """The module and the packages above it, which Python runs first (`a` and `a.b` before `a.b.c`)."""
    out = [module]
    parts = module.module.split(".")
    for i in range(1, len(parts)):
        package = ".".join(parts[:i])
        if package in symbols.packages:
            status, facts = symbols.locate(package, module.module)
            if status == "found" and facts is not None:
                out.append(facts)
    return out
